// Corrupt dataset files met by `incept train`: a clear error naming the file and the problem, exit status 1,
// no stack trace, and a run log with no half-recorded run (the dataset is loaded before the run row is
// created) and every earlier run intact.
#include <catch2/catch.hpp>

#include <memory>

#include "experiments/store/run_store.h"
#include "tests/data/idx_fixtures.h"
#include "tests/reliability/reliability_support.h"

using namespace incept;
using namespace incept::reliability;

namespace {

// A model for 4x4 single-channel images with 10 classes, trained on the IDX files in data.dir.
const char* kIdxConfig = R"(name = "idx"
[data]
dataset = "mnist"

[model]
input = [1, 4, 4]

[[model.layers]]
name = "stem"
block = "conv"
out = 4
kernel = 3
padding = 1

[[model.layers]]
name = "pool"
block = "global_avgpool"

[[model.layers]]
name = "head"
block = "linear"
out = 10

[train]
epochs = 1
threads = 1
)";

struct Corruption {
  std::string name;
  std::string file;                          // which of the four files is damaged
  std::vector<std::uint8_t> bytes;           // its new content
  std::vector<std::string> expected;         // in stderr, besides the file's path
};

std::vector<std::uint8_t> labels(int n, std::uint8_t last) {
  std::vector<std::uint8_t> l;
  for (int i = 0; i < n; ++i) l.push_back(static_cast<std::uint8_t>(i % 10));
  if (n > 0) l.back() = last;
  return l;
}

}  // namespace

TEST_CASE("incept train on corrupt IDX files names the file and the problem and records no run",
          "[reliability][data][cli]") {
  using incept::test::idx_bytes;
  std::vector<std::uint8_t> truncated = idx_bytes({6, 4, 4}, incept::test::image_payload(6, 4, 4));
  truncated.resize(truncated.size() - 7);
  std::vector<std::uint8_t> wrong_magic = idx_bytes({4}, labels(4, 3));
  wrong_magic[0] = 0x1f;  // not a gzip stream either: 1f 00
  const std::vector<Corruption> cases = {
      {"truncated", "train-images-idx3-ubyte", truncated,
       {"truncated: header says 6x4x4 = 96 bytes of pixels, file has 89"}},
      {"wrong-magic", "t10k-labels-idx1-ubyte", wrong_magic,
       {"not an IDX file: wrong magic number 1f 00 08 01"}},
      {"count-mismatch", "train-labels-idx1-ubyte", idx_bytes({5}, labels(5, 4)),
       {"image/label count mismatch", "has 6 images but", "has 5 labels"}},
      {"label-out-of-range", "train-labels-idx1-ubyte", idx_bytes({6}, labels(6, 10)),
       {"label at index 5 is 10, out of range for 10 classes"}},
  };

  TempDir tmp;
  const std::string config = tmp.write("idx.toml", kIdxConfig);
  const std::string db = (tmp.path() / "runs.db").string();
  std::int64_t earlier = 0;
  {
    RunStore store = RunStore::open(db);
    RunRecord r;
    r.name = "earlier";
    earlier = store.begin_run(r);
    store.record_epoch(EpochRecord{earlier, 1, 0.5, 0.8, 0.6, 0.7, 0.1, 1.0, 100.0});
    store.finish_run(earlier, RunStatus::completed, 1.0);
  }

  std::vector<std::unique_ptr<InceptProcess>> runs;
  for (const Corruption& c : cases) {
    const fs::path dir = tmp.path() / c.name;
    incept::test::write_idx_dataset(dir, 6, 4, 4, 4);
    incept::test::write_bytes((dir / c.file).string(), c.bytes);
    runs.push_back(std::make_unique<InceptProcess>(
        std::vector<std::string>{"train", config, "--quiet", "--db", db, "--set", "data.dir=" + dir.string()},
        tmp.path(), tmp.path(), c.name));
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Corruption& c = cases[i];
    const CommandResult r = runs[i]->result();
    INFO(c.name << ": stderr:\n" << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "error: "));
    CHECK(contains(r.err, (tmp.path() / c.name / c.file).string()));
    for (const std::string& e : c.expected) CHECK(contains(r.err, e));
    CHECK_FALSE(looks_like_a_crash(r.err));
  }

  CHECK(integrity_check(db) == "ok");
  RunStore store = RunStore::open_read_only(db);
  const auto all = store.list_runs();
  REQUIRE(all.size() == 1);  // no half-recorded run: only the earlier one
  CHECK(all[0].id == earlier);
  CHECK(all[0].status == RunStatus::completed);
  CHECK(store.epochs(earlier).size() == 1);
}
