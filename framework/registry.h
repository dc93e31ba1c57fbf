#pragma once
// The block registry: named factories that expand a configured layer into IR.
// Blocks are registered explicitly by register_builtin_blocks() (static-initializer registries vanish when a
// library is linked statically), and each one documents its parameters so `incept blocks NAME` can print them.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "framework/diagnostics.h"
#include "framework/ir.h"
#include "framework/shape.h"

namespace incept {

enum class ParamType { Int, Float, Bool, String, IntPair };
const char* param_type_name(ParamType t);

struct ParamDoc {
  std::string name;
  ParamType type = ParamType::Int;
  std::string default_text;  // as the user would write it; empty = required
  std::string meaning;
  double min = -1e300;       // inclusive bounds for Int/Float/IntPair values
  double max = 1e300;
  std::vector<std::string> choices;  // allowed values for String parameters
  bool required() const { return default_text.empty(); }
};

using ParamValue = std::variant<std::int64_t, double, bool, std::string, Pair>;

// The validated, defaulted parameters of one layer.
class BlockArgs {
 public:
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool flag(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  Pair pair(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

struct BlockContext {
  Shape input;     // the layer's input shape
  ConvStyle conv;  // how conv units are built (bn / bias / eps), resolved per layer
};

// Where a block may be used: as a main-path layer ([[model.layers]]) or as an auxiliary classifier attached to a
// layer's output ([[model.aux]]), whose loss counts during training only.
enum class BlockRole { Layer, AuxHead };

struct BlockDef {
  std::string name;
  std::string summary;  // one line for `incept blocks`
  std::string details;  // a paragraph for `incept blocks NAME`: structure, output channels, cost notes
  std::vector<ParamDoc> params;
  BlockRole role = BlockRole::Layer;
  std::function<Node(const BlockArgs&, const BlockContext&)> expand;

  // Filled in by BlockRegistry::add:
  std::string defined_at;  // "file:line", to name both sides of a duplicate registration
  // Whether the expansion contains a convolution: such blocks also accept the common `bn`, `bn_eps` and `bias`
  // switches (and follow model.bn). Derived, not declared, so no conv-bearing block can miss them.
  bool has_convs = false;
  // Whether the block takes the residual switches (residual_params()): a main-path block with a convolution whose
  // expansion is not already residual. Derived like has_convs.
  bool takes_residual = false;
};

// The switches every conv-bearing block accepts, documented once.
const std::vector<ParamDoc>& conv_style_params();
// The switches that wrap a layer in a residual connection (framework/model_spec.cpp applies them), documented once.
const std::vector<ParamDoc>& residual_params();
// Everything a layer of this block may set: its own parameters, then the switches it takes.
std::vector<ParamDoc> all_params(const BlockDef& def);

class BlockRegistry {
 public:
  // Throws std::logic_error naming both definitions when `def.name` is already registered. Sets `defined_at`,
  // `has_convs` and `takes_residual`.
  void add(BlockDef def, const char* file, int line);
  const BlockDef* find(const std::string& name) const;
  // Throws ConfigError at `pos` with unknown_block_message(name).
  const BlockDef& get(const std::string& name, const SourcePos& pos) const;
  // "unknown block 'NAME'; did you mean 'X'? (known blocks: ...)": the one wording of this error wherever a block
  // is named (a layer, an aux head, [model.defaults], `incept blocks`); callers prefix where the name was used.
  std::string unknown_block_message(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, BlockDef>& all() const { return blocks_; }

 private:
  std::map<std::string, BlockDef> blocks_;
};

#define INCEPT_REGISTER(registry, def) (registry).add((def), __FILE__, __LINE__)

}  // namespace incept
