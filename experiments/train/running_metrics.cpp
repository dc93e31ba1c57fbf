#include "experiments/train/running_metrics.h"

#include <cmath>

namespace incept {

RunningMetrics::RunningMetrics(const torch::Device& device, std::int64_t interval, std::int64_t members)
    : interval_(interval), members_(members) {
  const auto f64 = torch::TensorOptions().device(device).dtype(torch::kFloat64);
  // One entry per member; a single run's scalar figures add into its one entry.
  loss_sum_ = torch::zeros({members}, f64);
  total_sum_ = torch::zeros({members}, f64);  // a single inf or nan batch makes the sum non-finite
  correct_ = torch::zeros({members}, f64);
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
  return read_members({&pos}).front();
}

std::vector<std::optional<RunningMetrics::NonFinite>> RunningMetrics::read_members(
    const std::vector<TrainPosition*>& positions) {
  std::vector<std::optional<NonFinite>> out(positions.size());
  if (pending_batches_ == 0) return out;
  // One wait for the device, not three per member.
  const torch::Tensor host = torch::stack({loss_sum_, total_sum_, correct_}).cpu().reshape({3, members_});
  const auto v = host.accessor<double, 2>();
  const std::int64_t batches = pending_batches_, seen = pending_seen_;
  loss_sum_.zero_();
  total_sum_.zero_();
  correct_.zero_();
  pending_batches_ = pending_seen_ = 0;
  for (std::size_t k = 0; k < positions.size(); ++k) {
    TrainPosition* pos = positions[k];
    if (!pos) continue;
    const auto m = static_cast<std::int64_t>(k);
    if (!std::isfinite(v[0][m]) || !std::isfinite(v[1][m])) {
      out[k] = NonFinite{v[0][m] / static_cast<double>(seen), pos->next_batch - batches + 1};
      continue;
    }
    pos->loss_sum += v[0][m];
    pos->correct += static_cast<std::int64_t>(v[2][m]);
    pos->seen += seen;
  }
  return out;
}

}  // namespace incept
