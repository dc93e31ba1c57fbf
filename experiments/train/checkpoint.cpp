#include "experiments/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

namespace {

torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// Writes `bytes` to `path` and flushes them to disk; throws UserError with the system's reason (e.g. "No space
// left on device"). LibTorch is not allowed to write the file itself: when its writer hits a full disk, it throws
// from a destructor and the process aborts with a stack trace.
void write_file_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(fmt::format("cannot write checkpoint {}: {}", path, std::strerror(errno)));
  const auto fail = [&](int err) {
    ::close(fd);
    return UserError(fmt::format("cannot write checkpoint {}: {}", path, std::strerror(err)));
  };
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) throw fail(errno);  // before the rename: a renamed checkpoint must be complete
  if (::close(fd) != 0) throw UserError(fmt::format("cannot write checkpoint {}: {}", path, std::strerror(errno)));
}

torch::Tensor scalar(double v) { return torch::tensor(v, torch::kFloat64); }
torch::Tensor scalar(std::int64_t v) { return torch::tensor(v, torch::kInt64); }

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const TrainPosition& p) {
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) throw UserError(fmt::format("cannot create checkpoint directory {}: {}", target.parent_path().string(),
                                      ec.message()));
  std::string tmp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive, optimizer_archive;
    model.save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("epochs_done", scalar(p.epochs_done));
    archive.write("next_batch", scalar(p.next_batch));
    archive.write("loss_sum", scalar(p.loss_sum));
    archive.write("correct", scalar(p.correct));
    archive.write("seen", scalar(p.seen));
    archive.write("epoch_seconds", scalar(p.epoch_seconds));
    archive.write("train_seconds", scalar(p.train_seconds));
    archive.write("loss_scale", scalar(p.loss_scale));
    archive.write("loss_scale_good_steps", scalar(p.loss_scale_good_steps));
    archive.write("cpu_rng_state", cpu_rng_state());
    std::ostringstream serialized;  // in memory first, see write_file_synced
    archive.save_to(serialized);
    write_file_synced(tmp, serialized.str());
  } catch (const c10::Error& e) {
    std::remove(tmp.c_str());
    throw UserError(fmt::format("cannot write checkpoint {}: {}", tmp, e.what_without_backtrace()));
  } catch (const UserError&) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UserError(fmt::format("cannot move checkpoint into place at {}", path));
  }
}

TrainPosition load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                              const torch::Device& device) {
  if (!std::filesystem::exists(path)) throw UserError(fmt::format("checkpoint {} does not exist", path));
  TrainPosition p;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    torch::serialize::InputArchive model_archive, optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    auto read = [&](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t.to(torch::kCPU);
    };
    p.epochs_done = read("epochs_done").item<std::int64_t>();
    p.next_batch = read("next_batch").item<std::int64_t>();
    p.loss_sum = read("loss_sum").item<double>();
    p.correct = read("correct").item<std::int64_t>();
    p.seen = read("seen").item<std::int64_t>();
    p.epoch_seconds = read("epoch_seconds").item<double>();
    p.train_seconds = read("train_seconds").item<double>();
    // Absent from checkpoints written before amp's loss scale was saved. One tensor per key: try_read copies into
    // a tensor that is already defined instead of replacing it.
    torch::Tensor scale, good_steps;
    if (archive.try_read("loss_scale", scale)) p.loss_scale = scale.to(torch::kCPU).item<double>();
    if (archive.try_read("loss_scale_good_steps", good_steps))
      p.loss_scale_good_steps = good_steps.to(torch::kCPU).item<std::int64_t>();
    set_cpu_rng_state(read("cpu_rng_state"));
  } catch (const c10::Error& e) {
    throw UserError(fmt::format("checkpoint {} is unreadable: {}", path, e.what_without_backtrace()));
  }
  return p;
}

}  // namespace incept
