#include "experiments/data/shell.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"
#include "platform/remove_tree.h"

namespace incept {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(("(" + command + ") 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

bool program_on_path(const std::string& program) {
  return run_command("command -v " + shell_quote(program) + " >/dev/null").exit_code == 0;
}

std::string tail_lines(const std::string& text, int lines) {
  std::vector<std::string> all = split(text, '\n');
  while (!all.empty() && all.back().empty()) all.pop_back();
  const std::size_t first = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (std::size_t i = first; i < all.size(); ++i) out += "\n    " + all[i];
  return out;
}

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!mkdtemp(pattern.data()))
    throw UserError(fmt::format("cannot create a temporary directory {}", pattern));
  path_ = pattern;
}

TempDir::~TempDir() {
  remove_tree(path_);  // best effort: never throws
}

}  // namespace incept
