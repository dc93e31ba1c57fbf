#include "framework/diagnostics.h"

#include <algorithm>

#include <fmt/format.h>

namespace incept {

std::string SourcePos::str() const {
  if (line <= 0) return path;
  if (column <= 0) return fmt::format("{}:{}", path, line);
  return fmt::format("{}:{}:{}", path, line, column);
}

std::string Diagnostic::str() const { return fmt::format("{}: error: {}", pos.str(), message); }

void Diagnostics::error(const SourcePos& pos, std::string message) {
  // The same problem at the same place, found again through another path (a defaults table read for each layer
  // of its block), is said once.
  for (const Diagnostic& d : items_)
    if (d.message == message && d.pos.str() == pos.str()) return;
  items_.push_back({pos, std::move(message)});
}

std::string Diagnostics::str() const {
  std::string out;
  for (const auto& d : items_) {
    if (!out.empty()) out += '\n';
    out += d.str();
  }
  return out;
}

void Diagnostics::throw_if_any() const {
  if (items_.empty()) return;
  // In file order, as a compiler would list them.
  std::vector<Diagnostic> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.pos.path != b.pos.path) return a.pos.path < b.pos.path;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
  throw ConfigError(sorted);
}

static std::string join_diagnostics(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += d.str();
  }
  return out;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_diagnostics(diagnostics)), diagnostics_(std::move(diagnostics)) {}

ConfigError::ConfigError(const SourcePos& pos, const std::string& message)
    : ConfigError(std::vector<Diagnostic>{{pos, message}}) {}

}  // namespace incept
