// The corpus of bad configs in tests/configs/bad: each one is refused by `incept summary` with exit status 2
// and the diagnostics its NAME.expect lists (`NAME.toml:LINE:COL: error: ...`), never with a crash, a stack
// trace or an attempt to size an absurd model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <sstream>

#include "cli/summary.h"
#include "experiments/config/experiment_config.h"
#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "tests/reliability/reliability_support.h"

using namespace incept;
using namespace incept::reliability;

namespace {

struct BadConfig {
  std::string name;                   // NAME
  std::string path;                   // absolute path of NAME.toml
  std::vector<std::string> expected;  // substrings of the error output
};

// Every NAME.toml with a NAME.expect; blank lines and # comments in the .expect are skipped.
std::vector<BadConfig> bad_configs() {
  const fs::path dir = incept::testing::source_path("tests/configs/bad");
  std::vector<BadConfig> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".expect") continue;
    BadConfig c;
    c.name = entry.path().stem().string();
    c.path = (dir / (c.name + ".toml")).string();
    std::istringstream lines(slurp(entry.path()));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] != '#') c.expected.push_back(line);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const BadConfig& a, const BadConfig& b) { return a.name < b.name; });
  return out;
}

// Runs `incept summary` on the cases [begin, end), a few processes at a time (each pays LibTorch's start-up).
void check_cli(const std::vector<BadConfig>& cases, std::size_t begin, std::size_t end) {
  constexpr std::size_t kParallel = 3;
  TempDir logs;
  for (std::size_t first = begin; first < end; first += kParallel) {
    std::vector<std::unique_ptr<InceptProcess>> batch;
    for (std::size_t i = first; i < std::min(end, first + kParallel); ++i)
      batch.push_back(std::make_unique<InceptProcess>(std::vector<std::string>{"summary", cases[i].path},
                                                      logs.path(), logs.path(), cases[i].name));
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const BadConfig& c = cases[first + k];
      const CommandResult r = batch[k]->result();
      INFO("incept summary tests/configs/bad/" << c.name << ".toml\nstderr:\n" << r.err);
      CHECK(r.status == 2);
      CHECK(r.out.empty());
      CHECK_FALSE(looks_like_a_crash(r.err));
      for (const std::string& e : c.expected) {
        INFO("expected: " << e);
        CHECK(contains(r.err, e));
      }
    }
  }
}

}  // namespace

TEST_CASE("the bad-config corpus is there and every case has expectations", "[reliability][config]") {
  const auto cases = bad_configs();
  CHECK(cases.size() >= 30);
  for (const BadConfig& c : cases) {
    INFO(c.name);
    CHECK(fs::exists(c.path));
    REQUIRE_FALSE(c.expected.empty());
    // Every case pins the position of at least one diagnostic in its own file (or, for a whole-file problem,
    // the file itself), so a regression to a vaguer message is caught.
    CHECK(std::any_of(c.expected.begin(), c.expected.end(),
                      [](const std::string& e) { return contains(e, ".toml:") && contains(e, "error: "); }));
  }
}

TEST_CASE("the loader rejects every bad config with a ConfigError carrying the expected diagnostics",
          "[reliability][config]") {
  for (const BadConfig& c : bad_configs()) {
    INFO(c.name);
    try {
      const ExperimentConfig cfg = load_experiment(c.path);
      (void)summary_text(cfg.model, c.path, 3);
      FAIL("accepted: " << c.name);
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      INFO(what);
      for (const std::string& expected : c.expected) {
        INFO("expected: " << expected);
        CHECK(contains(what, expected));
      }
    } catch (const std::exception& e) {
      FAIL("not a ConfigError (the CLI would exit 1, not 2): " << e.what());
    }
  }
}

// In three parts, so each test case stays well under ten seconds (every run pays LibTorch's start-up).
static void check_cli_part(int part) {
  const auto cases = bad_configs();
  check_cli(cases, cases.size() * static_cast<std::size_t>(part) / 3,
            cases.size() * static_cast<std::size_t>(part + 1) / 3);
}

TEST_CASE("incept summary exits 2 with the expected message on each bad config (part 1/3)",
          "[reliability][config][cli]") {
  check_cli_part(0);
}

TEST_CASE("incept summary exits 2 with the expected message on each bad config (part 2/3)",
          "[reliability][config][cli]") {
  check_cli_part(1);
}

TEST_CASE("incept summary exits 2 with the expected message on each bad config (part 3/3)",
          "[reliability][config][cli]") {
  check_cli_part(2);
}

TEST_CASE("a model too large to hold in memory is described by summary but refused by train before allocating",
          "[reliability][config][cli]") {
  TempDir tmp;
  // 4096 -> 1e9 channels, 3x3: 3.7e13 parameters (147 TB of weights). Countable, so summary reports it; train
  // must refuse before LibTorch tries to allocate (or, with overcommit, gets the process killed).
  const std::string config = tmp.write("huge.toml", R"(name = "huge"
[data]
dataset = "synthetic"
synthetic_train = 1
synthetic_test = 1
synthetic_shape = [4096, 12, 12]
[model]
input = [4096, 12, 12]
[[model.layers]]
name = "wide"
block = "conv"
out = 1000000000
kernel = 3
padding = 1
[[model.layers]]
name = "pool"
block = "global_avgpool"
[[model.layers]]
name = "head"
block = "linear"
out = 10
)");
  InceptProcess summary({"summary", config}, tmp.path(), tmp.path(), "summary");
  InceptProcess train({"train", config, "--quiet", "--db", "runs.db"}, tmp.path(), tmp.path(), "train");
  const CommandResult s = summary.result(), t = train.result();
  INFO("summary stderr: " << s.err << "\ntrain stderr: " << t.err);
  CHECK(s.status == 0);
  CHECK(contains(s.out, "36,875,000,000,010"));  // 4096*9*1e9 + 1e9 + 1e9*10 + 10 parameters
  // Described, with a warning that it cannot be trained here.
  CHECK(contains(s.err, "warning: the model's float32 weights (36875000000010 parameters) needs"));
  CHECK(contains(s.err, "`incept train` will refuse it"));
  CHECK(t.status == 1);
  CHECK(contains(t.err, "error: the model's float32 weights (36875000000010 parameters)"));
  CHECK(contains(t.err, "more than this machine's"));
  CHECK_FALSE(looks_like_a_crash(t.err));
  // Refused while the run was being set up: nothing was recorded.
  CHECK(RunStore::open_read_only((tmp.path() / "runs.db").string()).list_runs().empty());
}
