#pragma once
// A sweep interrupted in the middle, for the tests of what an interrupted sweep leaves behind: starts `incept sweep`,
// waits until the runs its log holds say it is time, sends SIGINT (the Ctrl-C a user would press) and waits for it
// to stop.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "experiments/store/run_store.h"
#include "experiments/sweep/child_process.h"
#include "framework/diagnostics.h"

namespace incept::sweep_test {

struct InterruptedSweep {
  bool interrupted = false;   // `ready` held before the sweep ended, and SIGINT was sent
  std::optional<int> status;  // its exit status (none if it did not stop within the time allowed)
  std::string output;         // everything it printed
};

// `incept sweep ARGS...` (INCEPT_BINARY), interrupted once `ready(runs of db)` holds; at most two minutes in all.
inline InterruptedSweep interrupt_sweep_when(const std::vector<std::string>& args, const std::string& db,
                                             const std::function<bool(const std::vector<RunRecord>&)>& ready) {
  std::vector<std::string> command{INCEPT_BINARY, "sweep"};
  command.insert(command.end(), args.begin(), args.end());
  ChildProcess child = ChildProcess::start(command);
  InterruptedSweep out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto collect = [&] {
    for (const auto& line : child.read_lines()) out.output += line + "\n";
  };
  while (!out.interrupted && std::chrono::steady_clock::now() < deadline && !child.exit_status()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    collect();
    if (!std::filesystem::exists(db)) continue;
    try {
      out.interrupted = ready(RunStore::open_read_only(db).list_runs());
    } catch (const UserError&) {
      // the schema is being created
    }
  }
  if (out.interrupted) child.send_signal(SIGINT);
  while (!child.exit_status() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  collect();
  out.status = child.exit_status();
  return out;
}

}  // namespace incept::sweep_test
