#include "framework/toml_util.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "framework/text.h"

namespace incept {

static const std::string kSetPrefix = "--set ";

// "it must be ..." for an out-of-range integer; INT64_MAX as the upper bound means none.
static std::string integer_range_text(std::int64_t min, std::int64_t max) {
  return max == INT64_MAX ? fmt::format("at least {}", min) : fmt::format("between {} and {}", min, max);
}

SourcePos pos_of(const toml::source_region& src) {
  SourcePos p;
  if (src.path) p.path = *src.path;
  // Values given on the command line have no useful line/column: the assignment itself is the location.
  if (p.path.rfind(kSetPrefix, 0) == 0) return p;
  p.line = static_cast<int>(src.begin.line);
  p.column = static_cast<int>(src.begin.column);
  return p;
}

SourcePos pos_of(const toml::node& node) { return pos_of(node.source()); }
SourcePos pos_of(const toml::key& key) { return pos_of(key.source()); }

const char* toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

void deep_merge(toml::table& base, toml::table&& overlay) {
  for (auto&& [k, v] : overlay) {
    auto* existing = base.get(k.str());
    if (existing && existing->is_table() && v.is_table()) {
      deep_merge(*existing->as_table(), std::move(*v.as_table()));
    } else {
      base.insert_or_assign(k, std::move(v));
    }
  }
}

std::optional<std::string> set_at_path(toml::table& root, const std::vector<std::string>& keys, toml::node&& value,
                                       const toml::source_region& where) {
  // `model.bn.` or `a..b` is a typo, not a shorter path: said here, so --set and sweep files agree.
  for (const std::string& key : keys)
    if (key.empty()) return fmt::format("'{}' has an empty path component", join(keys, "."));
  toml::table* cur = &root;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    toml::node* next = cur->get(keys[i]);
    if (!next) {
      cur->insert(toml::key(keys[i], where), toml::table{});
      next = cur->get(keys[i]);
    }
    if (!next->is_table()) {
      std::vector<std::string> prefix(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i + 1));
      return fmt::format("'{}' is {}, not a table, so '{}' cannot be set", join(prefix, "."),
                         toml_type_name(next->type()), join(keys, "."));
    }
    cur = next->as_table();
  }
  // A table set onto a table merges into it (`--set 'train={lr=0.2}'` changes lr and keeps the file's other
  // [train] keys), as `extends` merges; anything else replaces what was there.
  toml::node* existing = cur->get(keys.back());
  if (existing && existing->is_table() && value.is_table()) {
    deep_merge(*existing->as_table(), std::move(*value.as_table()));
    return std::nullopt;
  }
  cur->insert_or_assign(toml::key(keys.back(), where), std::move(value));
  return std::nullopt;
}

toml::table parse_override_value(const std::string& value, const std::string& origin) {
  try {
    toml::table t = toml::parse("v = " + value, std::string_view(origin));
    return t;
  } catch (const toml::parse_error&) {
    // A bare word: parsed again as a quoted string, so the value keeps `origin` as its position for later errors.
    std::stringstream quoted;
    quoted << toml::value<std::string>(value);
    return toml::parse("v = " + quoted.str(), std::string_view(origin));
  }
}

TableReader::TableReader(const toml::table* table, std::string context, SourcePos fallback, Diagnostics& diags)
    : table_(table), context_(std::move(context)), fallback_(std::move(fallback)), diags_(diags) {}

std::string TableReader::qualified(const std::string& key) const {
  return context_.empty() ? key : context_ + "." + key;
}

bool TableReader::present(const std::string& key) const { return table_ && table_->get(key); }

SourcePos TableReader::pos(const std::string& key) const {
  if (table_) {
    if (const auto* n = table_->get(key)) return pos_of(*n);
  }
  return fallback_;
}

std::optional<std::int64_t> integer_value(const toml::node& n) {
  if (const auto* i = n.as_integer()) return i->get();
  return std::nullopt;
}

const toml::node* TableReader::take(const std::string& key) {
  known_.push_back(key);
  return table_ ? table_->get(key) : nullptr;
}

std::int64_t TableReader::integer(const std::string& key, std::int64_t def, std::int64_t min, std::int64_t max) {
  const toml::node* n = take(key);
  if (!n) return def;
  const auto v = integer_value(*n);
  if (!v) {
    diags_.error(pos_of(*n), fmt::format("{}: expected an integer, got {}", qualified(key), toml_type_name(n->type())));
    return def;
  }
  if (*v < min || *v > max) {
    diags_.error(pos_of(*n), fmt::format("{}: {} is out of range; it must be {}", qualified(key), *v,
                                         integer_range_text(min, max)));
    return def;
  }
  return *v;
}

double TableReader::number(const std::string& key, double def, double min, double max) {
  const toml::node* n = take(key);
  if (!n) return def;
  if (!n->is_number()) {
    diags_.error(pos_of(*n), fmt::format("{}: expected a number, got {}", qualified(key), toml_type_name(n->type())));
    return def;
  }
  double v = *n->value<double>();
  if (!(v >= min && v <= max)) {
    diags_.error(pos_of(*n), fmt::format("{}: {} is out of range; it must be between {} and {}", qualified(key), v,
                                         min, max));
    return def;
  }
  return v;
}

bool TableReader::flag(const std::string& key, bool def) {
  const toml::node* n = take(key);
  if (!n) return def;
  if (!n->is_boolean()) {
    diags_.error(pos_of(*n), fmt::format("{}: expected true or false, got {}", qualified(key),
                                         toml_type_name(n->type())));
    return def;
  }
  return *n->value<bool>();
}

std::string TableReader::text(const std::string& key, const std::string& def) {
  const toml::node* n = take(key);
  if (!n) return def;
  if (!n->is_string()) {
    diags_.error(pos_of(*n), fmt::format("{}: expected a string, got {}", qualified(key), toml_type_name(n->type())));
    return def;
  }
  return *n->value<std::string>();
}

std::string TableReader::choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& choices) {
  std::string v = text(key, def);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    diags_.error(pos(key), fmt::format("{}: '{}' is not one of {}{}", qualified(key), v, join(choices, ", "),
                                       did_you_mean(v, choices)));
    return def;
  }
  return v;
}

std::vector<std::int64_t> TableReader::integers(const std::string& key, const std::vector<std::int64_t>& def,
                                                std::int64_t min, std::int64_t max) {
  const toml::node* n = take(key);
  if (!n) return def;
  const toml::array* a = n->as_array();
  std::vector<std::int64_t> out;
  if (a) {
    for (const auto& e : *a) {
      const auto v = integer_value(e);
      if (!v) {
        a = nullptr;
        break;
      }
      if (*v < min || *v > max) {
        diags_.error(pos_of(e), fmt::format("{}: {} is out of range; it must be {}", qualified(key), *v,
                                            integer_range_text(min, max)));
        return def;
      }
      out.push_back(*v);
    }
  }
  if (!a) {
    diags_.error(pos_of(*n), fmt::format("{}: expected an array of integers", qualified(key)));
    return def;
  }
  return out;
}

void TableReader::finish(const std::vector<std::string>& extra) {
  if (!table_) return;
  std::vector<std::string> known = known_;
  known.insert(known.end(), extra.begin(), extra.end());
  for (auto&& [k, v] : *table_) {
    std::string key(k.str());
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string where = context_.empty() ? "at the top level" : fmt::format("in [{}]", context_);
    diags_.error(pos_of(k), fmt::format("unknown key '{}' {}{}", key, where, did_you_mean(key, known)));
  }
}

bool read_param(const ParamDoc& doc, const toml::node& node, const std::string& context, ParamValue& out,
                Diagnostics& diags) {
  std::string name = context + ": " + doc.name;
  auto bad_type = [&](const char* expected) {
    diags.error(pos_of(node), fmt::format("{}: expected {}, got {}", name, expected, toml_type_name(node.type())));
    return false;
  };
  auto in_range = [&](double v) {
    if (v >= doc.min && v <= doc.max) return true;
    std::string range = doc.max >= 1e9 ? fmt::format("at least {}", doc.min)
                                        : fmt::format("between {} and {}", doc.min, doc.max);
    diags.error(pos_of(node), fmt::format("{}: {} is out of range; it must be {}", name, v, range));
    return false;
  };
  switch (doc.type) {
    case ParamType::Int: {
      if (!node.is_integer()) return bad_type("an integer");
      std::int64_t v = *node.value<std::int64_t>();
      if (!in_range(static_cast<double>(v))) return false;
      out = v;
      return true;
    }
    case ParamType::Float: {
      if (!node.is_number()) return bad_type("a number");
      double v = *node.value<double>();
      if (!in_range(v)) return false;
      out = v;
      return true;
    }
    case ParamType::Bool:
      if (!node.is_boolean()) return bad_type("true or false");
      out = *node.value<bool>();
      return true;
    case ParamType::String: {
      if (!node.is_string()) return bad_type("a string");
      std::string v = *node.value<std::string>();
      if (!doc.choices.empty() && std::find(doc.choices.begin(), doc.choices.end(), v) == doc.choices.end()) {
        diags.error(pos_of(node), fmt::format("{}: '{}' is not one of {}{}", name, v, join(doc.choices, ", "),
                                              did_you_mean(v, doc.choices)));
        return false;
      }
      out = v;
      return true;
    }
    case ParamType::IntPair: {
      if (node.is_integer()) {
        std::int64_t v = *node.value<std::int64_t>();
        if (!in_range(static_cast<double>(v))) return false;
        out = Pair{v, v};
        return true;
      }
      const toml::array* a = node.as_array();
      if (!a || a->size() != 2 || !(*a)[0].is_integer() || !(*a)[1].is_integer())
        return bad_type("an integer or a pair [h, w]");
      std::int64_t h = *(*a)[0].value<std::int64_t>(), w = *(*a)[1].value<std::int64_t>();
      if (!in_range(static_cast<double>(h)) || !in_range(static_cast<double>(w))) return false;
      out = Pair{h, w};
      return true;
    }
  }
  return false;
}

}  // namespace incept
