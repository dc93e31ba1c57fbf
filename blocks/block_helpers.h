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

// Convolution shapes the Inception papers use, with the conv unit a block is given.
// 1xn and nx1 halves of a factorized nxn, "same" padding (V3 fig. 6, V4 figs. 5 and 6).
inline Node conv_1xn(const std::string& name, const ConvStyle& s, std::int64_t out, std::int64_t n) {
  return conv_unit(name, s, out, {1, n}, {1, 1}, {0, n / 2});
}
inline Node conv_nx1(const std::string& name, const ConvStyle& s, std::int64_t out, std::int64_t n) {
  return conv_unit(name, s, out, {n, 1}, {1, 1}, {n / 2, 0});
}
// A kxk conv without padding ("V" in the papers' figures), stride 1 or 2.
inline Node conv_valid(const std::string& name, const ConvStyle& s, std::int64_t out, std::int64_t k,
                       std::int64_t stride = 1) {
  return conv_unit(name, s, out, {k, k}, {stride, stride});
}
// The linear 1x1 that maps an Inception-ResNet block's concatenated branches back to its input's channels before
// the sum: bias, no batch norm, no activation (Inception-v4 paper, fig. 9-13; timm's conv2d with bias=True),
// whatever the block's conv style.
inline Node residual_projection(const std::string& name, const ConvStyle& s, std::int64_t out) {
  return conv_unit(name, ConvStyle{false, s.bn_eps, true}, out, {1, 1}, {1, 1}, {0, 0}, /*relu=*/false);
}

void register_basic_blocks(BlockRegistry& r);
void register_inception_naive(BlockRegistry& r);
void register_inception_reduced(BlockRegistry& r);
void register_inception_v1(BlockRegistry& r);
void register_inception_v3(BlockRegistry& r);
void register_inception_v4(BlockRegistry& r);
void register_inception_resnet(BlockRegistry& r);
void register_xception(BlockRegistry& r);
void register_aux_heads(BlockRegistry& r);

}  // namespace incept::blocks
