#include "reports/run_selection.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace {

constexpr std::int64_t kMaxRangeSize = 1000000;  // a typo like 1-99999999999 must not exhaust memory

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool parse_id(const std::string& text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  out = std::stoll(text);
  return out > 0;  // SQLite row ids start at 1
}

[[noreturn]] void bad_spec(const std::string& spec, const std::string& part, const std::string& why) {
  throw UserError(fmt::format("--runs '{}': '{}' {} (expected ids and ranges such as 1,3-4)", spec, part, why));
}

}  // namespace

std::vector<std::int64_t> parse_run_ids(const std::string& spec) {
  if (trimmed(spec).empty()) bad_spec(spec, spec, "is empty");
  std::set<std::int64_t> ids;
  for (const std::string& raw : split(spec, ',')) {
    const std::string part = trimmed(raw);
    const auto dash = part.find('-');
    std::int64_t first = 0, last = 0;
    if (dash == std::string::npos) {
      if (!parse_id(part, first)) bad_spec(spec, part, "is not a run id");
      last = first;
    } else {
      if (!parse_id(trimmed(part.substr(0, dash)), first) || !parse_id(trimmed(part.substr(dash + 1)), last))
        bad_spec(spec, part, "is not a range of run ids");
      if (first > last) bad_spec(spec, part, "is a range that runs backwards");
      if (last - first >= kMaxRangeSize) bad_spec(spec, part, "is too long a range");
    }
    for (std::int64_t id = first; id <= last; ++id) ids.insert(id);
  }
  return {ids.begin(), ids.end()};
}

std::vector<RunRecord> select_runs(const RunStore& store, const RunSelection& selection) {
  std::vector<RunRecord> all = store.list_runs();
  if (!selection.sweep.empty()) {
    std::vector<RunRecord> runs = store.list_runs(selection.sweep);
    if (!runs.empty()) return runs;
    std::set<std::string> sweeps;
    for (const RunRecord& r : all)
      if (!r.sweep.empty()) sweeps.insert(r.sweep);
    const std::vector<std::string> names(sweeps.begin(), sweeps.end());
    throw UserError(fmt::format("no sweep '{}' in {}{}{}", selection.sweep, store.path(),
                                did_you_mean(selection.sweep, names),
                                names.empty() ? " (it has no sweeps)" : " (sweeps: " + join(names, ", ") + ")"));
  }
  if (!selection.ids.empty()) {
    std::vector<RunRecord> runs;
    std::vector<std::string> missing;
    for (std::int64_t id : selection.ids) {
      auto it = std::find_if(all.begin(), all.end(), [id](const RunRecord& r) { return r.id == id; });
      if (it == all.end()) missing.push_back(std::to_string(id));
      else runs.push_back(*it);
    }
    if (!missing.empty()) {
      const std::size_t shown = std::min<std::size_t>(missing.size(), 10);
      std::string list = join({missing.begin(), missing.begin() + static_cast<std::ptrdiff_t>(shown)}, ", ");
      if (shown < missing.size()) list += fmt::format(" and {} more", missing.size() - shown);
      throw UserError(fmt::format("{} {} not in {}", missing.size() == 1 ? "run" : "runs", list, store.path()));
    }
    return runs;
  }
  if (all.empty()) throw UserError(fmt::format("no runs in {} yet", store.path()));
  return all;
}

}  // namespace incept
