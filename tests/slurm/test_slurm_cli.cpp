// `incept sweep` options for Slurm that need no cluster: the dry run, --status of a sweep trained without Slurm,
// and the options that only go with --slurm.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>

#include "experiments/store/run_store.h"
#include "experiments/sweep/sweep.h"
#include "tests/support/temp_files.h"
#include "tests/support/tiny_config.h"

using namespace incept;
using incept::testing::CommandResult;
using incept::testing::run_incept;
using incept::testing::TempDir;

namespace {

namespace fs = std::filesystem;

const char* kSweep = R"(name = "cli-sweep"
base = "tiny.toml"
seeds = [0, 1]
[grid]
"model.mix.out" = [4, 6]
)";

std::string output(const CommandResult& r) { return r.out + r.err; }

struct Fixture {
  Fixture() {
    dir.write("tiny.toml", testing::kTinyTrainingConfig);
    dir.write("sweep.toml", kSweep);
  }
  CommandResult incept(const std::string& args) const { return run_incept(args, dir.path().string()); }
  std::vector<ResolvedVariant> variants() const {
    const Sweep s = load_sweep((dir.path() / "sweep.toml").string());
    return resolve_variants(s, s.variants);
  }
  TempDir dir;
};

}  // namespace

TEST_CASE("a dry run with --slurm prints the plan, the workers and both job scripts, and writes and submits nothing") {
  ::unsetenv("SLURM_CONF");  // whatever Slurm there is, the dry run does not need it
  Fixture f;
  const CommandResult r =
      f.incept("sweep sweep.toml --slurm --dry-run --workers 3 --sbatch=--partition=short --sbatch='-A proj' "
               "--set train.epochs=1");
  INFO(output(r));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("4 to train, 0 to resume, 0 done or running elsewhere; 3 workers"));
  CHECK_THAT(r.out, Catch::Contains("worker 1: 1 (mix.out=4 seed=0), 4 (mix.out=6 seed=1)"));
  CHECK_THAT(r.out, Catch::Contains("dry run: nothing submitted"));
  CHECK_THAT(r.out, Catch::Contains("#SBATCH --array=1-3"));
  CHECK_THAT(r.out, Catch::Contains("#SBATCH --partition=short"));
  CHECK_THAT(r.out, Catch::Contains("#SBATCH -A proj"));
  CHECK_THAT(r.out, Catch::Contains("--set train.epochs=1"));
  CHECK_THAT(r.out, Catch::Contains("sbatch --dependency=afterany:ARRAY"));
  CHECK_THAT(r.out, Catch::Contains("sweep --slurm-finish"));
  CHECK_FALSE(fs::exists(f.dir.path() / "runs.db"));
  CHECK_FALSE(fs::exists(f.dir.path() / "runs.db.slurm"));
}

TEST_CASE("prefix groups stay with one worker, which trains them once and picks its jobs on its node") {
  ::unsetenv("SLURM_CONF");
  Fixture f;
  f.dir.write("lengths.toml", "name = \"lengths\"\nbase = \"tiny.toml\"\nseeds = [0, 1]\n[grid]\n"
                              "\"train.epochs\" = [1, 2]\n");
  const CommandResult r = f.incept("sweep lengths.toml --slurm --dry-run");
  INFO(output(r));
  REQUIRE(r.status == 0);
  // Four cells, two trainings: one worker each, each with both lengths of its seed.
  CHECK_THAT(r.out, Catch::Contains("4 to train, 0 to resume, 0 done or running elsewhere; 2 workers"));
  CHECK_THAT(r.out, Catch::Contains("worker 1: 1 (epochs=1 seed=0), 3 (epochs=2 seed=0)"));
  CHECK_THAT(r.out, Catch::Contains("worker 2: 2 (epochs=1 seed=1), 4 (epochs=2 seed=1)"));
  CHECK_THAT(r.out, Catch::Contains("--slurm-worker --jobs auto &"));
  const CommandResult apart = f.incept("sweep lengths.toml --slurm --dry-run --no-prefix-reuse --jobs 2");
  INFO(output(apart));
  CHECK_THAT(apart.out, Catch::Contains("4 workers"));
  CHECK_THAT(apart.out, Catch::Contains("--slurm-worker --jobs 2 --no-prefix-reuse &"));
}

TEST_CASE("a sweep that trains on CUDA asks Slurm for a GPU per worker, unless --sbatch asks for GPUs") {
  ::unsetenv("SLURM_CONF");
  Fixture f;
  const CommandResult gpu = f.incept("sweep sweep.toml --slurm --dry-run --set train.device=cuda");
  INFO(output(gpu));
  REQUIRE(gpu.status == 0);
  CHECK_THAT(gpu.out, Catch::Contains("4 workers, one GPU each"));
  CHECK_THAT(gpu.out, Catch::Contains("#SBATCH --gres=gpu:1"));
  const CommandResult own = f.incept("sweep sweep.toml --slurm --dry-run --set train.device=cuda --sbatch=--gpus=2");
  CHECK_THAT(own.out, !Catch::Contains("--gres=gpu:1"));
  CHECK_THAT(own.out, Catch::Contains("#SBATCH --gpus=2"));
  const CommandResult cpu = f.incept("sweep sweep.toml --slurm --dry-run --set train.device=cpu");
  CHECK_THAT(cpu.out, !Catch::Contains("--gres"));
}

TEST_CASE("a sweep's --status works without Slurm, and the Slurm options need --slurm") {
  ::unsetenv("SLURM_CONF");
  Fixture f;
  const std::vector<ResolvedVariant> v = f.variants();
  REQUIRE(f.incept("sweep sweep.toml --db runs.db --only-cells 1:" + v[0].hash).status == 0);
  const CommandResult status = f.incept("sweep --status sweep.toml --db runs.db");
  INFO(output(status));
  REQUIRE(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("4 cells: 1 completed, 3 not started"));
  CHECK_THAT(status.out, Catch::Matches("(.|\n)*1  mix.out=4 +0  completed +2/2(.|\n)*"));

  // Usage errors exit with status 2.
  CHECK(f.incept("sweep sweep.toml --wait").status == 2);
  CHECK(f.incept("sweep sweep.toml --workers 2").status == 2);
  CHECK(f.incept("sweep sweep.toml --slurm --shard 1/2").status == 2);
  CHECK(f.incept("sweep --status").status == 2);
}
