// --jobs auto: the splits it considers, the estimate it chooses by, and the rules it falls back on, each said.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "experiments/config/experiment_identity.h"
#include "experiments/store/process_identity.h"
#include "experiments/sweep/auto_jobs.h"
#include "framework/text.h"
#include "tests/support/temp_files.h"

using namespace incept;
using Catch::Matchers::Contains;

namespace {

std::string why(const JobsDecision& d) { return join(d.why, "\n"); }

// A planned fresh cell of a CPU network with `macs` MACs, `epochs` epochs of `images` images, seed `seed`.
PlannedVariant cell(std::size_t index, std::int64_t epochs, std::int64_t seed, std::int64_t macs = 20'000'000,
                    std::int64_t images = 60000, const std::string& device = "cpu") {
  const std::string text = fmt::format("name = 'net'\n[model]\ninput = [1, 28, 28]\n[train]\ndevice = '{}'\n"
                                       "epochs = {}\nseed = {}\n",
                                       device, epochs, seed);
  PlannedVariant p;
  p.variant.variant.index = index;
  p.variant.variant.seed = seed;
  p.variant.config_name = "net";
  p.variant.config_toml = text;
  p.variant.hash = experiment_hash(toml::parse(text));
  p.variant.prefix = epoch_prefix(toml::parse(text));
  p.variant.macs = macs;
  p.variant.train_images = images;
  return p;
}

}  // namespace

TEST_CASE("the splits measured: powers of two up to the cores, and the number of trainings") {
  const auto text = [](const std::vector<JobsSplit>& splits) {
    std::vector<std::string> out;
    for (const JobsSplit& s : splits) out.push_back(fmt::format("{}x{}", s.jobs, s.threads));
    return join(out, " ");
  };
  CHECK(text(candidate_splits(2, 24)) == "1x2 2x1");
  CHECK(text(candidate_splits(16, 100)) == "1x16 2x8 4x4 8x2 16x1");
  CHECK(text(candidate_splits(16, 3)) == "1x16 2x8 3x5");
  CHECK(text(candidate_splits(6, 6)) == "1x6 2x3 4x1 6x1");
  CHECK(text(candidate_splits(4, 1)) == "1x4");
}

TEST_CASE("the estimate hands trainings out longest first, so a lone last training costs its full time") {
  CHECK(estimated_seconds({10, 10}, 2, 1) == Approx(10));
  CHECK(estimated_seconds({10, 10, 10}, 2, 1) == Approx(20));
  CHECK(estimated_seconds({10, 10, 10}, 1, 2) == Approx(15));
  CHECK(estimated_seconds({4, 1, 1, 1, 1}, 2, 1) == Approx(4));
}

TEST_CASE("a calibration chooses the fastest split for these trainings, a near tie going to fewer jobs") {
  Calibration c;
  c.host = "h";
  c.cores = 2;
  c.config_name = "net";
  c.measured_at = "2024-01-01T00:00:00Z";
  c.points = {{1, 2, 1000, 300 << 20}, {2, 1, 1280, 300 << 20}};
  // Twelve equal trainings: two at a time at 640 img/s each beat one at 1000.
  const JobsDecision twelve = choose_from_calibration(c, std::vector<double>(12, 240000), 0, "measured");
  CHECK(twelve.split.jobs == 2);
  CHECK(twelve.split.threads == 1);
  CHECK_THAT(why(twelve), Contains("1 x 2 threads 1,000 img/s") && Contains("2 x 1 thread 1,280 img/s"));
  CHECK_THAT(why(twelve), Contains("12 trainings estimated: 48.0 min at 1 x 2 threads, 37.5 min at 2 x 1 thread"));
  // Three trainings: the last one alone at 640 img/s; 1x2 takes 720 s, 2x1 750 s.
  CHECK(choose_from_calibration(c, std::vector<double>(3, 240000), 0, "measured").split.jobs == 1);
  // Within 2%: the fewer jobs win.
  c.points[1].images_per_s = 1010;
  CHECK(choose_from_calibration(c, std::vector<double>(12, 240000), 0, "measured").split.jobs == 1);
  SECTION("a split that would not fit in memory is left out, and said so") {
    c.points[1].images_per_s = 1280;
    const JobsDecision tight = choose_from_calibration(c, std::vector<double>(12, 240000), 500 << 20, "measured");
    CHECK(tight.split.jobs == 1);
    CHECK_THAT(why(tight), Contains("left out, too little memory: 2 x 1 thread (needs 600 MiB, 500 MiB available)"));
  }
}

TEST_CASE("without measurements: one training gets every core, a GPU one training, a short sweep one per core") {
  AutoJobsRequest r;
  r.db_path = "/nonexistent/runs.db";  // nothing recorded; nothing may be measured here
  r.may_measure = false;
  r.cores = 4;
  r.plan = {cell(0, 2, 0), cell(1, 4, 0)};  // one prefix group
  JobsDecision one = decide_jobs(r);
  CHECK(one.split.jobs == 1);
  CHECK(one.split.threads == 4);
  CHECK_THAT(why(one), Contains("one training to run: it gets all 4 cores"));
  CHECK_FALSE(one.pending);

  r.prefix_reuse = false;  // two trainings now, tiny: short
  r.plan = {cell(0, 1, 0, 1000, 64), cell(1, 1, 1, 1000, 64), cell(2, 1, 2, 1000, 64)};
  JobsDecision tiny = decide_jobs(r);
  CHECK(tiny.split.jobs == 3);
  CHECK(tiny.split.threads == 1);
  CHECK_THAT(why(tiny), Contains("a short sweep (3 trainings") && Contains("does not repay a calibration"));

  r.plan = {cell(0, 2, 0, 1000, 64, "cuda"), cell(1, 2, 1, 1000, 64, "cuda")};
  JobsDecision gpu = decide_jobs(r);
  CHECK(gpu.split.jobs == 1);
  CHECK_THAT(why(gpu), Contains("GPU"));

  r.plan = {cell(0, 20, 0), cell(1, 20, 1), cell(2, 20, 2)};  // long: worth measuring, but a dry run may not
  JobsDecision dry = decide_jobs(r);
  CHECK(dry.pending);
  CHECK_THAT(why(dry), Contains("a run measures 1 x 4 threads, 2 x 2 threads, 3 x 1 thread first"));

  r.cores = 1;
  CHECK(decide_jobs(r).split.jobs == 1);
}

TEST_CASE("a calibration recorded in the log for this host, core count and network is reused") {
  testing::TempDir tmp;
  AutoJobsRequest r;
  r.db_path = (tmp.path() / "runs.db").string();
  r.may_measure = false;
  r.cores = 2;
  r.plan = {cell(0, 20, 0), cell(1, 20, 1), cell(2, 20, 2), cell(3, 20, 3)};
  Calibration c;
  c.host = this_host_name();
  c.cores = 2;
  c.workload = calibration_workload(r.plan[0].variant);
  c.config_name = "net";
  c.load = 0.25;
  c.points = {{1, 2, 1000, 0}, {2, 1, 1500, 0}};
  RunStore::open(r.db_path).record_calibration(c);
  // Every seed and length of the network is one workload.
  CHECK(calibration_workload(r.plan[3].variant) == c.workload);
  PlannedVariant other = cell(9, 3, 0);
  other.variant.config_toml += "[data]\ntrain_limit = 5\n";
  CHECK(calibration_workload(other.variant) != c.workload);  // another recipe

  const JobsDecision d = decide_jobs(r);
  CHECK_FALSE(d.pending);
  CHECK(d.split.jobs == 2);
  CHECK_THAT(why(d), Contains("measured earlier (recorded in the log) for net on " + this_host_name()));
  CHECK_THAT(why(d), Contains("2 cores, load 0.25"));
  r.cores = 4;  // another core count: not this calibration
  CHECK(decide_jobs(r).pending);
}
