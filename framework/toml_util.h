#pragma once
// TOML helpers that keep every value's source position, so each error can point at file:line:col.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "framework/diagnostics.h"
#include "framework/registry.h"

namespace incept {

SourcePos pos_of(const toml::source_region& src);
SourcePos pos_of(const toml::node& node);
SourcePos pos_of(const toml::key& key);
const char* toml_type_name(toml::node_type t);
// The value of an integer node; nullopt for any other type. Never asks toml++ to convert a float: its 3.3
// value<int64_t>() casts the double before checking the range, undefined behaviour for 1e308 (found by fuzzing).
std::optional<std::int64_t> integer_value(const toml::node& n);

// Overlay wins; tables merge recursively, everything else (arrays included) is replaced. The overlay's nodes are
// moved, not copied: toml++ drops source positions on copy, and every error must keep its file:line:col.
void deep_merge(toml::table& base, toml::table&& overlay);

// Sets the value at the dotted path `keys` (["model", "stem", "out"]) of `root` to `value`, moved in, creating the
// missing tables on the way. Created tables and the set key get the source region `where`, so an error later found
// in them points at the setting. Returns the problem, worded for the user, when a key on the way holds something
// other than a table; the value is not set then (tables created before that key stay). A table set where a table is
// merges into it (deep_merge), as `extends` does.
std::optional<std::string> set_at_path(toml::table& root, const std::vector<std::string>& keys, toml::node&& value,
                                       const toml::source_region& where = {});

// Parses `value` as a TOML value (`16`, `true`, `[1, 7]`, `"text"`); a bare word that is not valid TOML
// (`--set data.dataset=mnist`) is taken as a string.
toml::table parse_override_value(const std::string& value, const std::string& origin);

// Reads typed fields of one table, recording every problem in `diags` and, at finish(), every key nobody asked
// for ("unknown key 'epohcs' in [train]; did you mean 'epochs'?").
class TableReader {
 public:
  TableReader(const toml::table* table, std::string context, SourcePos fallback, Diagnostics& diags);

  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min = INT64_MIN,
                       std::int64_t max = INT64_MAX);
  double number(const std::string& key, double def, double min = -1e300, double max = 1e300);
  bool flag(const std::string& key, bool def);
  std::string text(const std::string& key, const std::string& def);
  std::string choice(const std::string& key, const std::string& def, const std::vector<std::string>& choices);
  std::vector<std::int64_t> integers(const std::string& key, const std::vector<std::int64_t>& def,
                                     std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);
  // Marks a key as known without reading it (nested tables handled elsewhere).
  const toml::node* take(const std::string& key);
  bool present(const std::string& key) const;
  SourcePos pos(const std::string& key) const;
  // Reports unknown keys. `extra` names keys that are allowed but were not read.
  void finish(const std::vector<std::string>& extra = {});
  Diagnostics& diags() { return diags_; }

 private:
  std::string qualified(const std::string& key) const;
  const toml::table* table_;
  std::string context_;
  SourcePos fallback_;
  Diagnostics& diags_;
  std::vector<std::string> known_;
};

// Reads one block parameter from `node` according to its documentation (type, range, choices).
// Returns false (after recording a diagnostic) when the value does not fit.
bool read_param(const ParamDoc& doc, const toml::node& node, const std::string& context, ParamValue& out,
                Diagnostics& diags);

}  // namespace incept
