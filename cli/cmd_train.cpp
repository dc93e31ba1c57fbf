// Commands that train: train, resume.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "experiments/config/experiment_config.h"
#include "experiments/train/trainer.h"

namespace incept {

namespace {

std::string percent(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

// Exit status: exit_code(status) (0 completed, 1 failed, 3 diverged, 130 interrupted, like a shell's Ctrl-C).
int report(const TrainOutcome& o, const std::string& db) {
  std::cout << fmt::format("run {} {}: {} epochs, final test acc {}, best {}, {:.1f} s (database {})\n", o.run_id,
                           to_string(o.status), o.epochs_done, percent(o.final_test_acc), percent(o.best_test_acc),
                           o.train_seconds, db);
  if (!o.error.empty()) std::cerr << (o.status == RunStatus::failed ? "error: " : "") << o.error << "\n";
  return exit_code(o.status);
}

}  // namespace

void add_train_commands(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    std::string db = "runs.db";
    bool quiet = false;
    std::int64_t run_id = 0;
    std::string sweep, variant, expect_experiment;
  };
  auto a = std::make_shared<Args>();
  CLI::App* train = app.add_subcommand("train", "train a config and record the run in the SQLite log");
  train->add_option("config", a->config, "config file (TOML)")->required();
  train->add_option("--set", a->sets, "override a config value, e.g. --set train.epochs=1");
  train->add_option("--db", a->db, "run database (default runs.db)")->check(non_empty());
  train->add_flag("--quiet", a->quiet, "no progress output");
  train->add_option("--sweep", a->sweep, "record the run as part of this sweep")->group("");
  train->add_option("--variant", a->variant, "record the run as this sweep variant")->group("");
  train->add_option("--expect-experiment", a->expect_experiment, "refuse a config that is not this experiment")
      ->group("");
  train->callback([a] {
    ExperimentConfig cfg = load_experiment(a->config, a->sets);
    install_interrupt_handler();
    TrainOptions opts;
    opts.db_path = a->db;
    opts.quiet = a->quiet;
    opts.sweep = a->sweep;
    opts.variant = a->variant;
    opts.expect_experiment = a->expect_experiment;
    int status = report(train_experiment(cfg, opts), a->db);
    if (status != 0) throw CLI::RuntimeError(status);
  });

  auto r = std::make_shared<Args>();
  CLI::App* resume = app.add_subcommand("resume", "continue an interrupted run from its last checkpoint");
  resume->add_option("run_id", r->run_id, "run id (see incept runs)")->required();
  resume->add_option("--db", r->db, "run database (default runs.db)")->check(non_empty());
  resume->add_flag("--quiet", r->quiet, "no progress output");
  resume->callback([r] {
    install_interrupt_handler();
    TrainOptions opts;
    opts.db_path = r->db;
    opts.quiet = r->quiet;
    int status = report(resume_run(r->run_id, opts), r->db);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace incept
