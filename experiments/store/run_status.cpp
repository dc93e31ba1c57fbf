#include "experiments/store/run_status.h"

#include <iterator>

namespace incept {

namespace {

struct StatusInfo {
  RunStatus status;
  const char* name;
  int exit_code;
};

constexpr StatusInfo kStatuses[] = {
    {RunStatus::running, "running", 1},
    {RunStatus::completed, "completed", 0},
    {RunStatus::failed, "failed", 1},
    {RunStatus::diverged, "diverged", 3},
    {RunStatus::interrupted, "interrupted", 130},
};

const StatusInfo& info(RunStatus status) {
  for (const StatusInfo& i : kStatuses)
    if (i.status == status) return i;
  return kStatuses[0];  // unreachable: every enumerator has a row
}

}  // namespace

const std::vector<RunStatus>& all_run_statuses() {
  static const std::vector<RunStatus> kOrder = {RunStatus::completed, RunStatus::running, RunStatus::interrupted,
                                                RunStatus::diverged, RunStatus::failed};
  return kOrder;
}

const char* to_string(RunStatus status) { return info(status).name; }

std::optional<RunStatus> parse_run_status(std::string_view text) {
  for (const StatusInfo& i : kStatuses)
    if (text == i.name) return i.status;
  return std::nullopt;
}

bool is_final(RunStatus status) {
  return status == RunStatus::completed || status == RunStatus::failed || status == RunStatus::diverged;
}

int exit_code(RunStatus status) { return info(status).exit_code; }

RunStatus status_of_exit_code(int code) {
  for (const StatusInfo& i : kStatuses)
    if (i.status != RunStatus::running && i.exit_code == code) return i.status;
  return RunStatus::failed;
}

}  // namespace incept
