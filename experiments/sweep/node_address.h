#pragma once
// Where a value sits inside a parsed TOML document (keys and array indices from the root), so the same value can
// be found again in a fresh parse of the same text. toml++ keeps a node's file:line:col only on the parsed node
// itself (copies lose it), so each sweep variant takes its values from its own parse of the sweep file.
#include <cstddef>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace incept {

class NodeAddress {
 public:
  NodeAddress key(const std::string& k) const;
  NodeAddress index(std::size_t i) const;
  // nullptr when the document has no node there.
  toml::node* find(toml::table& root) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    std::string key;
    std::size_t index = 0;
    bool is_key = true;
  };
  std::vector<Step> steps_;
};

}  // namespace incept
