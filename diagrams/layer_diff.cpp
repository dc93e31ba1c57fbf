#include "diagrams/layer_diff.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "framework/side_by_side.h"

namespace incept {

namespace {

bool same_value(const ParamValue& a, const ParamValue& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, Pair>) return x.h == y.h && x.w == y.w;
        else return x == y;
      },
      a);
}

bool same_layer(const LayerSpec& a, const LayerSpec& b) {
  if (a.block != b.block) return false;
  const auto& va = a.args.values();
  const auto& vb = b.args.values();
  if (va.size() != vb.size()) return false;
  for (auto ia = va.begin(), ib = vb.begin(); ia != va.end(); ++ia, ++ib)
    if (ia->first != ib->first || !same_value(ia->second, ib->second)) return false;
  return true;
}

std::vector<std::string> names_of(const std::vector<LayerSpec>& layers) {
  std::vector<std::string> out;
  for (const LayerSpec& l : layers) out.push_back(l.name);
  return out;
}

std::vector<std::string> aux_names(const ModelSpec& spec) {
  std::vector<std::string> out;
  for (const AuxSpec& a : spec.aux) out.push_back(a.head.name);
  return out;
}

void add_once(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

}  // namespace

std::vector<std::string> differing_layers(const ModelSpec& base, const ModelSpec& other) {
  std::vector<std::string> out;
  for (const AlignedRow& row : align_by_name({names_of(base.layers), names_of(other.layers)})) {
    if (!row.index[0] || !row.index[1] || !same_layer(base.layers[*row.index[0]], other.layers[*row.index[1]]))
      out.push_back(row.name);
  }
  for (const AlignedRow& row : align_by_name({aux_names(base), aux_names(other)})) {
    const AuxSpec* a = row.index[0] ? &base.aux[*row.index[0]] : nullptr;
    const AuxSpec* b = row.index[1] ? &other.aux[*row.index[1]] : nullptr;
    if (!a || !b || a->at != b->at || !same_layer(a->head, b->head)) out.push_back(row.name);
  }
  return out;
}

std::vector<std::string> differing_layers(const std::vector<const ModelSpec*>& models) {
  std::vector<std::string> out;
  if (models.empty()) return out;
  for (std::size_t m = 1; m < models.size(); ++m)
    for (const std::string& name : differing_layers(*models[0], *models[m])) add_once(out, name);
  // Keep the first network's order: names it has, as it has them, then the others' additions as found.
  std::vector<std::string> ordered;
  for (const LayerSpec& l : models[0]->layers)
    if (std::find(out.begin(), out.end(), l.name) != out.end()) ordered.push_back(l.name);
  for (const std::string& name : out) add_once(ordered, name);
  return ordered;
}

}  // namespace incept
