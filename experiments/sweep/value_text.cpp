#include "experiments/sweep/value_text.h"

#include <sstream>

#include <fmt/format.h>

#include "framework/text.h"

namespace incept {

std::string toml_value_text(const toml::node& value) {
  // toml++ writes floats with 17 significant digits (0.05 -> 0.050000000000000003); the shortest text that reads
  // back as the same double is what the user wrote, and it keeps variant names and --set arguments readable.
  if (const auto* f = value.as_floating_point()) {
    std::string text = fmt::format("{}", f->get());
    if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // 1 -> 1.0 (inf and nan stay)
    return text;
  }
  if (const auto* a = value.as_array()) {
    std::vector<std::string> parts;
    for (const auto& e : *a) parts.push_back(toml_value_text(e));
    return "[" + join(parts, ", ") + "]";
  }
  std::stringstream ss;
  // No indentation: the text travels as one command-line argument.
  ss << toml::toml_formatter{value, toml::toml_formatter::default_flags & ~toml::format_flags::indentation};
  return ss.str();
}

std::string display_value(const toml::node& value) {
  if (const auto* s = value.as_string()) return s->get();
  if (const auto* a = value.as_array()) {
    std::vector<std::string> parts;
    for (const auto& e : *a) parts.push_back(display_value(e));
    return "[" + join(parts, ",") + "]";
  }
  return toml_value_text(value);
}

namespace {

// The last `n` components of `parts` (all of them when there are fewer), joined with dots.
std::string tail(const std::vector<std::string>& parts, std::size_t n) {
  std::size_t from = parts.size() > n ? parts.size() - n : 0;
  return join(std::vector<std::string>(parts.begin() + static_cast<std::ptrdiff_t>(from), parts.end()), ".");
}

// A key of a layer addressed by name reads better with the layer: "mix.out", not "out".
std::size_t shortest_tail(const std::vector<std::string>& parts) {
  bool layer_key = parts.size() >= 3 && parts[0] == "model" && parts[1] != "defaults";
  return layer_key ? 2 : 1;
}

}  // namespace

std::vector<std::string> short_path_names(const std::vector<std::string>& paths) {
  std::vector<std::vector<std::string>> parts;
  for (const auto& p : paths) parts.push_back(split(p, '.'));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::string name = paths[i];
    for (std::size_t n = shortest_tail(parts[i]); n <= parts[i].size(); ++n) {
      std::string candidate = tail(parts[i], n);
      bool unique = true;
      for (std::size_t j = 0; j < paths.size() && unique; ++j)
        if (j != i && tail(parts[j], n) == candidate) unique = false;
      if (unique) {
        name = candidate;
        break;
      }
    }
    out.push_back(name);
  }
  return out;
}

}  // namespace incept
