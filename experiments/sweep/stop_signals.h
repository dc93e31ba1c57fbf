#pragma once
// SIGINT and SIGTERM caught while a sweep runs, so it can pass them on to its trainings and wait for their
// checkpoints instead of dying; the previous handlers come back when it ends.
#include <signal.h>

namespace incept {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // The signal received since the last call, or 0.
  int take();

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace incept
