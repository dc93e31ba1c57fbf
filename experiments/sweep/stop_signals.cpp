#include "experiments/sweep/stop_signals.h"

#include <csignal>

namespace incept {

namespace {

volatile std::sig_atomic_t g_received = 0;

extern "C" void on_stop_signal(int sig) { g_received = sig; }

}  // namespace

StopSignals::StopSignals() {
  g_received = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the runner's poll() wakes up at once
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignals::take() {
  int sig = g_received;
  g_received = 0;
  return sig;
}

}  // namespace incept
