#pragma once
// Shorthands for declaring block parameters, so each block file reads like the paper's table.
#include <string>

#include "framework/registry.h"

namespace incept::blocks {

inline ParamDoc channels(const std::string& name, const std::string& meaning, const std::string& def = "") {
  return ParamDoc{name, ParamType::Int, def, meaning, 1, 1e9, {}};
}
inline ParamDoc integer(const std::string& name, const std::string& def, const std::string& meaning, double min,
                        double max = 1e9) {
  return ParamDoc{name, ParamType::Int, def, meaning, min, max, {}};
}
inline ParamDoc window(const std::string& name, const std::string& def, const std::string& meaning, double min) {
  return ParamDoc{name, ParamType::IntPair, def, meaning, min, 4096, {}};
}
inline ParamDoc real(const std::string& name, const std::string& def, const std::string& meaning, double min,
                     double max) {
  return ParamDoc{name, ParamType::Float, def, meaning, min, max, {}};
}
inline ParamDoc boolean(const std::string& name, const std::string& def, const std::string& meaning) {
  return ParamDoc{name, ParamType::Bool, def, meaning, 0, 0, {}};
}
inline ParamDoc activation(const std::string& name, const std::string& def, const std::string& meaning) {
  return ParamDoc{name, ParamType::String, def, meaning, 0, 0, {"relu", "none"}};
}

void register_basic_blocks(BlockRegistry& r);
void register_inception_naive(BlockRegistry& r);
void register_inception_reduced(BlockRegistry& r);
void register_inception_v1(BlockRegistry& r);
void register_inception_v3(BlockRegistry& r);
void register_aux_heads(BlockRegistry& r);

}  // namespace incept::blocks
