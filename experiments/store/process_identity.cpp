#include "experiments/store/process_identity.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

const std::string& boot_id() {
  static const std::string id = read_first_line("/proc/sys/kernel/random/boot_id");
  return id;
}

// The fields of /proc/PID/stat after "pid (comm)": comm may contain anything, so split after its last ')'.
std::vector<std::string> stat_fields(std::int64_t pid) {
  const std::string line = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t name_end = line.rfind(')');
  std::vector<std::string> fields;
  if (name_end == std::string::npos) return fields;
  std::istringstream rest(line.substr(name_end + 1));
  fields.assign(std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>());
  return fields;  // [0] = state (field 3 of proc(5)), [19] = starttime (field 22)
}

}  // namespace

std::int64_t this_process_id() { return static_cast<std::int64_t>(::getpid()); }

std::string this_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string process_start_of(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return "";
  const std::vector<std::string> f = stat_fields(pid);
  if (f.size() < 20 || boot_id().empty()) return "";
  return boot_id() + ":" + f[19];
}

ProcessIdentity this_process() {
  static const ProcessIdentity me{this_process_id(), this_host_name(), process_start_of(this_process_id())};
  return me;
}

bool process_alive_here(const ProcessIdentity& p) {
  if (p.pid <= 0 || p.pid > INT_MAX) return true;  // not a pid this code recorded: cannot tell, assume alive
  // EPERM: it exists but belongs to another user.
  if (::kill(static_cast<pid_t>(p.pid), 0) != 0 && errno != EPERM) return false;
  const std::vector<std::string> f = stat_fields(p.pid);
  if (!f.empty() && f[0] == "Z") return false;  // killed, not yet reaped by its parent: stopped for good
  if (!p.start.empty() && f.size() >= 20 && !boot_id().empty() && p.start != boot_id() + ":" + f[19])
    return false;  // the pid now belongs to another process
  return true;
}

std::string random_token() {
  std::random_device rd;  // /dev/urandom on Linux
  std::uniform_int_distribution<std::uint32_t> word;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", word(rd), word(rd), word(rd), word(rd));
}

double lease_seconds() {
  if (const char* text = std::getenv("INCEPT_LEASE_SECONDS")) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > 1e9)
      throw UserError(fmt::format("INCEPT_LEASE_SECONDS='{}': expected a positive number of seconds", text));
    return v;
  }
  return kDefaultLeaseSeconds;
}

}  // namespace incept
