#include "experiments/slurm/cell_states.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "experiments/store/process_identity.h"
#include "framework/text.h"
#include "framework/text_table.h"

namespace incept {

namespace {

// Seconds since a log timestamp ("YYYY-MM-DDTHH:MM:SSZ"); -1 when it cannot be read.
double seconds_since(const std::string& stamp) {
  std::tm tm{};
  if (stamp.empty() || !::strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  return std::difftime(std::time(nullptr), ::timegm(&tm));
}

struct SeenRun {
  RunRecord run;
  std::string log;
};

class RunUnion {
 public:
  explicit RunUnion(std::set<std::string> hashes) : hashes_(std::move(hashes)) {}

  // Reads one log; false (with the reason in `warning`) when it cannot be read now.
  bool add(const std::string& db, const std::string& label, const std::string& sweep, std::string& warning) {
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) return true;
    try {
      const RunStore store = RunStore::open_read_only(db);
      for (const RunRecord& r : store.list_runs()) {
        if (!hashes_.count(r.experiment_hash)) continue;
        auto it = by_uid_.find(r.uid);
        if (it == by_uid_.end()) by_uid_.emplace(r.uid, SeenRun{r, label});
        else if (is_later_state(r, it->second.run)) it->second = SeenRun{r, label};
      }
      for (const SweepCell& c : store.sweep_cells(sweep))
        if (!c.error.empty()) cell_errors_[{c.variant, c.seed}] = c.error;
        else if (label != "main") cell_errors_.erase({c.variant, c.seed});  // a later attempt cleared it
      return true;
    } catch (const std::exception& e) {
      warning = fmt::format("{} ({}) cannot be read now: {}", label, db, e.what());
      return false;
    }
  }

  // The run that answers a cell, chosen as the sweep's planner chooses: the newest completed, diverged or running
  // run, else the last one.
  std::optional<SeenRun> answer(const std::string& hash) const {
    std::vector<const SeenRun*> runs;
    for (const auto& [uid, seen] : by_uid_)
      if (seen.run.experiment_hash == hash) runs.push_back(&seen);
    if (runs.empty()) return std::nullopt;
    std::stable_sort(runs.begin(), runs.end(), [](const SeenRun* a, const SeenRun* b) {
      return std::tie(a->run.started_at, a->run.id) < std::tie(b->run.started_at, b->run.id);
    });
    for (RunStatus wanted : {RunStatus::completed, RunStatus::diverged, RunStatus::running})
      for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if ((*it)->run.status == wanted) return **it;
    return *runs.back();
  }

  std::string cell_error(const std::string& variant, std::int64_t seed) const {
    auto it = cell_errors_.find({variant, seed});
    return it == cell_errors_.end() ? "" : it->second;
  }

 private:
  std::set<std::string> hashes_;
  std::map<std::string, SeenRun> by_uid_;
  std::map<std::pair<std::string, std::int64_t>, std::string> cell_errors_;
};

const QueuedJob* find_job(const std::vector<QueuedJob>& queue, const std::string& job, int task) {
  for (const QueuedJob& q : queue)
    if (q.job == job && q.task == task) return &q;
  return nullptr;
}

std::string queue_state(const QueuedJob& q) {
  if (q.state == "PENDING" && !q.reason.empty() && q.reason != "None") return fmt::format("PENDING ({})", q.reason);
  if (!q.nodes.empty()) return fmt::format("{} on {}", q.state, q.nodes);
  return q.state;
}

std::string percent(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

}  // namespace

bool is_later_state(const RunRecord& a, const RunRecord& b) {
  auto key = [](const RunRecord& r) {
    return std::make_tuple(is_final(r.status) ? 1 : 0, r.epochs_done, r.heartbeat_at);
  };
  return key(a) > key(b);
}

std::string CellState::epochs() const {
  if (!run) return "-";
  return fmt::format("{}/{}", run->epochs_done, run->epochs_planned);
}

std::string CellState::host() const { return run && !run->host.empty() ? run->host : "-"; }

SweepStatus read_sweep_status(const std::vector<ResolvedVariant>& variants, const std::string& sweep_name,
                              const std::string& main_db, const std::vector<SlurmSubmission>& submissions,
                              const std::optional<std::vector<QueuedJob>>& queue) {
  SweepStatus out;
  std::set<std::string> hashes;
  for (const ResolvedVariant& v : variants) hashes.insert(v.hash);
  RunUnion runs(hashes);
  std::string warning;
  if (!runs.add(main_db, "main", sweep_name, warning)) out.warnings.push_back(warning);
  for (const SlurmSubmission& s : submissions)
    for (const WorkerCells& w : s.workers)
      if (!runs.add(s.worker_db(w.task), fmt::format("worker {}", w.task), sweep_name, warning))
        out.warnings.push_back(warning);
  const double lease = lease_seconds();

  for (const ResolvedVariant& v : variants) {
    CellState c;
    c.index = v.variant.index;
    c.variant = v.variant.name;
    c.seed = v.variant.seed;
    // The newest submission that was given the cell.
    const QueuedJob* queued = nullptr;
    for (auto s = submissions.rbegin(); s != submissions.rend(); ++s) {
      const int task = s->worker_of(c.index);
      if (!task || !s->submitted()) continue;
      c.job = fmt::format("{}_{}", s->array_job, task);
      if (queue) queued = find_job(*queue, s->array_job, task);
      if (queued) c.job_state = queue_state(*queued);
      break;
    }
    if (std::optional<SeenRun> seen = runs.answer(v.hash)) {
      c.run = seen->run;
      c.log = seen->log;
      c.state = to_string(seen->run.status);
      c.note = seen->run.error;
      if (seen->run.status == RunStatus::running) {
        const double silent = seconds_since(seen->run.heartbeat_at);
        if (silent > lease) c.note = fmt::format("no heartbeat since {} ({:.0f} s)", seen->run.heartbeat_at, silent);
      }
    } else if (queued) {
      c.state = "queued";
    } else {
      c.note = runs.cell_error(c.variant, c.seed);
      c.state = c.note.empty() ? "not started" : "failed";
    }
    out.cells.push_back(std::move(c));
  }
  return out;
}

std::string describe_cell(const CellState& c) {
  const std::string job =
      c.job.empty() ? "" : fmt::format(" (Slurm {}{})", c.job, c.job_state.empty() ? "" : ": " + c.job_state);
  if (c.state == "completed") return fmt::format("completed, test acc {}", percent(c.run->final_test_acc));
  if (c.state == "running")
    return fmt::format("running on {}, epoch {}/{}{}", c.host(),
                       std::min(c.run->epochs_done + 1, std::max<std::int64_t>(c.run->epochs_planned, 1)),
                       c.run->epochs_planned, c.note.empty() ? "" : "; " + c.note);
  if (c.state == "queued") return "queued" + job;
  if (c.state == "interrupted")
    return fmt::format("interrupted after epoch {}{}{}", c.epochs(), c.note.empty() ? "" : ": " + c.note,
                       c.job_state.empty() ? "" : job);
  if (c.state == "failed") return fmt::format("failed{}", c.note.empty() ? "" : ": " + c.note);
  if (c.state == "diverged") return fmt::format("diverged{}", c.note.empty() ? "" : ": " + c.note);
  return c.state + job;
}

std::string status_table(const SweepStatus& status) {
  TextTable t({"#>", "variant", "seed>", "state", "epochs>", "test acc>", "host", "Slurm task", "note"});
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (const CellState& c : status.cells) {
    std::string job = c.job.empty() ? "-" : c.job;
    if (!c.job_state.empty()) job += " " + c.job_state;
    t.add_row({std::to_string(c.index + 1), c.variant, std::to_string(c.seed), c.state, c.epochs(),
               c.run ? percent(c.run->final_test_acc) : "-", c.host(), job, c.note});
    if (counts[c.state]++ == 0) order.push_back(c.state);
  }
  std::vector<std::string> totals;
  for (const std::string& s : order) totals.push_back(fmt::format("{} {}", counts[s], s));
  std::string out = t.str() + fmt::format("{} cell{}: {}\n", status.cells.size(), status.cells.size() == 1 ? "" : "s",
                                          join(totals, ", "));
  for (const std::string& w : status.warnings) out += "warning: " + w + "\n";
  return out;
}

bool workers_active(const SlurmSubmission& s, const std::vector<QueuedJob>& queue) {
  if (!s.submitted()) return false;
  for (const QueuedJob& q : queue)
    if (q.job == s.array_job) return true;
  return false;
}

bool jobs_active(const SlurmSubmission& s, const std::vector<QueuedJob>& queue) {
  if (workers_active(s, queue)) return true;
  for (const QueuedJob& q : queue)
    if (!s.finish_job.empty() && q.job == s.finish_job) return true;
  return false;
}

std::string describe_jobs(const SlurmSubmission& s, const std::vector<QueuedJob>& queue) {
  if (!s.submitted()) return "not submitted";
  std::map<std::string, int> by_state;
  for (const QueuedJob& q : queue)
    if (q.job == s.array_job) ++by_state[q.state];
  std::string array = fmt::format("array {}", s.array_job);
  if (by_state.empty()) {
    array += ": ended";
  } else {
    std::vector<std::string> parts;
    for (const auto& [state, n] : by_state) parts.push_back(fmt::format("{} {}", n, state));
    array += ": " + join(parts, ", ");
  }
  std::string finish = fmt::format("finishing job {}", s.finish_job.empty() ? "-" : s.finish_job);
  const QueuedJob* f = s.finish_job.empty() ? nullptr : find_job(queue, s.finish_job, 0);
  if (f) finish += ": " + queue_state(*f);
  else finish += s.finished() ? ": done (logs joined, report written)" : ": ended";
  return array + "; " + finish;
}

}  // namespace incept
