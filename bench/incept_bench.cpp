// incept_bench: the C++ side of bench/run.sh. Prints one JSON object.
//
//   incept_bench --gemm [--size N]            float32 N^3 torch::mm throughput, 1 BLAS thread and all cores
//   incept_bench --gemm --device cuda         the same on the GPU: float32 (TF32 off and on) and float16
//   incept_bench CONFIG [--set K=V]...        train CONFIG exactly as `incept train` does, then time inference
//
// Training goes through train_experiment(), the function behind `incept train`, into a scratch run database;
// per-epoch images/s, seconds and accuracy are read back from that database, as `incept train --db` records them.
// Inference times evaluate(), the function behind each epoch's test pass (eval mode, the same performance
// switches), over the test split in batches of train.batch_size, after a warm-up pass.
#include <dlfcn.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "experiments/config/experiment_config.h"
#include "experiments/data/dataset.h"
#include "experiments/store/run_store.h"
#include "experiments/train/optimization.h"
#include "experiments/train/train_parts.h"
#include "experiments/train/trainer.h"
#include "framework/diagnostics.h"
#include "framework/json.h"
#include "framework/torch_model.h"
#include "platform/remove_tree.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

using GetThreads = int (*)();
using SetThreads = void (*)(int);

int openblas_threads() {
  auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : -1;
}

void set_openblas_threads(int n) {
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

// The BLAS libraries this process has mapped (libblas.so.3 is Debian's alternative; it resolves torch's sgemm_).
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line, out;
  std::vector<std::string> seen;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (path.find("blas") == std::string::npos) continue;
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) continue;
    seen.push_back(path);
    std::error_code ec;
    auto real = std::filesystem::canonical(path, ec);
    out += (out.empty() ? "" : ", ") + (ec ? path : real.string());
  }
  return out;
}

void environment(incept::JsonWriter& j) {
  const char* ob = std::getenv("OPENBLAS_NUM_THREADS");
  j.key("threads").value(at::get_num_threads());
  j.key("interop_threads").value(static_cast<std::int64_t>(at::get_num_interop_threads()));
  j.key("openblas_threads").value(openblas_threads());
  j.key("OPENBLAS_NUM_THREADS").value(ob ? ob : "unset");
  j.key("blas_loaded").value(loaded_blas());
  j.key("parallel_info").value(at::get_parallel_info());
}

double gemm_gmacs(std::int64_t n, int min_reps) {
  torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
  torch::Tensor c = torch::mm(a, b);  // warm-up
  int reps = 0;
  auto t0 = Clock::now();
  while (reps < min_reps || seconds_since(t0) < 1.0) {
    torch::mm_out(c, a, b);
    ++reps;
  }
  return static_cast<double>(reps) * static_cast<double>(n * n * n) / seconds_since(t0) / 1e9;
}

// The same N^3 product as a 1x1 convolution (1 x N x N/32 x 32 input, N x N x 1 x 1 weight): oneDNN's GEMM, the
// kernels every convolution in training runs on.
double conv1x1_gmacs(std::int64_t n, int min_reps) {
  torch::Tensor x = torch::randn({1, n, n / 32, 32}), w = torch::randn({n, n, 1, 1});
  torch::Tensor y = torch::conv2d(x, w);  // warm-up (and primitive creation)
  int reps = 0;
  auto t0 = Clock::now();
  while (reps < min_reps || seconds_since(t0) < 1.0) {
    y = torch::conv2d(x, w);
    ++reps;
  }
  return static_cast<double>(reps) * static_cast<double>(n * n * n) / seconds_since(t0) / 1e9;
}

std::string openblas_core() {
  using GetName = char* (*)();
  auto get = reinterpret_cast<GetName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return get ? get() : "(not OpenBLAS)";
}

// GPU matrix-product throughput in `dtype` (N^3 MACs per product), timed between synchronisations.
double cuda_gemm_gmacs(std::int64_t n, torch::ScalarType dtype) {
  auto opts = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
  torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts), c = torch::mm(a, b);
  torch::cuda::synchronize();
  int reps = 0;
  auto t0 = Clock::now();
  while (reps < 20 || seconds_since(t0) < 1.0) {
    for (int i = 0; i < 10; ++i) torch::mm_out(c, a, b);
    reps += 10;
    torch::cuda::synchronize();
  }
  return static_cast<double>(reps) * static_cast<double>(n * n * n) / seconds_since(t0) / 1e9;
}

int run_cuda_gemm(std::int64_t n) {
  if (!torch::cuda::is_available()) throw incept::UserError("--device cuda: this LibTorch build has no usable GPU");
  auto& ctx = at::globalContext();
  const bool tf32 = ctx.allowTF32CuBLAS();
  ctx.setAllowTF32CuBLAS(false);
  const double fp32 = cuda_gemm_gmacs(n, torch::kFloat);
  ctx.setAllowTF32CuBLAS(true);
  const double fp32_tf32 = cuda_gemm_gmacs(n, torch::kFloat);
  ctx.setAllowTF32CuBLAS(tf32);
  const double fp16 = cuda_gemm_gmacs(n, torch::kHalf);
  incept::JsonWriter j;
  j.begin_object();
  j.key("side").value("gemm");
  j.key("device").value("cuda");
  j.key("size").value(n);
  j.key("cuda_gmacs_fp32").value(fp32);
  j.key("cuda_gmacs_tf32").value(fp32_tf32);
  j.key("cuda_gmacs_fp16").value(fp16);
  j.key("tf32_default").value(tf32);
  j.end_object();
  std::cout << j.str() << "\n";
  return 0;
}

int run_gemm(std::int64_t n) {
  incept::TrainConfig defaults;
  incept::configure_threads(defaults);  // what training runs with: all intra-op threads, OpenBLAS at 1 thread
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const double blas_one = gemm_gmacs(n, 5);
  set_openblas_threads(cores);
  const double blas_all = gemm_gmacs(n, 5);
  set_openblas_threads(1);
  const double dnnl_all = conv1x1_gmacs(n, 5);
  at::set_num_threads(1);
  const double dnnl_one = conv1x1_gmacs(n, 5);
  incept::configure_threads(defaults);
  incept::JsonWriter j;
  j.begin_object();
  j.key("side").value("gemm");
  j.key("size").value(n);
  j.key("cores").value(cores);
  j.key("openblas_core").value(openblas_core());
  j.key("blas_gmacs_1_thread").value(blas_one);
  j.key("blas_gmacs_all_cores").value(blas_all);
  j.key("onednn_gmacs_1_thread").value(dnnl_one);
  j.key("onednn_gmacs_all_cores").value(dnnl_all);
  environment(j);
  j.end_object();
  std::cout << j.str() << "\n";
  return 0;
}

std::string outcome_device(const incept::TrainConfig& tc) { return incept::choose_device(tc.device).str(); }

double init_checksum(const incept::ExperimentConfig& cfg) {
  torch::manual_seed(cfg.train.seed);  // as the trainer does before building the network
  incept::Network net(cfg.model);
  incept::initialize_weights(*net, cfg.train);
  double sum = 0;
  for (const auto& p : net->parameters()) sum += p.detach().to(torch::kFloat64).abs().sum().item<double>();
  return sum;
}

int run_config(const std::string& path, const std::vector<std::string>& sets, int infer_repeats) {
  incept::ExperimentConfig cfg = incept::load_experiment(path, sets);
  const incept::TrainConfig& tc = cfg.train;

  // Training: `incept train CONFIG --db <scratch> --quiet`.
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "incept-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a scratch directory");
  const fs::path scratch(tmpl);
  incept::TrainOptions opts;
  opts.db_path = (scratch / "runs.db").string();
  opts.quiet = true;
  incept::TrainOutcome outcome = incept::train_experiment(cfg, opts);
  std::vector<incept::EpochRecord> epochs;
  {
    incept::RunStore store = incept::RunStore::open(opts.db_path);
    epochs = store.epochs(outcome.run_id);
  }
  incept::remove_tree(scratch.string());

  incept::JsonWriter j;
  j.begin_object();
  j.key("side").value("incept");
  j.key("config").value(path);
  j.key("status").value(to_string(outcome.status));
  if (!outcome.error.empty()) j.key("error").value(outcome.error);
  j.key("ir_params").value(cfg.model.cost().params);
  j.key("macs").value(cfg.model.cost().macs);
  j.key("batch").value(tc.batch_size);
  j.key("switches").begin_object();
  j.key("threads").value(tc.threads);
  j.key("channels_last").value(tc.channels_last);
  j.key("parallel_branches").value(tc.parallel_branches);
  j.key("amp").value(tc.amp);
  j.key("deterministic").value(tc.deterministic);
  j.end_object();
  j.key("device").value(outcome_device(tc));
  j.key("epochs").begin_array();
  for (const auto& e : epochs) {
    j.begin_object();
    j.key("epoch").value(e.epoch);
    j.key("images_per_s").value(e.images_per_s);
    j.key("seconds").value(e.seconds);
    j.key("train_loss").value(e.train_loss);
    j.key("train_acc").value(e.train_acc);
    j.key("test_acc").value(e.test_acc);
    j.end_object();
  }
  j.end_array();

  // Inference: evaluate() on a freshly built network (the same seed, init, device and switches as training).
  incept::configure_threads(tc);
  const torch::Device device = incept::choose_device(tc.device);
  if (device.is_cuda()) incept::configure_cudnn(tc);
  torch::manual_seed(tc.seed);
  incept::Dataset data = incept::load_dataset(cfg.data, device);
  incept::Network net(cfg.model);
  incept::initialize_weights(*net, tc);
  net->to(device);
  incept::apply_performance_switches(net, tc);
  j.key("built_params").value(incept::count_parameters(*net));
  j.key("data").value(fmt::format("{} ({}+{} x {}x{}x{})", data.source, data.train.size(), data.test.size(),
                                  data.sample_shape[0], data.sample_shape[1], data.sample_shape[2]));
  incept::Split warm{data.test.images.slice(0, 0, 2 * tc.batch_size), data.test.labels.slice(0, 0, 2 * tc.batch_size)};
  incept::evaluate(net, warm, tc.batch_size, tc);
  auto t0 = Clock::now();
  for (int r = 0; r < infer_repeats; ++r) incept::evaluate(net, data.test, tc.batch_size, tc);  // ends in a sync
  j.key("infer_images_per_s").value(static_cast<double>(infer_repeats * data.test.size()) / seconds_since(t0));
  j.key("init_checksum").value(init_checksum(cfg));
  environment(j);
  j.end_object();
  std::cout << j.str() << "\n";
  return exit_code(outcome.status) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"incept_bench: training and inference throughput of a config through incept's own code path"};
  std::string config;
  std::vector<std::string> sets;
  bool gemm = false;
  std::int64_t size = 1024;
  std::string device = "cpu";
  int infer_repeats = 3;
  app.add_option("config", config, "config file (TOML)");
  app.add_option("--set", sets, "override a config value, e.g. --set train.channels_last=true");
  app.add_flag("--gemm", gemm, "measure float32 GEMM throughput instead");
  app.add_option("--size", size, "GEMM size (default 1024)");
  app.add_option("--device", device, "GEMM device: cpu or cuda (default cpu)")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--infer-repeats", infer_repeats, "inference passes over the test split (default 3)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (gemm) return device == "cuda" ? run_cuda_gemm(size) : run_gemm(size);
    if (config.empty()) throw incept::UserError("give a config, or --gemm");
    return run_config(config, sets, infer_repeats);
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
  }
  return 1;
}
