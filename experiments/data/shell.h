#pragma once
// Running external programs (npm, tar) for `incept data fetch`, and a self-deleting scratch directory.
#include <string>

namespace incept {

// Wraps `s` in single quotes for /bin/sh, so paths with spaces or quotes survive.
std::string shell_quote(const std::string& s);

struct CommandResult {
  int exit_code = -1;  // -1 when the shell could not be started or the command died from a signal
  std::string output;  // stdout and stderr interleaved, for error messages
};

// Runs `command` with /bin/sh and waits for it.
CommandResult run_command(const std::string& command);

// Whether `program` can be found on PATH.
bool program_on_path(const std::string& program);

// The last `lines` lines of `text`, indented, for quoting a tool's output inside our own error message.
std::string tail_lines(const std::string& text, int lines);

// A fresh directory under the system temp directory, removed with its contents when this goes out of scope
// (also when a fetch fails half way, so no partial downloads are left behind).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace incept
