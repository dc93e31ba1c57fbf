#pragma once
// How a run stands, as the run log stores it (runs.status), as commands print it and as `incept train` and
// `incept resume` report it in their exit status. One enum, one table of names and codes: a status cannot be
// misspelt in one place and right in another.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace incept {

enum class RunStatus {
  running,      // a process holds the run and trains it now
  completed,    // every planned epoch recorded
  failed,       // stopped by an error (its message is in runs.error)
  diverged,     // a NaN or infinite loss stopped it
  interrupted,  // stopped by a signal or a dead process; resumable from its last checkpoint
};

// Every status, in the order reports list them: completed, running, interrupted, diverged, failed.
const std::vector<RunStatus>& all_run_statuses();

// "running", "completed", ...: the text stored in the log and shown to people.
const char* to_string(RunStatus status);
// The status stored as `text`; nullopt for anything else.
std::optional<RunStatus> parse_run_status(std::string_view text);

// A status nothing will change by itself: completed, failed, diverged.
bool is_final(RunStatus status);

// Exit status of `incept train` / `incept resume` for a run that ended so: 0 completed, 1 failed, 3 diverged,
// 130 interrupted (like a shell's Ctrl-C). A running run has not ended: 1.
int exit_code(RunStatus status);
// The inverse, for a sweep reading its children's exit statuses; any other code (a config error's 2, a crash's
// 128 + signal) is a failure.
RunStatus status_of_exit_code(int code);

}  // namespace incept
