// Prefix reuse, decided: which runs are the same computation up to an epoch (experiment_identity.h), and which
// cells of a sweep one training answers together (prefix_groups.h).
#include <catch2/catch.hpp>

#include "experiments/config/experiment_identity.h"
#include "experiments/sweep/prefix_groups.h"

using namespace incept;

namespace {

toml::table config(const std::string& train) { return toml::parse("[model]\ninput = [1, 8, 8]\n[train]\n" + train); }

// A planned cell of `train` (a [train] table's lines), `action`, resumed from a checkpoint with `md5` at `epoch`.
PlannedVariant cell(std::size_t index, const std::string& train, PlanAction action = PlanAction::train,
                    const std::string& md5 = "", std::int64_t epoch = 1) {
  PlannedVariant p;
  p.variant.variant.index = index;
  p.variant.variant.name = "v" + std::to_string(index);
  p.variant.prefix = epoch_prefix(config(train));
  p.action = action;
  if (action != PlanAction::train) {
    RunRecord r;
    r.id = static_cast<std::int64_t>(index) + 100;
    r.status = RunStatus::interrupted;
    r.checkpoint = CheckpointRef{"/c.pt", epoch, 7, md5};
    p.earlier = r;
  }
  return p;
}

}  // namespace

TEST_CASE("runs differing only in epochs under a constant, step or exponential schedule share their prefix") {
  for (const char* schedule : {"", "schedule = 'constant'\n", "schedule = 'step'\nstep_size = 1\ngamma = 0.5\n",
                               "schedule = 'exponential'\ngamma = 0.9\n", "warmup_epochs = 3\n"}) {
    INFO(schedule);
    const toml::table two = config(std::string(schedule) + "epochs = 2\nseed = 1\n");
    const toml::table four = config(std::string(schedule) + "epochs = 4\nseed = 1\nthreads = 3\n");
    CHECK(shared_epoch_prefix(two, four) == 2);
    CHECK(shared_epoch_prefix(four, two) == 2);
    CHECK(epoch_prefix(two).key == epoch_prefix(four).key);
    CHECK_FALSE(epoch_prefix(two).key.empty());
    CHECK(epoch_prefix(four).epochs == 4);
  }
  // Without train.epochs, the default (2) is the run's length.
  CHECK(shared_epoch_prefix(config("seed = 1\n"), config("seed = 1\nepochs = 5\n")) == 2);
}

TEST_CASE("a cosine schedule reads the number of epochs: such runs share nothing") {
  const toml::table two = config("schedule = 'cosine'\nepochs = 2\n");
  const toml::table four = config("schedule = 'cosine'\nepochs = 4\n");
  CHECK(epoch_prefix(two).key.empty());
  CHECK(shared_epoch_prefix(two, four) == 0);
  CHECK(shared_epoch_prefix(two, two) == 0);
}

TEST_CASE("another seed, learning rate or network is another computation from the first batch") {
  const toml::table base = config("epochs = 2\nseed = 1\n");
  CHECK(shared_epoch_prefix(base, config("epochs = 4\nseed = 2\n")) == 0);
  CHECK(shared_epoch_prefix(base, config("epochs = 4\nseed = 1\nlr = 0.3\n")) == 0);
  toml::table wider = config("epochs = 4\nseed = 1\n");
  wider.insert_or_assign("model", toml::table{{"input", toml::array{1, 16, 16}}});
  CHECK(shared_epoch_prefix(base, wider) == 0);
}

TEST_CASE("a sweep's fresh cells of one prefix form one group led by the longest") {
  // Plan order as seed004_reproduction has it: the 2-epoch cells, then the 4-epoch cells, of two seeds.
  std::vector<PlannedVariant> plan{cell(0, "epochs = 2\nseed = 0\n"), cell(1, "epochs = 2\nseed = 1\n"),
                                   cell(2, "epochs = 4\nseed = 0\n"), cell(3, "epochs = 4\nseed = 1\n"),
                                   cell(4, "epochs = 3\nseed = 0\n")};
  const std::vector<PrefixGroup> groups = prefix_groups(plan, true);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].leader == 2);
  CHECK(groups[0].members == std::vector<std::size_t>{0, 4});  // fewest epochs first
  CHECK(groups[1].leader == 3);
  CHECK(groups[1].members == std::vector<std::size_t>{1});
  CHECK(can_record_from(plan[2], plan[0]));
  CHECK_FALSE(can_record_from(plan[0], plan[2]));  // a shorter run cannot record a longer one
  CHECK_FALSE(can_record_from(plan[3], plan[0]));  // another seed

  SECTION("without reuse every cell trains on its own") {
    const std::vector<PrefixGroup> alone = prefix_groups(plan, false);
    REQUIRE(alone.size() == 5);
    for (std::size_t i = 0; i < alone.size(); ++i) {
      CHECK(alone[i].leader == i);
      CHECK(alone[i].members.empty());
    }
  }
  SECTION("cells that are done are in no group") {
    plan[2].action = PlanAction::skip;
    const std::vector<PrefixGroup> rest = prefix_groups(plan, true);
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].leader == 4);
    CHECK(rest[0].members == std::vector<std::size_t>{0});
  }
}

TEST_CASE("cosine cells, and a fresh cell with a resumed one, are trained apart") {
  std::vector<PlannedVariant> cosine{cell(0, "schedule = 'cosine'\nepochs = 2\n"),
                                     cell(1, "schedule = 'cosine'\nepochs = 4\n")};
  CHECK(prefix_groups(cosine, true).size() == 2);
  // The resumed run's state at the fresh run's end is gone.
  std::vector<PlannedVariant> mixed{cell(0, "epochs = 2\n"), cell(1, "epochs = 4\n", PlanAction::resume, "aa")};
  CHECK(prefix_groups(mixed, true).size() == 2);
  CHECK_FALSE(can_record_from(mixed[1], mixed[0]));
}

TEST_CASE("stopped runs resume together only from the same state: equal checkpoint payloads at one position") {
  std::vector<PlannedVariant> plan{cell(0, "epochs = 3\n", PlanAction::resume, "same", 1),
                                   cell(1, "epochs = 4\n", PlanAction::resume, "same", 1),
                                   cell(2, "epochs = 2\n", PlanAction::resume, "other", 1),
                                   cell(3, "epochs = 5\n", PlanAction::resume, "", 1)};
  const std::vector<PrefixGroup> groups = prefix_groups(plan, true);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].leader == 1);
  CHECK(groups[0].members == std::vector<std::size_t>{0});
  CHECK(groups[1].leader == 2);  // another payload: trained apart
  CHECK(groups[1].members.empty());
  CHECK(groups[2].leader == 3);  // a checkpoint without a checksum (before schema 3) shares nothing
  CHECK(groups[2].members.empty());
}
