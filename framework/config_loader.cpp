#include "framework/config_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"
#include "framework/toml_util.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

// Configs are small text files. Anything else named as one (a directory, /dev/zero, a pipe, a symlink loop, a file
// of gigabytes) is refused before it is read: reading /dev/zero would grow memory without bound.
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

// Why `path` cannot be a config file, or "" when it can be read as one.
std::string unreadable_reason(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec) {
    if (ec == std::errc::too_many_symbolic_link_levels) return "is a loop of symbolic links";
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return "does not exist";
    return "cannot be read: " + ec.message();
  }
  if (fs::is_directory(st)) return "is a directory";
  if (!fs::is_regular_file(st)) return "is not a regular file (a device, a pipe or a socket)";
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxConfigBytes)
    return fmt::format("is {} MiB, more than the {} MiB a config may have", size >> 20, kMaxConfigBytes >> 20);
  return "";
}

toml::table parse_file(const std::string& path, const SourcePos& referenced_from) {
  std::string why = unreadable_reason(path);
  std::stringstream buffer;
  if (why.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) buffer << in.rdbuf();
    if (!in || in.bad()) why = "cannot be read";
  }
  if (!why.empty()) {
    if (referenced_from.path.empty()) throw ConfigError(SourcePos{path}, fmt::format("config file {}", why));
    throw ConfigError(referenced_from, fmt::format("extends '{}': file {}", path, why));
  }
  try {
    return toml::parse(buffer.str(), std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw ConfigError(pos_of(e.source()), std::string(e.description()));
  }
}

toml::table load_with_extends(const std::string& path, const SourcePos& referenced_from,
                              std::vector<std::string>& chain) {
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(path, ec).string();
  if (ec) canonical = fs::absolute(path, ec).lexically_normal().string();  // a symlink loop: parse_file says so
  for (const auto& seen : chain) {
    if (seen == canonical) {
      std::string cycle;
      for (const auto& c : chain) cycle += c + " -> ";
      throw ConfigError(referenced_from, fmt::format("extends cycle: {}{}", cycle, canonical));
    }
  }
  chain.push_back(canonical);
  toml::table self = parse_file(path, referenced_from);
  toml::table result;
  if (const toml::node* ext = self.get("extends")) {
    if (!ext->is_string())
      throw ConfigError(pos_of(*ext), fmt::format("extends: expected a path string, got {}",
                                                  toml_type_name(ext->type())));
    fs::path base = fs::path(path).parent_path() / *ext->value<std::string>();
    result = load_with_extends(base.lexically_normal().string(), pos_of(*ext), chain);
    self.erase("extends");
  }
  deep_merge(result, std::move(self));
  chain.pop_back();
  return result;
}

}  // namespace

void apply_override(toml::table& root, const std::string& assignment) {
  std::string origin = "--set " + assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(SourcePos{origin}, "expected KEY=VALUE, for example --set train.epochs=1");
  std::string key = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  toml::table parsed = parse_override_value(value, origin);
  const std::vector<std::string> parts = split(key, '.');
  // Keys created here carry the --set's own position, so a later error about them names this --set.
  toml::node& v = *parsed.get("v");
  const toml::source_region where = v.source();
  if (auto problem = set_at_path(root, parts, std::move(v), where)) throw ConfigError(SourcePos{origin}, *problem);
}

toml::table load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::vector<std::string> chain;
  toml::table root = load_with_extends(path, SourcePos{}, chain);
  for (const auto& o : overrides) apply_override(root, o);
  return root;
}

std::string to_toml_text(const toml::table& root) {
  std::stringstream ss;
  ss << toml::toml_formatter(root);
  return ss.str();
}

std::string config_hash(const toml::table& root) {
  // FNV-1a over the canonical text: stable across runs and machines, enough to recognise identical experiments.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : to_toml_text(root)) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace incept
