#pragma once
// A thread that keeps a claim alive whatever the claiming thread is doing: a long evaluation, a slow batch, a
// process stopped and continued. It calls `beat` every `interval` seconds and `poll` every 100 ms (for work that
// must happen promptly, such as honouring a second Ctrl-C while the main thread is stuck), until destroyed.
// Both run on this thread only, so each may own an SQLite connection of its own.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace incept {

class HeartbeatThread {
 public:
  HeartbeatThread(std::function<void()> beat, double interval_seconds, std::function<void()> poll = {});
  ~HeartbeatThread();  // stops and joins
  HeartbeatThread(const HeartbeatThread&) = delete;
  HeartbeatThread& operator=(const HeartbeatThread&) = delete;

 private:
  void loop();
  std::function<void()> beat_, poll_;
  double interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace incept
