#pragma once
// A tiny JSON writer: enough for `--json` outputs and reports, without another dependency.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

std::string json_escape(const std::string& s);  // returns the quoted literal

// Builds one JSON value incrementally; keys and commas are handled so callers cannot produce invalid JSON.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(double v);  // NaN/inf become null
  JsonWriter& value(bool v);
  JsonWriter& null();
  JsonWriter& raw(const std::string& json);  // an already serialised value
  JsonWriter& value(const std::vector<std::int64_t>& v);
  const std::string& str() const { return out_; }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace incept
