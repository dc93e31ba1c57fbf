#include "experiments/slurm/slurm_tools.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

int parse_int(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoi(s);
}

// "Key=Value Key=Value ..." of one scontrol -o record (values hold no blanks, except a few we do not read).
std::map<std::string, std::string> words_of(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) out.emplace(word.substr(0, eq), word.substr(eq + 1));
  }
  return out;
}

std::string first_line(const std::string& s) {
  const std::string t = trim(s);
  return t.substr(0, t.find('\n'));
}

// A tool's last word on a failure (Slurm's commands print their "fatal:" or "error:" line last).
std::string last_line(const std::string& s) {
  const std::string t = trim(s);
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw UserError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw UserError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) throw UserError(fmt::format("cannot start {}: {}", argv[0], std::strerror(errno)));
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ProgramOutput result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string submit_batch(const std::vector<std::string>& args, const std::string& script) {
  std::vector<std::string> argv{"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script);
  const ProgramOutput r = run_program(argv);
  if (r.status == 127) throw UserError("sbatch not found: is Slurm installed here (or on PATH)?");
  // --parsable prints "jobid" or "jobid;cluster".
  const std::string id = first_line(r.out).substr(0, first_line(r.out).find(';'));
  if (r.status != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw UserError(fmt::format("sbatch {} failed (exit status {}): {}", script, r.status,
                                trim(r.err).empty() ? last_line(r.out) : last_line(r.err)));
  return id;
}

void cancel_jobs(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return;
  std::vector<std::string> argv{"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  run_program(argv);
}

std::vector<QueuedJob> parse_squeue(const std::string& text) {
  std::vector<QueuedJob> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split(trim(line), '|');
    if (f.size() < 6) continue;
    QueuedJob j;
    j.job = f[0];
    j.task = parse_int(f[1]);  // "N/A" for a plain job; a pending range ("[2-3]") only without -r
    j.state = f[3];
    j.nodes = f[4];
    j.reason = f[5];
    if (!j.job.empty()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<QueuedJob> queued_jobs() {
  const ProgramOutput r = run_program({"squeue", "--noheader", "--array", "--me", "--format=%F|%K|%i|%T|%N|%r"});
  if (r.status == 127) throw UserError("squeue not found: is Slurm installed here (or on PATH)?");
  if (r.status != 0) throw UserError(fmt::format("squeue failed (exit status {}): {}", r.status, last_line(r.err)));
  return parse_squeue(r.out);
}

std::string EndedTask::describe() const {
  std::string out = state.empty() ? "unknown" : state;
  if (!reason.empty() && reason != "None") out += fmt::format(" ({})", reason);
  if (!exit_code.empty() && exit_code != "0:0") out += fmt::format(", exit {}", exit_code);
  return out;
}

std::map<int, EndedTask> parse_scontrol_jobs(const std::string& text) {
  std::map<int, EndedTask> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto w = words_of(line);
    const auto task = w.find("ArrayTaskId");
    if (task == w.end() || parse_int(task->second) == 0) continue;  // a pending range, or no array task
    EndedTask t;
    auto get = [&](const char* key) {
      const auto it = w.find(key);
      return it == w.end() || it->second == "(null)" ? std::string() : it->second;
    };
    t.state = get("JobState");
    t.reason = get("Reason");
    t.exit_code = get("ExitCode");
    t.nodes = get("NodeList");
    out[parse_int(task->second)] = t;
  }
  return out;
}

std::map<int, EndedTask> parse_sacct(const std::string& text, const std::string& array_job) {
  std::map<int, EndedTask> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split(trim(line), '|');
    if (f.size() < 3 || f[0].rfind(array_job + "_", 0) != 0) continue;
    const int task = parse_int(f[0].substr(array_job.size() + 1));
    if (task == 0) continue;
    EndedTask t;
    t.state = f[1].substr(0, f[1].find(' '));  // "CANCELLED by 1000"
    t.exit_code = f[2];
    if (f.size() > 3) t.nodes = f[3];
    out[task] = t;
  }
  return out;
}

std::map<int, EndedTask> array_task_states(const std::string& array_job) {
  std::map<int, EndedTask> tasks;
  try {
    // scontrol gives the reason too, but only for MinJobAge after a task ended; sacct remembers the rest.
    const ProgramOutput ctl = run_program({"scontrol", "--oneliner", "show", "job", array_job});
    if (ctl.status == 0) tasks = parse_scontrol_jobs(ctl.out);
    const ProgramOutput acct =
        run_program({"sacct", "--noheader", "--parsable2", "--allocations", "--jobs", array_job,
                     "--format=JobID,State,ExitCode,NodeList"});
    if (acct.status == 0) tasks.merge(parse_sacct(acct.out, array_job));  // keeps what scontrol said
  } catch (const std::exception&) {
    // Slurm's account of the tasks is extra information: without it the runs keep their own errors.
  }
  return tasks;
}

}  // namespace incept
