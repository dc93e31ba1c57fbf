#pragma once
// Training progress for people: a live bar on a terminal, one line per epoch otherwise, nothing with --quiet.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace incept {

enum class ProgressMode { Bar, Lines, Quiet };
ProgressMode detect_progress_mode(bool quiet);  // Bar when stderr is a terminal

class Progress {
 public:
  Progress(ProgressMode mode, std::ostream& out) : mode_(mode), out_(out) {}
  void start_epoch(std::int64_t epoch, std::int64_t epochs, std::int64_t batches);
  void batch(std::int64_t done, double loss, double acc, double images_per_s);
  void end_epoch(const std::string& summary_line);
  void message(const std::string& line);

 private:
  ProgressMode mode_;
  std::ostream& out_;
  std::int64_t epoch_ = 0, epochs_ = 0, batches_ = 0;
  std::chrono::steady_clock::time_point last_draw_{}, epoch_start_{};
};

}  // namespace incept
