#pragma once
// Error reporting for everything a user types: configs, --set overrides, command-line values.
// Messages follow the compiler convention `path:line:col: error: message` so editors can jump to them.
#include <stdexcept>
#include <string>
#include <vector>

namespace incept {

struct SourcePos {
  std::string path;  // file path, or a pseudo-file such as "<--set>"
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string str() const;  // "path:line:col" (parts that are unknown are omitted)
};

struct Diagnostic {
  SourcePos pos;
  std::string message;
  std::string str() const;  // "path:line:col: error: message"
};

// Collects every error of a file so the user sees them all at once instead of fixing them one run at a time.
class Diagnostics {
 public:
  void error(const SourcePos& pos, std::string message);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  std::string str() const;  // one diagnostic per line
  // Throws ConfigError holding every collected diagnostic, if there is any.
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> items_;
};

// A user-input error: the CLI prints `what()` (already formatted diagnostics) and exits with status 2.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  ConfigError(const SourcePos& pos, const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// An error in data or the environment (a corrupt file, a missing directory): exit status 1, no stack trace.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace incept
