#include "experiments/train/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace incept {

ProgressMode detect_progress_mode(bool quiet) {
  if (quiet) return ProgressMode::Quiet;
  return ::isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::Lines;
}

void Progress::start_epoch(std::int64_t epoch, std::int64_t epochs, std::int64_t batches) {
  epoch_ = epoch;
  epochs_ = epochs;
  batches_ = batches;
  epoch_start_ = std::chrono::steady_clock::now();
  last_draw_ = {};
}

void Progress::batch(std::int64_t done, double loss, double acc, double images_per_s) {
  if (mode_ != ProgressMode::Bar) return;
  auto now = std::chrono::steady_clock::now();
  if (done != batches_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(batches_ - done) : 0;
  constexpr int kWidth = 24;
  int filled = batches_ > 0 ? static_cast<int>(kWidth * done / batches_) : 0;
  out_ << fmt::format("\repoch {}/{} [{}{}] {}/{} loss {:.4f} acc {:.2f}% {:.0f} img/s ETA {:.0f}s   ", epoch_,
                      epochs_, std::string(static_cast<std::size_t>(filled), '#'),
                      std::string(static_cast<std::size_t>(kWidth - filled), '.'), done, batches_, loss, 100 * acc,
                      images_per_s, eta)
       << std::flush;
}

void Progress::end_epoch(const std::string& summary_line) {
  if (mode_ == ProgressMode::Quiet) return;
  if (mode_ == ProgressMode::Bar) out_ << "\r\033[K";
  out_ << summary_line << "\n" << std::flush;
}

void Progress::message(const std::string& line) {
  if (mode_ == ProgressMode::Quiet) return;
  if (mode_ == ProgressMode::Bar) out_ << "\r\033[K";
  out_ << line << "\n" << std::flush;
}

}  // namespace incept
