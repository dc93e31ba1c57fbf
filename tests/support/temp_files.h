#pragma once
// Test helpers: a private temporary directory per test and a way to run the `incept` binary.
#include <filesystem>
#include <string>

namespace incept::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `incept ARGS` (a shell-quoted string) in `cwd`, capturing both streams.
CommandResult run_incept(const std::string& args, const std::string& cwd = INCEPT_SOURCE_DIR);

std::string source_path(const std::string& relative);  // INCEPT_SOURCE_DIR/relative

}  // namespace incept::testing
