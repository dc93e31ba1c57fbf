#include "experiments/store/heartbeat_thread.h"

#include <chrono>

namespace incept {

HeartbeatThread::HeartbeatThread(std::function<void()> beat, double interval_seconds, std::function<void()> poll)
    : beat_(std::move(beat)), poll_(std::move(poll)), interval_(interval_seconds), thread_([this] { loop(); }) {}

HeartbeatThread::~HeartbeatThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HeartbeatThread::loop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_));
  auto next_beat = Clock::now() + interval;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    if (poll_) poll_();
    if (Clock::now() >= next_beat) {
      beat_();
      next_beat = Clock::now() + interval;
    }
    lock.lock();
  }
}

}  // namespace incept
