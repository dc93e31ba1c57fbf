// Commands that train: train, resume, and the probe behind `incept sweep --jobs auto`.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "experiments/config/experiment_config.h"
#include "experiments/train/throughput_probe.h"
#include "experiments/train/trainer.h"
#include "framework/diagnostics.h"

namespace incept {

namespace {

// How bad an ending is, for the exit status of a pack.
int severity(RunStatus s) {
  switch (s) {
    case RunStatus::completed: return 0;
    case RunStatus::running: return 1;
    case RunStatus::diverged: return 2;
    case RunStatus::failed: return 3;
    case RunStatus::interrupted: return 4;
  }
  return 3;
}

std::string percent(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

void print_outcome(const TrainOutcome& o, const std::string& db, const std::string& note) {
  std::cout << fmt::format("run {}{} {}: {} epochs, final test acc {}, best {}, {:.1f} s (database {}){}\n", o.run_id,
                           o.label.empty() ? "" : " (" + o.label + ")", to_string(o.status), o.epochs_done,
                           percent(o.final_test_acc), percent(o.best_test_acc), o.train_seconds, db, note);
}

// Exit status: exit_code(status) (0 completed, 1 failed, 3 diverged, 130 interrupted, like a shell's Ctrl-C), the
// training's own: the runs recorded with it report their outcomes in the log and here.
int report(const TrainOutcome& o, const std::string& db) {
  RunStatus worst = o.status;
  for (const TrainOutcome& m : o.members) {
    print_outcome(m, db, o.packed ? fmt::format("; trained in one packed network with run {}", o.run_id)
                                  : fmt::format("; recorded from run {}", o.run_id));
    // A pack's members are trainings of their own: the exit status is the worst of them (interrupted, failed,
    // diverged, completed, in that order), so a sweep or a script sees any that did not complete.
    if (o.packed && severity(m.status) > severity(worst)) worst = m.status;
    if (!m.error.empty() && m.status != o.status)
      std::cerr << fmt::format("run {}: {}{}\n", m.run_id, m.status == RunStatus::failed ? "error: " : "", m.error);
  }
  print_outcome(o, db, "");
  if (!o.error.empty()) std::cerr << (o.status == RunStatus::failed ? "error: " : "") << o.error << "\n";
  return exit_code(worst);
}

// --prefix-members FILE and --pack-with FILE (from a sweep): [[member]] tables with `config` (a resolved config file), `variant` and
// `experiment` (the experiment the sweep planned). Each is read with the training's --set overrides, so it runs
// with the same execution settings (train.threads) and records them.
std::vector<PrefixMemberConfig> read_prefix_members(const std::string& path, const std::vector<std::string>& sets) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}: {}", path, e.description()));
  }
  std::vector<PrefixMemberConfig> out;
  const toml::array* members = t["member"].as_array();
  if (!members) throw UserError(fmt::format("{}: no [[member]] tables", path));
  for (const toml::node& node : *members) {
    const toml::table* m = node.as_table();
    const auto config = m ? (*m)["config"].value<std::string>() : std::nullopt;
    if (!config) throw UserError(fmt::format("{}: a [[member]] without `config`", path));
    PrefixMemberConfig c;
    c.config = load_experiment(*config, sets);
    c.variant = (*m)["variant"].value_or(std::string());
    c.expect_experiment = (*m)["experiment"].value_or(std::string());
    out.push_back(std::move(c));
  }
  return out;
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
    std::string prefix_members, pack_with;
    std::vector<std::int64_t> resume_with, pack_with_runs;
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
  train->add_option("--prefix-members", a->prefix_members,
                    "record these configs' runs from this training, each at its last epoch")
      ->group("");
  train->add_option("--pack-with", a->pack_with, "train these configs with this one as one packed network")
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
    if (!a->prefix_members.empty()) opts.prefix_members = read_prefix_members(a->prefix_members, a->sets);
    if (!a->pack_with.empty()) opts.pack_with = read_prefix_members(a->pack_with, a->sets);
    int status = report(train_experiment(cfg, opts), a->db);
    if (status != 0) throw CLI::RuntimeError(status);
  });

  auto r = std::make_shared<Args>();
  CLI::App* resume = app.add_subcommand("resume", "continue an interrupted run from its last checkpoint");
  resume->add_option("run_id", r->run_id, "run id (see incept runs)")->required();
  resume->add_option("--db", r->db, "run database (default runs.db)")->check(non_empty());
  resume->add_flag("--quiet", r->quiet, "no progress output");
  resume->add_option("--with-run", r->resume_with, "resume these runs with it (their checkpoints hold its state)")
      ->group("");
  resume->add_option("--pack-with-run", r->pack_with_runs,
                     "resume these runs with it as one packed network (their checkpoints at its position)")
      ->group("");
  resume->callback([r] {
    install_interrupt_handler();
    TrainOptions opts;
    opts.db_path = r->db;
    opts.quiet = r->quiet;
    opts.resume_with = r->resume_with;
    opts.pack_with_runs = r->pack_with_runs;
    int status = report(resume_run(r->run_id, opts), r->db);
    if (status != 0) throw CLI::RuntimeError(status);
  });

  // For `incept sweep --jobs auto`, not for people (experiments/sweep/auto_jobs.h): prints "ready" once built and
  // warmed up, waits for the sweep to create the --go file (so the probes of one split time the same seconds), then
  // prints "throughput images_per_s=... batches=... seconds=... peak_rss=...".
  struct ProbeArgs {
    std::string config, go;
    int threads = 1;
    double seconds = 3;
  };
  auto p = std::make_shared<ProbeArgs>();
  CLI::App* probe = app.add_subcommand("throughput-probe", "measure training throughput (for sweep --jobs auto)");
  probe->group("");
  probe->add_option("config", p->config, "config file (TOML)")->required();
  probe->add_option("--threads", p->threads, "intra-op threads")->check(CLI::Range(1, 4096));
  probe->add_option("--seconds", p->seconds, "timed window")->check(CLI::Range(0.1, 600.0));
  probe->add_option("--go", p->go, "start the timed window once this file exists")->required();
  probe->callback([p] {
    const ExperimentConfig cfg = load_experiment(p->config);
    const pid_t parent = ::getppid();
    const ThroughputSample s = probe_training_throughput(cfg, p->threads, p->seconds, [&] {
      std::cout << "ready" << std::endl;
      // Without its sweep (stopped, killed) nobody creates the file: give up rather than wait forever.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(600);
      while (!std::filesystem::exists(p->go)) {
        if (::getppid() != parent || std::chrono::steady_clock::now() > deadline)
          throw UserError("the sweep that started this probe went away");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    std::cout << fmt::format("throughput images_per_s={:.3f} batches={} seconds={:.3f} peak_rss={}\n",
                             s.images_per_s, s.batches, s.seconds, s.peak_rss)
              << std::flush;
  });
}

}  // namespace incept
