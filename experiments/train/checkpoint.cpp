#include "experiments/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "experiments/data/md5.h"
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

constexpr const char* kMagic = "INCEPT-CHECKPOINT 1\n";
constexpr std::size_t kMaxHeaderBytes = 4096;

struct Header {
  std::string run_uid, config_hash, payload_md5;
  std::int64_t epochs_done = -1, next_batch = -1, payload_bytes = -1;
};

std::string header_text(const Header& h) {
  return fmt::format("{}run_uid {}\nconfig_hash {}\nepochs_done {}\nnext_batch {}\npayload_md5 {}\npayload_bytes {}\n\n",
                     kMagic, h.run_uid, h.config_hash, h.epochs_done, h.next_batch, h.payload_md5, h.payload_bytes);
}

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw UserError(fmt::format("checkpoint {}: {}", path, why));
}

bool parse_count(const std::string& text, std::int64_t& out) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoll(text);
  return true;
}

// The header of `bytes` (which starts with kMagic); `payload_offset` is where the payload starts.
Header parse_header(const std::string& path, const std::string& bytes, std::size_t& payload_offset) {
  const std::size_t end = bytes.find("\n\n");
  if (end == std::string::npos || end > kMaxHeaderBytes) bad(path, "its header is damaged (no end)");
  Header h;
  std::istringstream lines(bytes.substr(std::strlen(kMagic), end + 1 - std::strlen(kMagic)));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t space = line.find(' ');
    const std::string key = line.substr(0, space), value = space == std::string::npos ? "" : line.substr(space + 1);
    bool ok = true;
    if (key == "run_uid") h.run_uid = value;
    else if (key == "config_hash") h.config_hash = value;
    else if (key == "payload_md5") h.payload_md5 = value;
    else if (key == "epochs_done") ok = parse_count(value, h.epochs_done);
    else if (key == "next_batch") ok = parse_count(value, h.next_batch);
    else if (key == "payload_bytes") ok = parse_count(value, h.payload_bytes);
    else ok = false;
    if (!ok) bad(path, fmt::format("its header is damaged (line '{}')", line));
  }
  if (h.run_uid.empty() || h.config_hash.empty() || h.payload_md5.empty() || h.epochs_done < 0 ||
      h.next_batch < 0 || h.payload_bytes < 0)
    bad(path, "its header is damaged (a field is missing)");
  payload_offset = end + 2;
  return h;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(path, fmt::format("cannot be read: {}", std::strerror(errno)));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) bad(path, "cannot be read");
  return bytes.str();
}

}  // namespace

std::string checkpoint_file(const std::string& dir, const std::string& run_uid, const TrainPosition& p) {
  return (std::filesystem::path(dir) / fmt::format("{}-e{}-b{}.pt", run_uid, p.epochs_done, p.next_batch)).string();
}

CheckpointRef save_checkpoint(const std::string& path, const CheckpointOwner& owner, torch::nn::Module& model,
                              torch::optim::Optimizer& optimizer, const TrainPosition& p) {
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) throw UserError(fmt::format("cannot create checkpoint directory {}: {}", target.parent_path().string(),
                                      ec.message()));
  std::string tmp = path + ".tmp";
  CheckpointRef ref{path, p.epochs_done, p.next_batch, ""};
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
    const std::string payload = serialized.str();
    ref.md5 = md5_hex(payload);
    const Header h{owner.run_uid, owner.config_hash, ref.md5, p.epochs_done, p.next_batch,
                   static_cast<std::int64_t>(payload.size())};
    write_file_synced(tmp, header_text(h) + payload);
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
  return ref;
}

VerifiedCheckpoint verify_checkpoint(const RunRecord& run, std::int64_t epochs_recorded) {
  const CheckpointRef& want = run.checkpoint;
  const std::string& path = want.path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) bad(path, "does not exist (or is not a file)");
  VerifiedCheckpoint out;
  out.path = path;
  std::string bytes = read_whole_file(path);
  if (bytes.compare(0, std::strlen(kMagic), kMagic) != 0) {
    // Checkpoints of logs written before schema 3 carry no identity; only such a log may vouch for one.
    if (!want.md5.empty()) bad(path, "is not an incept checkpoint with an identity header, but the log expects one");
    out.legacy = true;
    out.payload = std::move(bytes);
    return out;
  }
  std::size_t offset = 0;
  const Header h = parse_header(path, bytes, offset);
  if (h.run_uid != run.uid)
    bad(path, fmt::format("belongs to another run (uid {}), not to run {} (uid {})", h.run_uid, run.id, run.uid));
  if (h.config_hash != run.config_hash)
    bad(path, fmt::format("was written for another config (hash {}), not run {}'s ({})", h.config_hash, run.id,
                          run.config_hash));
  if (h.epochs_done != want.epochs_done || h.next_batch != want.next_batch)
    bad(path, fmt::format("holds position epoch {} batch {}, but the log recorded its checkpoint at epoch {} batch {}",
                          h.epochs_done, h.next_batch, want.epochs_done, want.next_batch));
  // The log may hold more epochs than the checkpoint (an epoch recorded whose checkpoint could not be written: a
  // resume trains it again), never fewer.
  if (h.epochs_done > epochs_recorded)
    bad(path, fmt::format("holds {} completed epoch(s), but the log recorded only {}", h.epochs_done,
                          epochs_recorded));
  if (static_cast<std::int64_t>(bytes.size() - offset) != h.payload_bytes)
    bad(path, fmt::format("is truncated or extended: its payload has {} bytes, its header says {}",
                          bytes.size() - offset, h.payload_bytes));
  out.payload = bytes.substr(offset);
  const std::string actual = md5_hex(out.payload);
  if (actual != h.payload_md5 || actual != want.md5)
    bad(path, fmt::format("checksum mismatch: the payload's MD5 is {}, the header says {} and the log {} (the file "
                          "is damaged)",
                          actual, h.payload_md5, want.md5));
  return out;
}

TrainPosition load_checkpoint(const VerifiedCheckpoint& checkpoint, torch::nn::Module& model,
                              torch::optim::Optimizer& optimizer, const torch::Device& device) {
  TrainPosition p;
  try {
    torch::serialize::InputArchive archive;
    std::istringstream payload(checkpoint.payload);
    archive.load_from(payload, device);
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
    throw UserError(fmt::format("checkpoint {} is unreadable: {}", checkpoint.path, e.what_without_backtrace()));
  }
  return p;
}

}  // namespace incept
