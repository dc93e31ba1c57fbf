#include "experiments/sweep/runner.h"

#include <poll.h>
#include <sched.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "experiments/sweep/child_process.h"
#include "experiments/sweep/stop_signals.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "platform/temp_folder.h"

namespace incept {

namespace {

std::string label(const PlannedVariant& p) {
  return fmt::format("{} seed={}", p.variant.variant.name, p.variant.variant.seed);
}

// The children's config files, in a private folder removed with everything in it when the sweep ends.
class ConfigFolder {
 public:
  // Writes the variant's resolved config; returns the file's path.
  std::string write(const PlannedVariant& p) const {
    return folder_.write(fmt::format("variant-{}.toml", p.variant.variant.index + 1), p.variant.config_toml);
  }
  // Writes the members a training records (`incept train --prefix-members`) or trains with it as one packed network
  // (`--pack-with`), and their configs.
  std::string write_members(const PlannedVariant& leader, const std::vector<PlannedVariant>& members) const {
    toml::array list;
    for (const PlannedVariant& m : members)
      list.push_back(toml::table{{"config", write(m)}, {"variant", m.variant.variant.name},
                                 {"experiment", m.variant.hash}});
    std::ostringstream text;
    text << toml::table{{"member", std::move(list)}};
    return folder_.write(fmt::format("members-of-{}.toml", leader.variant.variant.index + 1), text.str());
  }

 private:
  TempFolder folder_{"incept-sweep", "the sweep's configs"};
};

struct Running {
  ChildProcess child;
  std::size_t slot;        // index into the outcomes
  std::string last_error;  // the child's last "error: ..." line (or last line), for a failure without a run
  // The outcomes of the cells recorded from this training (prefix reuse), or trained with it as one packed network.
  std::vector<std::size_t> members;
  bool packed = false;  // members are pack mates: every cell's status, the leader's too, is its own run's
};

class SweepExecution {
 public:
  SweepExecution(SweepClaims& claims, const SweepRunOptions& options)
      : claims_(claims), options_(options), out_(options.out ? *options.out : std::cout) {
    for (const ResolvedVariant& v : claims.variants()) {
      VariantOutcome o;
      o.planned.variant = v;
      o.action = "-";
      o.status = "not run";
      result_.outcomes.push_back(std::move(o));
    }
  }

  SweepResult run() {
    StopSignals signals;
    bool more = true;
    for (;;) {
      if (int sig = signals.take()) {
        result_.interrupted = true;
        stop(sig, fmt::format("sweep: {}; waiting for {} running training(s) to checkpoint",
                              sig == SIGINT ? "interrupted" : "terminated", running_.size()));
      }
      while (more && !stopping_ && running_.size() < static_cast<std::size_t>(std::max(1, options_.jobs)))
        more = claim_and_launch();
      if (running_.empty()) break;
      wait_for_output();
      collect();
    }
    return std::move(result_);
  }

 private:
  std::size_t slot_of(const PlannedVariant& p) const {
    for (std::size_t i = 0; i < result_.outcomes.size(); ++i)
      if (result_.outcomes[i].planned.variant.variant.index == p.variant.variant.index) return i;
    throw std::logic_error("sweep: a claimed variant is not in the sweep");
  }

  // Claims the next cell and starts its child; false when no cell is left to claim.
  bool claim_and_launch() {
    SweepClaims::Next next = claims_.next();
    for (PlannedVariant& p : next.settled) {
      VariantOutcome& o = result_.outcomes[slot_of(p)];
      o.action = "skip";
      o.status = p.earlier ? to_string(p.earlier->status) : "running";
      o.run = p.earlier;
      out_ << fmt::format("skip {}: {}\n", label(p), p.reason) << std::flush;
      o.planned = std::move(p);
    }
    if (!next.claimed) return false;
    const std::size_t slot = slot_of(*next.claimed);
    VariantOutcome& o = result_.outcomes[slot];
    o.planned = std::move(*next.claimed);
    const bool resume = o.planned.action == PlanAction::resume;
    ++launched_;
    std::vector<std::size_t> member_slots;
    std::vector<std::string> member_labels;
    for (PlannedVariant& m : next.members) {
      const std::size_t ms = slot_of(m);
      VariantOutcome& mo = result_.outcomes[ms];
      mo.planned = std::move(m);
      mo.action = resume ? "resume" : "train";
      mo.recorded_from = label(o.planned);
      member_slots.push_back(ms);
      member_labels.push_back(fmt::format("{} at epoch {}{}", label(mo.planned), mo.planned.variant.prefix.epochs,
                                          resume ? fmt::format(" (run {})", mo.planned.earlier->id) : ""));
    }
    out_ << fmt::format("[{}] {} {}{}{}\n", launched_, resume ? "resume" : "train", label(o.planned),
                        resume ? fmt::format(" (run {})", o.planned.earlier->id) : "",
                        member_labels.empty() ? ""
                                              : fmt::format(", recording {} from it (the same computation up to there)",
                                                            join(member_labels, ", ")))
         << std::flush;
    o.action = resume ? "resume" : "train";
    // Packing: cells that share its network, trained with it as one (a training with prefix members is not packed).
    std::vector<std::size_t> mate_slots;
    if (options_.pack > 1 && member_slots.empty()) {
      std::vector<std::string> mate_labels;
      for (PlannedVariant& m : claims_.claim_pack_mates(o.planned, static_cast<std::size_t>(options_.pack - 1))) {
        const std::size_t ms = slot_of(m);
        VariantOutcome& mo = result_.outcomes[ms];
        mo.planned = std::move(m);
        mo.action = resume ? "resume" : "train";
        mate_slots.push_back(ms);
        mate_labels.push_back(resume ? fmt::format("{} (run {})", label(mo.planned), mo.planned.earlier->id)
                                     : label(mo.planned));
      }
      if (!mate_slots.empty())
        out_ << fmt::format("[{}] packed with {}: {} trainings as one network\n", launched_, join(mate_labels, ", "),
                            mate_slots.size() + 1)
             << std::flush;
    }
    try {
      std::vector<PlannedVariant> members, mates;
      for (std::size_t ms : member_slots) members.push_back(result_.outcomes[ms].planned);
      for (std::size_t ms : mate_slots) mates.push_back(result_.outcomes[ms].planned);
      const std::string config = resume ? "" : configs_.write(o.planned);
      const std::string members_file = resume || members.empty() ? "" : configs_.write_members(o.planned, members);
      const std::string pack_file = resume || mates.empty() ? "" : configs_.write_members(o.planned, mates);
      Running r{ChildProcess::start(child_command(o.planned, options_, config, mates.empty() ? members : mates,
                                                  members_file, pack_file, resume && !mates.empty())),
                slot, "", mates.empty() ? member_slots : mate_slots, !mates.empty()};
      running_.push_back(std::move(r));
    } catch (const std::exception& e) {
      out_ << fmt::format("[{}] error: {}\n", label(o.planned), e.what()) << std::flush;
      finish(o, 127, e.what());
      for (std::size_t ms : member_slots) finish_member(result_.outcomes[ms], RunStatus::failed, e.what());
      for (std::size_t ms : mate_slots) finish_member(result_.outcomes[ms], RunStatus::failed, e.what());
    }
    return true;
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
      print(r, o, r.child.read_lines());
      std::optional<int> code = r.child.exit_status();
      if (!code) {
        ++i;
        continue;
      }
      print(r, o, r.child.read_lines());  // whatever it wrote just before exiting
      const std::string error = r.last_error.empty() ? fmt::format("exit status {}", *code) : r.last_error;
      // Members first: --fail-fast, triggered by the leader, must not find them still held.
      const RunStatus leader = status_of_exit_code(*code);
      const RunStatus fallback = leader == RunStatus::completed ? RunStatus::failed : leader;
      for (std::size_t ms : r.members)
        finish_member(result_.outcomes[ms], claims_.recorded_status(result_.outcomes[ms].planned, fallback), error);
      // A pack's exit status is its worst member's: the leader's own ending is its run's.
      if (r.packed) settle(o, claims_.recorded_status(o.planned, fallback), error, fmt::format("exit status {}", *code));
      else finish(o, *code, error);
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void print(Running& r, const VariantOutcome& o, const std::vector<std::string>& lines) {
    for (const auto& line : lines) {
      out_ << fmt::format("[{}] {}\n", label(o.planned), line);
      if (line.rfind("error: ", 0) == 0 || line.find(": error: ") != std::string::npos) r.last_error = line;
    }
    out_ << std::flush;
  }

  void finish(VariantOutcome& o, int code, const std::string& error) {
    settle(o, status_of_exit_code(code), error, fmt::format("exit status {}", code));
  }

  // A cell recorded from another's training: its status is its run's in the log (the child's exit status is the
  // training's).
  void finish_member(VariantOutcome& o, RunStatus status, const std::string& error) {
    settle(o, status, error, o.recorded_from.empty() ? "trained in a packed network" : "recorded from " + o.recorded_from);
  }

  // Lets go of the cell with its status, says how it ended unless it completed (`how`: what the status comes
  // from), and stops the sweep at a failure under --fail-fast.
  void settle(VariantOutcome& o, RunStatus status, const std::string& error, const std::string& how) {
    o.status = to_string(status);
    try {
      claims_.release(o.planned, status, error);
    } catch (const std::exception& e) {
      out_ << fmt::format("[{}] warning: {}\n", label(o.planned), e.what());
    }
    if (status != RunStatus::completed)
      out_ << fmt::format("[{}] {} ({})\n", label(o.planned), o.status, how) << std::flush;
    if (status == RunStatus::failed && options_.fail_fast && !stopping_) {
      result_.stopped_early = true;
      stop(SIGINT, "sweep: stopping at the first failure (--fail-fast); interrupting the other trainings");
    }
  }

  void stop(int sig, const std::string& why) {
    stopping_ = true;
    out_ << why << "\n" << std::flush;
    if (sig == SIGTERM && !options_.forward_sigterm) return;
    for (const Running& r : running_) r.child.send_signal(sig);
  }

  SweepClaims& claims_;
  const SweepRunOptions& options_;
  std::ostream& out_;
  ConfigFolder configs_;
  SweepResult result_;
  std::vector<Running> running_;
  std::size_t launched_ = 0;
  bool stopping_ = false;
};

// Each trained or resumed outcome's run as the log has it now: the newest run of its experiment (the cell was this
// sweep's alone while it trained).
void attach_runs(SweepResult& result, const std::string& db_path) {
  const RunStore store = RunStore::open_read_only(db_path);
  for (VariantOutcome& o : result.outcomes) {
    if (o.action != "train" && o.action != "resume") continue;
    std::vector<RunRecord> runs = store.runs_of_experiment(o.planned.variant.hash);
    if (o.action == "resume") {
      for (const RunRecord& r : runs)
        if (o.planned.earlier && r.id == o.planned.earlier->id) o.run = r;
    } else if (!runs.empty()) {
      o.run = *std::max_element(runs.begin(), runs.end(),
                                [](const RunRecord& a, const RunRecord& b) { return a.id < b.id; });
    }
  }
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cores = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                             : static_cast<int>(std::thread::hardware_concurrency());
  // Without a task plugin that binds CPUs, a job sees the whole node; Slurm allocated it only this many.
  const char* job = std::getenv("SLURM_JOB_ID");
  const char* allocated = std::getenv("SLURM_CPUS_ON_NODE");
  if (job && *job && allocated) {
    const int n = std::atoi(allocated);
    if (n > 0) cores = cores > 0 ? std::min(cores, n) : n;
  }
  return std::max(1, cores);
}

std::vector<std::string> child_command(const PlannedVariant& planned, const SweepRunOptions& options,
                                       const std::string& config_file, const std::vector<PlannedVariant>& members,
                                       const std::string& members_file, const std::string& pack_file,
                                       bool members_are_pack) {
  std::vector<std::string> cmd{options.executable};
  if (planned.action == PlanAction::resume) {
    cmd.insert(cmd.end(), {"resume", std::to_string(planned.earlier->id)});
    for (const PlannedVariant& m : members)
      if (m.earlier)
        cmd.insert(cmd.end(), {members_are_pack ? "--pack-with-run" : "--with-run", std::to_string(m.earlier->id)});
  } else {
    cmd.insert(cmd.end(), {"train", config_file, "--set",
                           fmt::format("train.threads={}", std::max(1, options.threads_per_job)), "--sweep",
                           options.sweep_name, "--variant", planned.variant.variant.name, "--expect-experiment",
                           planned.variant.hash});
    if (!members_file.empty()) cmd.insert(cmd.end(), {"--prefix-members", members_file});
    if (!pack_file.empty()) cmd.insert(cmd.end(), {"--pack-with", pack_file});
  }
  cmd.insert(cmd.end(), {"--db", options.db_path, "--quiet"});
  return cmd;
}

int SweepResult::exit_status() const {
  if (interrupted) return 130;
  for (const VariantOutcome& o : outcomes)
    if (o.status == to_string(RunStatus::failed) || o.status == to_string(RunStatus::interrupted)) return 1;
  return 0;
}

SweepResult run_sweep(SweepClaims& claims, const SweepRunOptions& options) {
  SweepResult result = SweepExecution(claims, options).run();
  attach_runs(result, options.db_path);
  return result;
}

}  // namespace incept
