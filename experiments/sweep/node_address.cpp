#include "experiments/sweep/node_address.h"

namespace incept {

NodeAddress NodeAddress::key(const std::string& k) const {
  NodeAddress a = *this;
  a.steps_.push_back(Step{k, 0, true});
  return a;
}

NodeAddress NodeAddress::index(std::size_t i) const {
  NodeAddress a = *this;
  a.steps_.push_back(Step{"", i, false});
  return a;
}

toml::node* NodeAddress::find(toml::table& root) const {
  toml::node* cur = &root;
  for (const Step& s : steps_) {
    if (s.is_key) {
      toml::table* t = cur->as_table();
      cur = t ? t->get(s.key) : nullptr;
    } else {
      toml::array* a = cur->as_array();
      cur = a && s.index < a->size() ? a->get(s.index) : nullptr;
    }
    if (!cur) return nullptr;
  }
  return cur;
}

}  // namespace incept
