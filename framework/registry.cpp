#include "framework/registry.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "framework/text.h"

namespace incept {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::IntPair: return "int or [h, w]";
  }
  return "?";
}

const ParamValue& BlockArgs::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("block parameter '" + name + "' was not resolved");
  return it->second;
}

std::int64_t BlockArgs::integer(const std::string& name) const { return std::get<std::int64_t>(at(name)); }
double BlockArgs::number(const std::string& name) const {
  const auto& v = at(name);
  if (auto i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}
bool BlockArgs::flag(const std::string& name) const { return std::get<bool>(at(name)); }
const std::string& BlockArgs::text(const std::string& name) const { return std::get<std::string>(at(name)); }
Pair BlockArgs::pair(const std::string& name) const {
  const auto& v = at(name);
  if (auto i = std::get_if<std::int64_t>(&v)) return Pair{*i, *i};
  return std::get<Pair>(v);
}

const std::vector<ParamDoc>& conv_style_params() {
  static const std::vector<ParamDoc> params = {
      {"bn", ParamType::Bool, "model.bn",
       "batch-norm variant: conv -> BatchNorm2d -> ReLU in every conv unit of the layer"},
      {"bn_eps", ParamType::Float, "model.bn_eps", "BatchNorm2d epsilon (default 0.001)", 0.0, 1.0},
      {"bias", ParamType::Bool, "not bn", "give convolutions a bias term (off by default when bn is on)"},
  };
  return params;
}

const std::vector<ParamDoc>& residual_params() {
  static const std::vector<ParamDoc> params = {
      {"residual", ParamType::Bool, "false",
       "wrap the layer in a residual connection: x + residual_scale * proj(block(x)), as Inception-ResNet does"},
      {"residual_scale", ParamType::Float, "1.0",
       "scale of the block's contribution before the add (Inception-ResNet: 0.1-0.3)", 0.0, 1000.0},
      {"residual_proj", ParamType::Bool, "true",
       "1x1 conv (with bias, no BN, no activation) mapping the block's output back to the input's channels, "
       "Inception-ResNet's linear 1x1; false: the block's output must already have the input's shape"},
      {"residual_activation", ParamType::String, "\"relu\"", "relu or none after the sum", 0, 0, {"relu", "none"}},
  };
  return params;
}

std::vector<ParamDoc> all_params(const BlockDef& def) {
  std::vector<ParamDoc> all = def.params;
  if (def.has_convs) all.insert(all.end(), conv_style_params().begin(), conv_style_params().end());
  if (def.takes_residual) all.insert(all.end(), residual_params().begin(), residual_params().end());
  return all;
}

namespace {

// A block's expansion with placeholder arguments (each parameter's value nearest 1 within its range, the first of
// its choices), to see which operations it uses. That does not depend on its arguments (they size the operations
// and pick options); the every-block test in tests/test_registry.cpp checks the result against the expansion of
// real configs.
Node placeholder_expansion(const BlockDef& def) {
  BlockArgs args;
  for (const ParamDoc& p : def.params) {
    const auto one = static_cast<std::int64_t>(std::clamp(1.0, p.min, p.max));
    switch (p.type) {
      case ParamType::Int: args.set(p.name, one); break;
      case ParamType::Float: args.set(p.name, std::clamp(1.0, p.min, p.max)); break;
      case ParamType::Bool: args.set(p.name, false); break;
      case ParamType::String: args.set(p.name, p.choices.empty() ? std::string() : p.choices.front()); break;
      case ParamType::IntPair: args.set(p.name, Pair{one, one}); break;
    }
  }
  return def.expand(args, BlockContext{Shape::chw(8, 32, 32), ConvStyle{}});
}

}  // namespace

void BlockRegistry::add(BlockDef def, const char* file, int line) {
  std::string where = fmt::format("{}:{}", file, line);
  auto it = blocks_.find(def.name);
  if (it != blocks_.end())
    throw std::logic_error(fmt::format("block '{}' is registered twice: first at {}, again at {}", def.name,
                                       it->second.defined_at, where));
  if (!def.expand) throw std::logic_error(fmt::format("block '{}' ({}) has no expand function", def.name, where));
  def.defined_at = where;
  const Node expansion = placeholder_expansion(def);
  def.has_convs = contains_conv(expansion);
  def.takes_residual = def.role == BlockRole::Layer && def.has_convs && !contains_op<ResidualAttrs>(expansion);
  std::string name = def.name;
  blocks_.emplace(name, std::move(def));
}

const BlockDef* BlockRegistry::find(const std::string& name) const {
  auto it = blocks_.find(name);
  return it == blocks_.end() ? nullptr : &it->second;
}

const BlockDef& BlockRegistry::get(const std::string& name, const SourcePos& pos) const {
  if (const BlockDef* def = find(name)) return *def;
  throw ConfigError(pos, unknown_block_message(name));
}

std::string BlockRegistry::unknown_block_message(const std::string& name) const {
  return fmt::format("unknown block '{}'{} (known blocks: {})", name, did_you_mean(name, names()),
                     join(names(), ", "));
}

std::vector<std::string> BlockRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : blocks_) out.push_back(kv.first);
  return out;
}


}  // namespace incept
