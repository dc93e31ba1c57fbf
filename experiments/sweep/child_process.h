#pragma once
// A child process whose stdout and stderr come back through one pipe, line by line, without blocking: the sweep
// runner watches several at once.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace incept {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`, stdin from /dev/null, in a process group of its own: a Ctrl-C at the
  // terminal then reaches only the parent, which decides what the children get. Throws UserError if it cannot.
  static ChildProcess start(const std::vector<std::string>& argv);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // kills and reaps a child still running (only on error paths)

  pid_t pid() const { return pid_; }
  int output_fd() const { return fd_; }  // for poll(); -1 once the output has ended
  // The complete lines written so far (a last unterminated line once the output has ended).
  std::vector<std::string> read_lines();
  // The exit status once the child has ended (128 + N when killed by signal N), without waiting.
  std::optional<int> exit_status();
  void send_signal(int sig) const;

 private:
  ChildProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  void close_output();
  void release();  // closes the pipe; kills and reaps a child still running
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string partial_;
  std::optional<int> status_;
};

}  // namespace incept
