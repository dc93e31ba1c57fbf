#include "experiments/sweep/runner.h"

#include <poll.h>
#include <sched.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "experiments/sweep/child_process.h"
#include "experiments/sweep/stop_signals.h"

namespace incept {

namespace {

// `incept train` exit statuses (cli/cmd_train.cpp); anything else, a config error (2) included, is a failure.
std::string status_of_exit(int code) {
  if (code == 0) return "completed";
  if (code == 3) return "diverged";
  if (code == 130) return "interrupted";
  return "failed";
}

std::string label(const PlannedVariant& p) {
  return fmt::format("{} seed={}", p.variant.variant.name, p.variant.variant.seed);
}

struct Running {
  ChildProcess child;
  std::size_t slot;  // index into the outcomes
};

class SweepExecution {
 public:
  SweepExecution(const std::vector<PlannedVariant>& plan, const SweepRunOptions& options)
      : options_(options), out_(options.out ? *options.out : std::cout) {
    for (const PlannedVariant& p : plan) {
      VariantOutcome o;
      o.planned = p;
      if (p.action == PlanAction::skip) {
        o.action = "skip";
        o.status = p.earlier ? p.earlier->status : "completed";
        o.run = p.earlier;
      } else {
        o.action = "-";
        o.status = "not run";
        queue_.push_back(result_.outcomes.size());
      }
      result_.outcomes.push_back(std::move(o));
    }
  }

  SweepResult run() {
    StopSignals signals;
    std::size_t next = 0;
    for (;;) {
      if (int sig = signals.take()) {
        result_.interrupted = true;
        stop(sig, fmt::format("sweep: {}; waiting for {} running training(s) to checkpoint",
                              sig == SIGINT ? "interrupted" : "terminated", running_.size()));
      }
      while (!stopping_ && running_.size() < static_cast<std::size_t>(std::max(1, options_.jobs)) &&
             next < queue_.size())
        launch(queue_[next++]);
      if (running_.empty()) break;
      wait_for_output();
      collect();
    }
    return std::move(result_);
  }

 private:
  void launch(std::size_t slot) {
    VariantOutcome& o = result_.outcomes[slot];
    bool resume = o.planned.action == PlanAction::resume;
    ++launched_;
    out_ << fmt::format("[{}/{}] {} {}{}\n", launched_, queue_.size(), resume ? "resume" : "train",
                        label(o.planned), resume ? fmt::format(" (run {})", o.planned.earlier->id) : "")
         << std::flush;
    o.action = resume ? "resume" : "train";
    try {
      running_.push_back(Running{ChildProcess::start(child_command(o.planned, options_)), slot});
    } catch (const std::exception& e) {
      out_ << fmt::format("[{}] error: {}\n", label(o.planned), e.what()) << std::flush;
      finish(o, 127);
    }
  }

  void wait_for_output() {
    std::vector<pollfd> fds;
    for (const Running& r : running_)
      if (r.child.output_fd() >= 0) fds.push_back(pollfd{r.child.output_fd(), POLLIN, 0});
    // The timeout also notices children that exit after closing their output, and signals (EINTR).
    ::poll(fds.data(), fds.size(), 200);
  }

  void collect() {
    for (std::size_t i = 0; i < running_.size();) {
      Running& r = running_[i];
      VariantOutcome& o = result_.outcomes[r.slot];
      print(o, r.child.read_lines());
      std::optional<int> code = r.child.exit_status();
      if (!code) {
        ++i;
        continue;
      }
      print(o, r.child.read_lines());  // whatever it wrote just before exiting
      finish(o, *code);
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void print(const VariantOutcome& o, const std::vector<std::string>& lines) {
    for (const auto& line : lines) out_ << fmt::format("[{}] {}\n", label(o.planned), line);
    out_ << std::flush;
  }

  void finish(VariantOutcome& o, int code) {
    o.status = status_of_exit(code);
    if (o.status != "completed")
      out_ << fmt::format("[{}] {} (exit status {})\n", label(o.planned), o.status, code) << std::flush;
    if (o.status == "failed" && options_.fail_fast && !stopping_) {
      result_.stopped_early = true;
      stop(SIGINT, "sweep: stopping at the first failure (--fail-fast); interrupting the other trainings");
    }
  }

  void stop(int sig, const std::string& why) {
    stopping_ = true;
    out_ << why << "\n" << std::flush;
    for (const Running& r : running_) r.child.send_signal(sig);
  }

  const SweepRunOptions& options_;
  std::ostream& out_;
  SweepResult result_;
  std::vector<std::size_t> queue_;  // slots to train or resume, in order
  std::vector<Running> running_;
  std::size_t launched_ = 0;
  bool stopping_ = false;
};

// Each outcome's run as the log has it now: a resumed run keeps its id; a trained one is the newest run of that
// experiment created by this sweep (ids grow, so newer than every run the log had before).
void attach_runs(SweepResult& result, const RunHistory& after, std::int64_t last_id_before) {
  for (VariantOutcome& o : result.outcomes) {
    if (o.action == "skip" || o.action == "-") continue;
    for (const RunRecord& r : after.runs_of(o.planned.variant.hash)) {
      bool resumed_run = o.action == "resume" && o.planned.earlier && r.id == o.planned.earlier->id;
      bool new_run = o.action == "train" && r.id > last_id_before;
      if (resumed_run || new_run) o.run = r;
    }
  }
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::vector<std::string> child_command(const PlannedVariant& planned, const SweepRunOptions& options) {
  std::vector<std::string> cmd{options.executable};
  if (planned.action == PlanAction::resume) {
    cmd.insert(cmd.end(), {"resume", std::to_string(planned.earlier->id)});
  } else {
    cmd.insert(cmd.end(), {"train", planned.variant.variant.base});
    for (const std::string& o : planned.variant.variant.overrides) cmd.insert(cmd.end(), {"--set", o});
    cmd.insert(cmd.end(), {"--set", fmt::format("train.threads={}", std::max(1, options.threads_per_job)), "--sweep",
                           options.sweep_name, "--variant", planned.variant.variant.name});
  }
  cmd.insert(cmd.end(), {"--db", options.db_path, "--quiet"});
  return cmd;
}

int SweepResult::exit_status() const {
  if (interrupted) return 130;
  for (const VariantOutcome& o : outcomes)
    if (o.status == "failed" || o.status == "interrupted") return 1;
  return 0;
}

SweepResult run_sweep(const std::vector<PlannedVariant>& plan, const SweepRunOptions& options) {
  std::int64_t last_id_before = RunHistory::load(options.db_path, false).last_id();
  SweepResult result = SweepExecution(plan, options).run();
  attach_runs(result, RunHistory::load(options.db_path, false), last_id_before);
  return result;
}

}  // namespace incept
