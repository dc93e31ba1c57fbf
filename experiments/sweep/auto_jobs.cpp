#include "experiments/sweep/auto_jobs.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <queue>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "experiments/config/experiment_identity.h"
#include "experiments/store/process_identity.h"
#include "experiments/sweep/child_process.h"
#include "experiments/sweep/device_use.h"
#include "experiments/sweep/prefix_groups.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "platform/temp_folder.h"

namespace incept {

namespace {

// An optimistic training speed per core (GoogLeNet reaches about 47 GMAC/s per core here, the seed-004 network
// about 10): a sweep that would be short even at this speed is short.
constexpr double kOptimisticMacsPerCore = 100e9;
// A calibration must be worth it: the sweep at least this many times as long as the calibration.
constexpr double kCalibrationPayback = 20;
// What a probe costs besides its timed window: starting incept, loading the data, building the network.
constexpr double kProbeOverheadSeconds = 2.5;
// Splits whose estimates lie this close are a tie, won by fewer jobs (less memory, results sooner).
constexpr double kTie = 0.02;
// The share of the available memory the trainings of a split may take together.
constexpr double kMemoryShare = 0.8;

std::string plural(std::int64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string split_text(const JobsSplit& s) {
  return fmt::format("{} x {}", s.jobs, plural(s.threads, "thread"));
}

std::string duration_text(double seconds) {
  if (seconds < 1) return "under 1 s";
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

// The 1-minute load average (other processes sharing the cores); 0 when unknown.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  return in >> load ? load : 0;
}

JobsDecision decided(JobsSplit s, std::vector<std::string> why) {
  JobsDecision d;
  d.split = s;
  d.summary = fmt::format("{} at once, {} each", plural(s.jobs, "training"), plural(s.threads, "thread"));
  d.why = std::move(why);
  return d;
}

// One training of the sweep: its leader's variant and its work in multiply-accumulates of the forward pass over
// every image of every epoch.
struct Training {
  const ResolvedVariant* variant;
  double macs;
};

// "key=value" fields of a probe's result line.
std::map<std::string, std::string> fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word)
    if (auto eq = word.find('='); eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
  return out;
}

// `split.jobs` probes of `config_file` at once, started together; their images per second summed.
CalibrationPoint measure(const AutoJobsRequest& r, const TempFolder& folder, const std::string& config_file,
                         const JobsSplit& split, int number) {
  const std::string go = folder.file(fmt::format("go-{}", number));
  struct Probe {
    ChildProcess child;
    bool ready = false;
    std::string result, last;
  };
  std::vector<Probe> probes;
  for (int k = 0; k < split.jobs; ++k)
    probes.push_back(Probe{ChildProcess::start({r.executable, "throughput-probe", config_file, "--threads",
                                                std::to_string(split.threads), "--seconds",
                                                fmt::format("{}", r.probe_seconds), "--go", go}),
                           false, "", ""});
  auto drain = [](Probe& p) {
    for (const std::string& line : p.child.read_lines()) {
      if (line == "ready") p.ready = true;
      else if (line.rfind("throughput ", 0) == 0) p.result = line;
      else if (!line.empty()) p.last = line;
    }
  };
  auto failure = [&](Probe& p, const std::string& what) {
    return UserError(fmt::format("calibration probe ({}) {}: {}", split_text(split), what,
                                 p.last.empty() ? "no output" : p.last));
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  for (bool all_ready = false; !all_ready;) {
    all_ready = true;
    for (Probe& p : probes) {
      drain(p);
      if (!p.ready && p.child.exit_status()) {
        drain(p);
        if (!p.ready) throw failure(p, "stopped before it was ready");
      }
      all_ready = all_ready && p.ready;
    }
    if (std::chrono::steady_clock::now() > deadline) throw failure(probes.front(), "was not ready within 300 s");
    if (!all_ready) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ofstream(go).put('\n');  // every probe starts its timed window now
  CalibrationPoint point{split.jobs, split.threads, 0, 0};
  for (Probe& p : probes) {
    while (!p.child.exit_status()) {
      drain(p);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    drain(p);
    if (*p.child.exit_status() != 0 || p.result.empty()) throw failure(p, "failed");
    const auto f = fields(p.result);
    try {
      point.images_per_s += std::stod(f.at("images_per_s"));
      point.peak_rss = std::max<std::int64_t>(point.peak_rss, std::stoll(f.at("peak_rss")));
    } catch (const std::exception&) {
      throw failure(p, "printed an unreadable result");
    }
  }
  return point;
}

Calibration calibrate(const AutoJobsRequest& r, const ResolvedVariant& network, const std::string& workload,
                      const std::vector<JobsSplit>& splits) {
  TempFolder folder("incept-calibration", "the calibration");
  folder.write("network.toml", network.config_toml);
  Calibration c;
  c.host = this_host_name();
  c.cores = r.cores;
  c.load = load_average();
  c.workload = workload;
  c.config_name = network.config_name;
  int number = 0;
  for (const JobsSplit& s : splits) {
    if (r.progress)
      *r.progress << fmt::format("calibrating --jobs auto: {} of {} at once, {} each, for {:g} s\n",
                                 plural(s.jobs, "training"), network.config_name, plural(s.threads, "thread"),
                                 r.probe_seconds)
                  << std::flush;
    c.points.push_back(measure(r, folder, folder.file("network.toml"), s, ++number));
  }
  return c;
}

bool covers(const Calibration& c, const std::vector<JobsSplit>& splits) {
  for (const JobsSplit& s : splits)
    if (std::none_of(c.points.begin(), c.points.end(),
                     [&](const CalibrationPoint& p) { return p.jobs == s.jobs && p.threads == s.threads; }))
      return false;
  return true;
}

}  // namespace

std::vector<JobsSplit> candidate_splits(int cores, std::size_t trainings) {
  const int most = static_cast<int>(std::min<std::size_t>(std::max(1, cores), std::max<std::size_t>(1, trainings)));
  std::vector<int> jobs;
  for (int j = 1; j <= most; j *= 2) jobs.push_back(j);
  if (jobs.back() != most) jobs.push_back(most);
  std::vector<JobsSplit> out;
  for (int j : jobs) out.push_back(JobsSplit{j, std::max(1, cores / j)});
  return out;
}

double estimated_seconds(std::vector<double> work, int jobs, double rate) {
  if (rate <= 0) return std::numeric_limits<double>::infinity();
  std::sort(work.begin(), work.end(), std::greater<>());
  std::priority_queue<double, std::vector<double>, std::greater<>> slots;  // when each slot frees up
  for (int k = 0; k < std::max(1, jobs); ++k) slots.push(0);
  double end = 0;
  for (double w : work) {
    const double start = slots.top();
    slots.pop();
    slots.push(start + w / rate);
    end = std::max(end, start + w / rate);
  }
  return end;
}

std::string calibration_workload(const ResolvedVariant& v) {
  toml::table t;
  try {
    t = toml::parse(v.config_toml);
  } catch (const toml::parse_error&) {
    return v.hash;
  }
  if (toml::table* train = t["train"].as_table()) {
    train->erase("epochs");
    if (train->empty()) t.erase("train");
  }
  return experiment_hash(t, SeedPolicy::ignore);
}

std::int64_t memory_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

JobsDecision choose_from_calibration(const Calibration& c, const std::vector<double>& work,
                                     std::int64_t memory, const std::string& source) {
  std::vector<std::string> measured, estimates, left_out;
  const CalibrationPoint* best = nullptr;
  double best_seconds = 0;
  for (const CalibrationPoint& p : c.points) {
    measured.push_back(fmt::format("{} {} img/s", split_text({p.jobs, p.threads}),
                                   with_commas(static_cast<std::int64_t>(p.images_per_s + 0.5))));
    if (static_cast<std::size_t>(p.jobs) > std::max<std::size_t>(1, work.size())) continue;
    if (memory > 0 && p.peak_rss > 0 && static_cast<double>(p.peak_rss) * p.jobs > kMemoryShare * memory) {
      left_out.push_back(fmt::format("{} (needs {} MiB, {} MiB available)", split_text({p.jobs, p.threads}),
                                     p.peak_rss * p.jobs >> 20, memory >> 20));
      continue;
    }
    const double seconds = estimated_seconds(work, p.jobs, p.images_per_s / p.jobs);
    estimates.push_back(fmt::format("{} at {}", duration_text(seconds), split_text({p.jobs, p.threads})));
    // Points come fewest jobs first: a later split must be clearly faster to win.
    if (!best || seconds < best_seconds * (1 - kTie)) {
      best = &p;
      best_seconds = seconds;
    }
  }
  std::vector<std::string> why{fmt::format("{} {} on {} ({}, {} cores, load {:.2f}; images/s of all the trainings "
                                           "together): {}",
                                           source, c.config_name, c.host, c.measured_at, c.cores, c.load,
                                           join(measured, ", "))};
  if (!best) {
    why.push_back("no measured split fits in memory; one training at a time");
    return decided({1, std::max(1, c.cores)}, why);
  }
  why.push_back(fmt::format("{} estimated: {}", plural(static_cast<std::int64_t>(work.size()), "training"),
                            join(estimates, ", ")));
  if (!left_out.empty()) why.push_back("left out, too little memory: " + join(left_out, ", "));
  return decided({best->jobs, best->threads}, why);
}

JobsDecision decide_jobs(const AutoJobsRequest& r) {
  const int cores = std::max(1, r.cores);
  std::vector<Training> trainings;
  for (const PrefixGroup& g : prefix_groups(r.plan, r.prefix_reuse)) {
    const ResolvedVariant& v = r.plan[g.leader].variant;
    trainings.push_back(Training{&v, static_cast<double>(v.prefix.epochs) * static_cast<double>(v.train_images) *
                                         static_cast<double>(v.macs)});
  }
  const auto n = static_cast<std::int64_t>(trainings.size());
  if (n == 0) return decided({1, cores}, {"every cell is done or held elsewhere"});
  if (std::any_of(trainings.begin(), trainings.end(), [](const Training& t) { return trains_on_gpu(*t.variant); }))
    return decided({1, cores}, {"the trainings run on a GPU: one at a time (the calibration measures trainings "
                                "sharing the CPU; packing several onto one GPU is not built)"});
  if (n == 1) return decided({1, cores}, {fmt::format("one training to run: it gets all {}", plural(cores, "core"))});
  if (cores == 1) return decided({1, 1}, {"one core: one training at a time"});

  // The network that carries most of the work is the one measured.
  std::map<std::string, double> work_of;
  for (const Training& t : trainings) work_of[calibration_workload(*t.variant)] += t.macs;
  const auto dominant = std::max_element(work_of.begin(), work_of.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
  const std::string workload = dominant->first;
  const ResolvedVariant* network = nullptr;
  double total_macs = 0;
  for (const Training& t : trainings) {
    total_macs += t.macs;
    if (!network && calibration_workload(*t.variant) == workload) network = t.variant;
  }
  std::vector<double> work;  // in images of the measured network
  for (const Training& t : trainings) work.push_back(t.macs / static_cast<double>(std::max<std::int64_t>(1, network->macs)));
  const std::vector<JobsSplit> splits = candidate_splits(cores, trainings.size());

  if (!r.calibrate && std::filesystem::exists(r.db_path)) {
    const std::optional<Calibration> earlier =
        RunStore::open_read_only(r.db_path).latest_calibration(this_host_name(), cores, workload);
    if (earlier && covers(*earlier, splits))
      return choose_from_calibration(*earlier, work, memory_available(), "measured earlier (recorded in the log) for");
  }
  const double calibration_seconds = static_cast<double>(splits.size()) * (r.probe_seconds + kProbeOverheadSeconds);
  // Training is about three forward passes' worth of arithmetic per image (forward, and backward for inputs and
  // weights).
  const double shortest = 3 * total_macs / (kOptimisticMacsPerCore * cores);
  const JobsSplit one_per_core{static_cast<int>(std::min<std::int64_t>(n, cores)),
                               std::max(1, cores / static_cast<int>(std::min<std::int64_t>(n, cores)))};
  if (!r.calibrate && shortest < kCalibrationPayback * calibration_seconds)
    return decided(one_per_core,
                   {fmt::format("a short sweep ({} trainings, {} multiply-accumulates in all: {} even at {:.0f} "
                                "GMAC/s per core) does not repay a calibration (about {}); one training per core, "
                                "which overlaps the trainings' start-up and suits small networks, which use several "
                                "threads poorly",
                                n, human_count(3 * total_macs), duration_text(shortest),
                                kOptimisticMacsPerCore / 1e9, duration_text(calibration_seconds))});
  if (!r.may_measure) {
    std::vector<std::string> names;
    for (const JobsSplit& s : splits) names.push_back(split_text(s));
    JobsDecision d = decided(one_per_core, {fmt::format("no calibration of {} for {} on this host in the log: a run "
                                                        "measures {} first (about {}), then chooses",
                                                        network->config_name, plural(cores, "core"),
                                                        join(names, ", "), duration_text(calibration_seconds))});
    d.pending = true;
    return d;
  }
  try {
    Calibration c = calibrate(r, *network, workload, splits);
    c.uid = random_token();
    c.measured_at = utc_timestamp_now();
    RunStore::open(r.db_path).record_calibration(c);
    return choose_from_calibration(c, work, memory_available(), "calibrated now (recorded in the log) with");
  } catch (const UserError& e) {
    return decided(one_per_core, {fmt::format("the calibration failed ({}); one training per core", e.what())});
  }
}

}  // namespace incept
