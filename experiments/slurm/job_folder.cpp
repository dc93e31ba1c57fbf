#include "experiments/slurm/job_folder.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "platform/write_file.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecord = "job.toml";
constexpr const char* kFinishedMarker = "finished";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string local_time(const char* strftime_format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, strftime_format, &tm);
  return buf;
}

std::string SlurmSubmission::worker_db(int task) const { return path(fmt::format("worker-{}.db", task)); }

std::string SlurmSubmission::path(const std::string& name) const { return (fs::path(dir) / name).string(); }

bool SlurmSubmission::finished() const {
  std::error_code ec;
  return fs::exists(path(kFinishedMarker), ec);
}

int SlurmSubmission::worker_of(std::size_t index) const {
  for (const WorkerCells& w : workers)
    if (std::find(w.cells.begin(), w.cells.end(), index) != w.cells.end()) return w.task;
  return 0;
}

std::string slurm_root(const std::string& main_db) { return main_db + ".slurm"; }

std::string create_submission_folder(const std::string& main_db, const std::string& sweep) {
  const fs::path root = slurm_root(main_db);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw UserError(fmt::format("cannot create {}: {}", root.string(), ec.message()));
  const std::string stem = fmt::format("{}-{}", sweep, local_time("%Y%m%d-%H%M%S"));
  for (int n = 1; n < 1000; ++n) {
    const fs::path dir = root / (n == 1 ? stem : fmt::format("{}-{}", stem, n));
    if (fs::create_directory(dir, ec)) return fs::absolute(dir).lexically_normal().string();
    if (ec) throw UserError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  throw UserError(fmt::format("cannot create a folder for sweep {} in {}", sweep, root.string()));
}

void write_submission(const SlurmSubmission& s) {
  toml::table t;
  t.insert("sweep", s.sweep);
  t.insert("sweep_file", s.sweep_file);
  t.insert("main_db", s.main_db);
  t.insert("workdir", s.workdir);
  toml::array sets;
  for (const std::string& set : s.sets) sets.push_back(set);
  t.insert("sets", std::move(sets));
  t.insert("submitted_at", s.submitted_at);
  t.insert("array_job", s.array_job);
  t.insert("finish_job", s.finish_job);
  toml::array workers;
  for (const WorkerCells& w : s.workers) {
    toml::table wt;
    wt.insert("task", w.task);
    toml::array cells, experiments;
    for (std::size_t c : w.cells) cells.push_back(static_cast<std::int64_t>(c + 1));  // as `incept sweep` numbers them
    for (const std::string& e : w.experiments) experiments.push_back(e);
    wt.insert("cells", std::move(cells));
    wt.insert("experiments", std::move(experiments));
    workers.push_back(std::move(wt));
  }
  t.insert("worker", std::move(workers));
  std::ostringstream text;
  text << "# incept sweep --slurm: what was submitted (cells are numbered from 1, in the sweep's order)\n"
       << toml::toml_formatter(t) << "\n";
  write_file_atomically(s.path(kRecord), text.str());
}

SlurmSubmission read_submission(const std::string& dir) {
  SlurmSubmission s;
  s.dir = fs::absolute(dir).lexically_normal().string();
  const std::string file = s.path(kRecord);
  toml::table t;
  try {
    t = toml::parse(read_text(file), std::string_view(file));
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}: {}", file, e.description()));
  }
  auto text = [&](const char* key) { return t[key].value_or(std::string()); };
  s.sweep = text("sweep");
  s.sweep_file = text("sweep_file");
  s.main_db = text("main_db");
  s.workdir = text("workdir");
  s.submitted_at = text("submitted_at");
  s.array_job = text("array_job");
  s.finish_job = text("finish_job");
  if (const toml::array* sets = t["sets"].as_array())
    for (const auto& v : *sets) s.sets.push_back(v.value_or(std::string()));
  if (const toml::array* workers = t["worker"].as_array()) {
    for (const auto& node : *workers) {
      const toml::table* wt = node.as_table();
      if (!wt) continue;
      WorkerCells w;
      w.task = static_cast<int>((*wt)["task"].value_or(std::int64_t{0}));
      if (const toml::array* cells = (*wt)["cells"].as_array())
        for (const auto& c : *cells) w.cells.push_back(static_cast<std::size_t>(c.value_or(std::int64_t{1}) - 1));
      if (const toml::array* ex = (*wt)["experiments"].as_array())
        for (const auto& e : *ex) w.experiments.push_back(e.value_or(std::string()));
      s.workers.push_back(std::move(w));
    }
  }
  if (s.sweep.empty() || s.main_db.empty())
    throw UserError(fmt::format("{}: not a submission record (no sweep or main_db)", file));
  return s;
}

std::vector<SlurmSubmission> submissions_of(const std::string& main_db, const std::string& sweep) {
  std::vector<SlurmSubmission> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(slurm_root(main_db), ec)) {
    if (!entry.is_directory(ec) || !fs::exists(entry.path() / kRecord, ec)) continue;
    try {
      SlurmSubmission s = read_submission(entry.path().string());
      if (s.sweep == sweep) out.push_back(std::move(s));
    } catch (const UserError&) {
      // Someone else's folder, or one being written: not a submission of this sweep.
    }
  }
  std::sort(out.begin(), out.end(), [](const SlurmSubmission& a, const SlurmSubmission& b) {
    return std::tie(a.submitted_at, a.dir) < std::tie(b.submitted_at, b.dir);
  });
  return out;
}

void mark_finished(const SlurmSubmission& s, const std::string& summary) {
  write_file_atomically(s.path(kFinishedMarker), fmt::format("{} {}\n", utc_timestamp_now(), summary));
}

}  // namespace incept
