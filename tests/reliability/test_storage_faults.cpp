// Storage faults: a missing or read-only log directory, a disk that fills up while checkpointing, a log from a
// newer incept. Each is a clear error naming the path, with a non-zero exit status, and nothing recorded
// earlier is damaged: earlier runs and epochs are still there and the file passes integrity_check.
#include <catch2/catch.hpp>

#include <sys/mount.h>

#include <memory>

#include "experiments/config/experiment_config.h"
#include "experiments/store/run_store.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/optimization.h"
#include "framework/torch_model.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/skip.h"

using namespace incept;
using namespace incept::reliability;

namespace {

// A completed run with two epochs, written the way a trainer writes it.
std::int64_t record_earlier_run(const std::string& db) {
  RunStore store = RunStore::open(db);
  RunRecord r;
  r.name = "earlier";
  r.config_hash = "earlier-hash";
  const auto id = store.begin_run(r);
  store.add_layers(id, {LayerRecord{0, 0, "stem", "conv", "8x12x12", 80, 11520}});
  store.record_epoch(EpochRecord{id, 1, 1.5, 0.4, 1.4, 0.45, 0.1, 2.0, 1000});
  store.record_epoch(EpochRecord{id, 2, 0.9, 0.7, 1.0, 0.65, 0.1, 2.0, 1000});
  store.finish_run(id, RunStatus::completed, 4.0);
  return id;
}

void check_earlier_run_intact(const std::string& db, std::int64_t id) {
  CHECK(integrity_check(db) == "ok");
  RunStore store = RunStore::open_read_only(db);
  const auto r = store.get_run(id);
  REQUIRE(r);
  CHECK(r->name == "earlier");
  CHECK(r->status == RunStatus::completed);
  CHECK(r->best_test_acc == 0.65);
  const auto epochs = store.epochs(id);
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[1].train_loss == 0.9);
  CHECK(store.layers(id).size() == 1);
}

// A small tmpfs, unmounted (lazily, so a failing test cannot leave it busy) when the test ends.
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& dir, std::size_t bytes) : dir_(dir) {
    fs::create_directories(dir_);
    const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool resize(std::size_t bytes) {
    const std::string opts = "size=" + std::to_string(bytes);
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

// The size of a checkpoint of `config`'s model after one SGD step (momentum buffers included), measured by
// writing one: the tmpfs below is sized from it, so the test does not depend on LibTorch's archive layout.
std::uintmax_t checkpoint_size(const std::string& config, const fs::path& dir) {
  ExperimentConfig cfg = load_experiment(config);
  torch::manual_seed(0);
  Network net(cfg.model);
  auto optimizer = make_optimizer(cfg.train, net->parameters());
  torch::Tensor x = torch::rand({2, 1, 12, 12});
  torch::nn::functional::cross_entropy(net->forward(x), torch::tensor({1, 2})).backward();
  optimizer->step();
  const std::string path = (dir / "probe.pt").string();
  save_checkpoint(path, CheckpointOwner{"0123456789abcdef0123456789abcdef", cfg.hash}, *net, *optimizer,
                  TrainPosition{});
  return fs::file_size(path);
}

}  // namespace

TEST_CASE("a missing log directory is an error naming it, and nothing is created", "[reliability][storage][cli]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const fs::path dir = tmp.path() / "no" / "such" / "dir";
  const std::string db = (dir / "runs.db").string();
  InceptProcess train({"train", config, "--quiet", "--db", db}, tmp.path(), tmp.path(), "train");
  InceptProcess runs({"runs", "--db", db}, tmp.path(), tmp.path(), "runs");
  const CommandResult t = train.result(), r = runs.result();
  INFO("train stderr: " << t.err << "\nruns stderr: " << r.err);
  CHECK(t.status == 1);
  CHECK(contains(t.err, "error: cannot open database " + db + ": directory " + dir.string() + " does not exist"));
  CHECK(r.status == 1);
  CHECK(contains(r.err, "error: no database at " + db));
  CHECK_FALSE(looks_like_a_crash(t.err + r.err));
  CHECK_FALSE(fs::exists(tmp.path() / "no"));
}

TEST_CASE("a read-only log directory is an error naming the path, and the log in it is left intact",
          "[reliability][storage][cli]") {
  if (!can_run_as_nobody())
    INCEPT_SKIP("cannot switch to user 'nobody' here (not root?): read-only directory not tested");
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const fs::path dir = tmp.path() / "readonly";
  fs::create_directories(dir);
  const std::string existing = (dir / "runs.db").string(), fresh = (dir / "new.db").string();
  const auto earlier = record_earlier_run(existing);
  const std::string before = slurp(existing);
  // Root owns the directory and the log; 'nobody' may read both and write neither.
  InceptProcess into_existing({"train", config, "--quiet", "--db", existing}, tmp.path(), tmp.path(), "existing",
                              /*as_nobody=*/true);
  InceptProcess into_fresh({"train", config, "--quiet", "--db", fresh}, tmp.path(), tmp.path(), "fresh",
                           /*as_nobody=*/true);
  const CommandResult e = into_existing.result(), f = into_fresh.result();
  INFO("existing: " << e.err << "\nfresh: " << f.err);
  CHECK(e.status == 1);
  CHECK(contains(e.err, "error: cannot open database " + existing + " for writing: "));
  CHECK(f.status == 1);
  CHECK(contains(f.err, fresh));
  CHECK(contains(f.err, "directory " + dir.string() + " is not writable"));
  CHECK_FALSE(looks_like_a_crash(e.err + f.err));
  CHECK_FALSE(fs::exists(fresh));
  CHECK(slurp(existing) == before);
  check_earlier_run_intact(existing, earlier);
}

TEST_CASE("a disk that fills up while checkpointing fails the run cleanly and keeps the last checkpoint",
          "[reliability][storage][cli]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  // Room for one checkpoint but not for a second one beside it: the first (after epoch 1) is written, the
  // second (after epoch 2) runs out of space half-way.
  const std::uintmax_t size = checkpoint_size(config, tmp.path());
  const fs::path mnt = tmp.path() / "small-disk";
  TmpfsMount disk(mnt, static_cast<std::size_t>(size * 3 / 2));
  if (!disk.mounted())
    INCEPT_SKIP("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): full disk not tested");
  const std::string db = (tmp.path() / "runs.db").string();
  const auto earlier = record_earlier_run(db);

  const CommandResult t = run_incept(
      {"train", config, "--quiet", "--db", db, "--set", "train.checkpoint_dir=" + mnt.string()}, tmp.path());
  INFO("train stderr: " << t.err);
  CHECK(t.status == 1);
  CHECK_FALSE(looks_like_a_crash(t.err));

  check_earlier_run_intact(db, earlier);
  std::vector<EpochRecord> before;
  std::string checkpoint, failed_checkpoint;
  {
    RunStore store = RunStore::open_read_only(db);
    const RunRecord run = *store.get_run(2);
    checkpoint = run.checkpoint.path;  // the epoch-1 checkpoint, recorded once it was complete
    CHECK(run.checkpoint.epochs_done == 1);
    REQUIRE(fs::path(checkpoint).parent_path() == mnt);
    // The epoch-2 checkpoint gets a name of its own, so the one the log vouches for is never overwritten.
    failed_checkpoint = checkpoint_file(mnt.string(), run.uid, TrainPosition{2});
    const std::string expected = "cannot write checkpoint " + failed_checkpoint + ".tmp: No space left on device";
    CHECK(contains(t.err, "error: " + expected));
    CHECK(run.status == RunStatus::failed);
    CHECK(contains(run.error, expected));
    before = store.epochs(2);
    CHECK(before.size() == 2);  // epoch 2 was recorded, then its checkpoint failed
  }
  CHECK(fs::exists(checkpoint));
  CHECK_FALSE(fs::exists(failed_checkpoint + ".tmp"));  // no half-written file left to fill the disk
  CHECK_FALSE(fs::exists(failed_checkpoint));

  // Once there is room again the run resumes from the epoch-1 checkpoint and redoes epoch 2 exactly.
  REQUIRE(disk.resize(size * 4));
  const CommandResult resumed = run_incept({"resume", "2", "--quiet", "--db", db}, tmp.path());
  INFO("resume stderr: " << resumed.err);
  REQUIRE(resumed.status == 0);
  RunStore store = RunStore::open_read_only(db);
  CHECK(store.get_run(2)->status == RunStatus::completed);
  const auto after = store.epochs(2);
  REQUIRE(after.size() == 2);
  CHECK(after[1].train_loss == before[1].train_loss);
  CHECK(after[1].test_acc == before[1].test_acc);
  check_earlier_run_intact(db, earlier);
}

TEST_CASE("a log from a newer incept is refused by train and runs and left byte-for-byte unchanged",
          "[reliability][storage][cli]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const std::string db = (tmp.path() / "future.db").string();
  const auto earlier = record_earlier_run(db);
  sql_exec(db, "PRAGMA user_version = 99");
  const std::string before = slurp(db), wal_before = slurp(db + "-wal");
  InceptProcess train({"train", config, "--quiet", "--db", db}, tmp.path(), tmp.path(), "train");
  InceptProcess runs({"runs", "--db", db}, tmp.path(), tmp.path(), "runs");
  const CommandResult t = train.result(), r = runs.result();
  INFO("train stderr: " << t.err << "\nruns stderr: " << r.err);
  const std::string expected = "error: database " + db + ": created by a newer incept (schema 99, this build knows 5)";
  CHECK(t.status == 1);
  CHECK(contains(t.err, expected));
  CHECK(r.status == 1);
  CHECK(contains(r.err, expected));
  CHECK_FALSE(looks_like_a_crash(t.err + r.err));
  CHECK(slurp(db) == before);
  CHECK(slurp(db + "-wal") == wal_before);
  CHECK(sql_text(db, "PRAGMA user_version") == "99");
  CHECK(integrity_check(db) == "ok");
  CHECK(sql_text(db, "SELECT count(*) FROM epochs WHERE run_id = " + std::to_string(earlier)) == "2");
}

TEST_CASE("incept runs on a full disk says that a status shown may be stale instead of hiding it",
          "[reliability][storage][cli]") {
  TempDir tmp;
  const fs::path mnt = tmp.path() / "full-disk";
  TmpfsMount disk(mnt, 4 << 20);
  if (!disk.mounted()) INCEPT_SKIP("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)");
  const std::string db = (mnt / "runs.db").string();
  record_earlier_run(db);
  {
    RunStore store = RunStore::open(db);
    RunRecord r;
    r.name = "crashed";
    store.begin_run(r);
  }
  // Its holder died: a process of this host that has exited (this one's child, reaped).
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  sql_exec(db, "UPDATE runs SET pid = " + std::to_string(child) + ", process_start = '' WHERE name = 'crashed'");
  {  // fill the disk to the last byte
    std::ofstream filler(mnt / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  const CommandResult r = run_incept({"runs", "--db", db}, tmp.path());
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  // Whether the listing itself can still be read depends on how full the disk is (SQLite's shared-memory file
  // may need to grow): either it is shown with the warning, or the command fails naming the log. Never a silent
  // 'running'.
  CHECK(contains(r.err, "warning: runs whose process died could not be marked interrupted, so a status shown as "
                        "'running' may be stale"));
  if (r.status == 0) CHECK(contains(r.out, "crashed"));
  else CHECK((r.status == 1 && contains(r.err, "error: database " + db)));
  CHECK_FALSE(looks_like_a_crash(r.err));
  fs::remove(mnt / "filler");
  CHECK(integrity_check(db) == "ok");
}
