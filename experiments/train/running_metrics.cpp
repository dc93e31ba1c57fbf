#include "experiments/train/running_metrics.h"

#include <cmath>

namespace incept {

RunningMetrics::RunningMetrics(const torch::Device& device, std::int64_t interval) : interval_(interval) {
  const auto f64 = torch::TensorOptions().device(device).dtype(torch::kFloat64);
  loss_sum_ = torch::zeros({}, f64);
  total_sum_ = torch::zeros({}, f64);  // a single inf or nan batch makes the sum non-finite
  correct_ = torch::zeros({}, f64);
}

void RunningMetrics::add(const torch::Tensor& loss, const torch::Tensor& total_loss, const torch::Tensor& correct,
                         std::int64_t batch_size) {
  loss_sum_.add_(loss, static_cast<double>(batch_size));
  total_sum_.add_(total_loss);
  correct_.add_(correct);
  ++pending_batches_;
  pending_seen_ += batch_size;
}

std::optional<RunningMetrics::NonFinite> RunningMetrics::read_into(TrainPosition& pos) {
  if (pending_batches_ == 0) return std::nullopt;
  const torch::Tensor host = torch::stack({loss_sum_, total_sum_, correct_}).cpu();  // one wait, not three
  const auto* v = host.data_ptr<double>();
  const std::int64_t batches = pending_batches_, seen = pending_seen_;
  loss_sum_.zero_();
  total_sum_.zero_();
  correct_.zero_();
  pending_batches_ = pending_seen_ = 0;
  if (!std::isfinite(v[0]) || !std::isfinite(v[1]))
    return NonFinite{v[0] / static_cast<double>(seen), pos.next_batch - batches + 1};
  pos.loss_sum += v[0];
  pos.correct += static_cast<std::int64_t>(v[2]);
  pos.seen += seen;
  return std::nullopt;
}

}  // namespace incept
