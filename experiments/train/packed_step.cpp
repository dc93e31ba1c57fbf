#include "experiments/train/packed_step.h"

#include <algorithm>

#include "experiments/train/training_loss.h"

#ifdef INCEPT_CUDA_GRAPHS
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace incept {

namespace {

// Each member's losses from the packed forward pass: one cross entropy over all K * N samples when the members
// share their label smoothing (the usual case), else one per member.
void member_losses(const PackedForward& f, const torch::Tensor& y, const std::vector<double>& smoothing,
                   PackedStepResult& out) {
  const std::int64_t k = f.logits.size(0), n = f.logits.size(1);
  const bool shared = std::all_of(smoothing.begin(), smoothing.end(), [&](double s) { return s == smoothing[0]; });
  auto per_member = [&](const torch::Tensor& logits) {  // [K, N, classes] -> [K]
    if (shared) {
      namespace F = torch::nn::functional;
      return F::cross_entropy(logits.reshape({k * n, -1}), y.reshape({k * n}),
                              F::CrossEntropyFuncOptions().reduction(torch::kNone).label_smoothing(smoothing[0]))
          .view({k, n})
          .mean(1);
    }
    std::vector<torch::Tensor> losses;
    for (std::int64_t i = 0; i < k; ++i) {
      ForwardResult member;
      member.logits = logits[i];
      losses.push_back(training_loss(member, y[i], smoothing[static_cast<std::size_t>(i)]).main);
    }
    return torch::stack(losses);
  };
  out.main_loss = per_member(f.logits);
  out.total_loss = out.main_loss;
  for (std::size_t a = 0; a < f.aux.size(); ++a) out.total_loss = out.total_loss + f.aux_weights[a] * per_member(f.aux[a]);
  out.correct = f.logits.detach().argmax(2).eq(y).sum(1);
  out.batch_size = n;
}

#ifdef INCEPT_CUDA_GRAPHS
// Work queued on `waiter` from now on starts after the work queued on `waited` so far.
void wait_for(const c10::cuda::CUDAStream& waiter, const c10::cuda::CUDAStream& waited) {
  at::cuda::CUDAEvent event;
  event.record(waited);
  event.block(waiter);
}
#endif

}  // namespace

#ifdef INCEPT_CUDA_GRAPHS
struct PackedStep::Graph {
  at::cuda::CUDAGraph graph;
  std::int64_t batch_size = 0;  // the batch size it is captured for
  int warmups_left = 3;
  bool captured = false;
  std::int64_t stopped = 0;     // members stopped when it was captured (the update masks them from then on)
  torch::Tensor x, y;           // static inputs
  PackedStepResult outputs;     // static outputs
};
#else
struct PackedStep::Graph {};
#endif

PackedStep::PackedStep(PackedNetworkImpl& net, PackedOptimizer& optimizer, std::int64_t members, torch::Device device,
                       bool cuda_graph, std::int64_t batch_size)
    : net_(net), optimizer_(optimizer), members_(members), device_(device), batch_size_(batch_size) {
  if (!cuda_graph || !device.is_cuda()) return;
#ifdef INCEPT_CUDA_GRAPHS
  graph_ = std::make_unique<Graph>();
#else
  fallback_reason_ = "this incept was built without LibTorch's CUDA headers: no CUDA graphs";
#endif
}

PackedStep::~PackedStep() = default;

bool PackedStep::graphed() const {
#ifdef INCEPT_CUDA_GRAPHS
  return graph_ && graph_->captured;
#else
  return false;
#endif
}

PackedStepResult PackedStep::eager(const torch::Tensor& x, const torch::Tensor& y,
                                   const std::vector<double>& label_smoothing) {
  for (auto& p : net_.parameters()) p.mutable_grad().reset();  // backward allocates them afresh
  PackedStepResult r;
  member_losses(net_.forward_train(x), y, label_smoothing, r);
  pending_loss_ = r.total_loss.sum();
  r.main_loss = r.main_loss.detach();
  r.total_loss = r.total_loss.detach();
  return r;
}

PackedStepResult PackedStep::run(const Split& train, const torch::Tensor& indices,
                                 const std::vector<double>& label_smoothing) {
  const torch::Tensor flat = indices.reshape({-1});
  std::vector<std::int64_t> shape = train.images.sizes().vec();  // [K, N, C, H, W]
  shape[0] = indices.size(1);
  shape.insert(shape.begin(), members_);
#ifdef INCEPT_CUDA_GRAPHS
  if (graph_)
    if (std::optional<PackedStepResult> r = run_graphed(train, flat, shape, label_smoothing)) return *r;
#endif
  // Gathered into buffers reused across batches (index_select_out resizes them for an epoch's last batch).
  if (!x_buf_.defined()) {
    x_buf_ = torch::empty({0}, train.images.options());
    y_buf_ = torch::empty({0}, train.labels.options());
  }
  torch::index_select_out(x_buf_, train.images, 0, flat);
  torch::index_select_out(y_buf_, train.labels, 0, flat);
  return eager(x_buf_.view(shape), y_buf_.view({shape[0], shape[1]}), label_smoothing);
}

#ifdef INCEPT_CUDA_GRAPHS
std::optional<PackedStepResult> PackedStep::run_graphed(const Split& train, const torch::Tensor& flat,
                                                        const std::vector<std::int64_t>& shape,
                                                        const std::vector<double>& label_smoothing) {
  Graph& g = *graph_;
  const std::int64_t n = shape[1];
  if (n != batch_size_) return std::nullopt;  // an epoch's smaller last batch: eager
  if (g.captured && optimizer_.stopped_members() != g.stopped) {
    // A member stopped since the capture: capture again, so the update masks it.
    graph_ = std::make_unique<Graph>();
    graph_->warmups_left = 0;
    return run_graphed(train, flat, shape, label_smoothing);
  }
  if (!g.x.defined()) {
    g.batch_size = n;
    std::vector<std::int64_t> flat_shape(shape.begin() + 1, shape.end());
    flat_shape[0] = flat.numel();
    g.x = torch::empty(flat_shape, train.images.options());
    g.y = torch::empty({flat.numel()}, train.labels.options());
  }
  torch::index_select_out(g.x, train.images, 0, flat);
  torch::index_select_out(g.y, train.labels, 0, flat);
  const torch::Tensor x = g.x.view(shape), y = g.y.view({shape[0], n});
  if (g.captured) {
    g.graph.replay();
    return g.outputs;
  }
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  wait_for(side, c10::cuda::getCurrentCUDAStream());
  if (g.warmups_left > 0) {
    // Real steps, on a side stream as capture requires, so the allocator and cuDNN have settled before it.
    --g.warmups_left;
    PackedStepResult r;
    {
      c10::cuda::CUDAStreamGuard on_side(side);
      r = eager(x, y, label_smoothing);
      finish();
    }
    wait_for(c10::cuda::getCurrentCUDAStream(), side);
    return r;
  }
  try {
    {
      c10::cuda::CUDAStreamGuard on_side(side);
      g.graph.capture_begin();
      try {
        for (auto& p : net_.parameters()) p.mutable_grad().reset();
        member_losses(net_.forward_train(x), y, label_smoothing, g.outputs);
        g.outputs.total_loss.sum().backward();
        optimizer_.step();
        g.outputs.main_loss = g.outputs.main_loss.detach();
        g.outputs.total_loss = g.outputs.total_loss.detach();
      } catch (...) {
        // End the capture before anything else runs on this stream: a stream left capturing refuses eager work.
        try {
          g.graph.capture_end();
        } catch (...) {
        }
        throw;
      }
      g.graph.capture_end();
    }
    wait_for(c10::cuda::getCurrentCUDAStream(), side);
    g.captured = true;
    g.stopped = optimizer_.stopped_members();
    g.graph.replay();  // capturing records the step without running it
    return g.outputs;
  } catch (const c10::Error& e) {
    fallback_reason_ = e.what_without_backtrace();
  } catch (const std::exception& e) {
    fallback_reason_ = e.what();
  }
  // Eager from now on, this batch included: the failed capture ran nothing. (Where the failure left CUDA's state
  // unusable, the next eager step fails and the pack's runs end failed with that error: never recorded as trained.)
  graph_.reset();
  return std::nullopt;
}
#endif

void PackedStep::finish() {
  if (!pending_loss_.defined()) return;
  pending_loss_.backward();
  pending_loss_ = torch::Tensor();
  optimizer_.step();
}

}  // namespace incept
