#pragma once
// Who holds a run or a sweep cell, and whether that holder still lives. On this host a holder is a process: its
// pid and its start time (the boot id and the kernel's start tick, so a pid reused by another process, or after a
// reboot, is not mistaken for it). A holder on another host can only be judged by its heartbeat: it is dead once
// its lease has expired.
#include <cstdint>
#include <string>

namespace incept {

struct ProcessIdentity {
  std::int64_t pid = 0;  // 0: unknown (recorded before v2)
  std::string host;      // hostname; "" unknown
  std::string start;     // "<boot id>:<start tick>"; "" unknown (recorded before v3)
};

std::int64_t this_process_id();
std::string this_host_name();
// The calling process, as the log records it.
ProcessIdentity this_process();
// "<boot id>:<start tick>" of process `pid` of this host; "" if it does not exist (or /proc cannot tell).
std::string process_start_of(std::int64_t pid);

// For a holder recorded on this host: whether that very process still runs. A stopped process (SIGSTOP, Ctrl-Z)
// lives; a zombie does not; a pid now used by another process does not (when the start time was recorded).
bool process_alive_here(const ProcessIdentity& p);

// A fresh random claim token (128 bits as hex): every claim and every run id is one.
std::string random_token();

// How long a holder on another host may stay silent before it is declared dead: INCEPT_LEASE_SECONDS, default
// 120 (any other value is a UserError). Its heartbeat is written every kHeartbeatSeconds.
double lease_seconds();
constexpr double kHeartbeatSeconds = 5;
constexpr double kDefaultLeaseSeconds = 120;

}  // namespace incept
