// Idempotent sweeps: what happens to a variant depends on the runs of the same experiment already in the log.
#include <catch2/catch.hpp>

#include "experiments/config/experiment_identity.h"
#include "experiments/sweep/plan.h"
#include "experiments/sweep/runner.h"

using namespace incept;

namespace {

RunRecord run(std::int64_t id, RunStatus status, const std::string& checkpoint = "") {
  RunRecord r;
  r.id = id;
  r.status = status;
  r.checkpoint.path = checkpoint;
  r.started_at = "2024-01-01T00:00:0" + std::to_string(id) + "Z";
  return r;
}

PlannedVariant plan(const std::vector<RunRecord>& earlier, bool checkpoints_exist = true) {
  ResolvedVariant v;
  v.variant.name = "naive";
  return plan_variant(v, earlier, [&](const std::string&) { return checkpoints_exist; });
}

}  // namespace

TEST_CASE("a new variant is trained") {
  PlannedVariant p = plan({});
  CHECK(p.action == PlanAction::train);
  CHECK_FALSE(p.earlier);
}

TEST_CASE("a completed variant is skipped, even after a later failure") {
  PlannedVariant p = plan({run(1, RunStatus::completed), run(2, RunStatus::failed)});
  CHECK(p.action == PlanAction::skip);
  CHECK(p.earlier->id == 1);
  CHECK(p.reason == "completed as run 1");
}

TEST_CASE("a diverged variant counts as done and is not retried") {
  PlannedVariant p = plan({run(1, RunStatus::failed), run(2, RunStatus::diverged)});
  CHECK(p.action == PlanAction::skip);
  CHECK(p.earlier->status == RunStatus::diverged);
}

TEST_CASE("a variant running in another process is left alone") {
  CHECK(plan({run(3, RunStatus::running)}).action == PlanAction::skip);
}

TEST_CASE("an interrupted variant with its checkpoint is resumed, without one it is trained again") {
  PlannedVariant resumed = plan({run(1, RunStatus::failed), run(2, RunStatus::interrupted, "/ckpt/run-2.pt")});
  CHECK(resumed.action == PlanAction::resume);
  CHECK(resumed.earlier->id == 2);
  CHECK(plan({run(2, RunStatus::interrupted, "")}).action == PlanAction::train);
  CHECK(plan({run(2, RunStatus::interrupted, "/gone.pt")}, false).action == PlanAction::train);
}

TEST_CASE("a failed variant is trained again") {
  PlannedVariant p = plan({run(4, RunStatus::failed)});
  CHECK(p.action == PlanAction::train);
  CHECK(p.reason == "train again (run 4 failed)");
}

TEST_CASE("the run history finds runs by experiment, whatever their thread count") {
  RunRecord a = run(1, RunStatus::completed), b = run(2, RunStatus::failed), c = run(3, RunStatus::completed);
  a.experiment_hash = stored_experiment_hash("[train]\nepochs = 1\nthreads = 2\n");
  b.experiment_hash = stored_experiment_hash("[train]\nepochs = 1\nthreads = 1\n");
  c.experiment_hash = stored_experiment_hash("[train]\nepochs = 2\n");
  RunHistory h({c, b, a});
  std::vector<RunRecord> same = h.runs_of(experiment_hash(toml::parse("[train]\nepochs = 1\n")));
  REQUIRE(same.size() == 2);
  CHECK(same[0].id == 1);  // oldest first
  CHECK(same[1].id == 2);
  CHECK(h.last_id() == 3);
}

TEST_CASE("children train the planned config with their share of the cores, or resume") {
  PlannedVariant p;
  p.variant.variant.name = "ratio=0.25";
  p.variant.variant.base = "configs/mnist/reduced.toml";
  p.variant.variant.overrides = {"train.epochs=1", "model.defaults.inception_reduced.ratio=0.25", "train.seed=2"};
  SweepRunOptions o;
  o.executable = "/bin/incept";
  o.db_path = "runs.db";
  o.sweep_name = "ratio";
  o.threads_per_job = 4;
  p.variant.hash = "0123456789abcdef";
  CHECK(child_command(p, o, "/tmp/incept-sweep-x/variant-3.toml") ==
        std::vector<std::string>{"/bin/incept", "train", "/tmp/incept-sweep-x/variant-3.toml", "--set",
                                 "train.threads=4", "--sweep", "ratio", "--variant", "ratio=0.25",
                                 "--expect-experiment", "0123456789abcdef", "--db", "runs.db", "--quiet"});
  p.action = PlanAction::resume;
  p.earlier = RunRecord{};
  p.earlier->id = 17;
  CHECK(child_command(p, o, "") ==
        std::vector<std::string>{"/bin/incept", "resume", "17", "--db", "runs.db", "--quiet"});
}
