#include "framework/analysis.h"

#include <fmt/format.h>

namespace incept {

std::int64_t window_output(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                           bool ceil_mode) {
  std::int64_t span = in + 2 * pad - kernel;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

namespace {

[[noreturn]] void too_large(const std::string& where, const std::string& what) {
  throw ShapeError(where, fmt::format("{} is too large (more than 2^53 = {}); the sizes are absurd", what,
                                      kMaxCount));
}

}  // namespace

std::int64_t checked_add(std::int64_t a, std::int64_t b, const std::string& where, const std::string& what) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r) || r > kMaxCount) too_large(where, what);
  return r;
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, const std::string& where, const std::string& what) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxCount) too_large(where, what);
  return r;
}

namespace {

// Elements of `s`, checked: every shape analyze() produces passes through here, so numel() of any shape in a
// report is safe to use afterwards.
std::int64_t checked_numel(const Shape& s, const std::string& where) {
  std::int64_t n = 1;
  for (std::int64_t d : s.dims) n = checked_mul(n, d, where, fmt::format("the output {}", s.str()));
  return n;
}

Cost& add_cost(Cost& total, const Cost& c, const std::string& where) {
  total.params = checked_add(total.params, c.params, where, "the parameter count");
  total.macs = checked_add(total.macs, c.macs, where, "the MAC count");
  total.other_ops = checked_add(total.other_ops, c.other_ops, where, "the count of other ops");
  return total;
}

std::string join_path(const std::string& parent, const std::string& child) {
  if (parent.empty()) return child;
  if (child.empty()) return parent;
  return parent + "." + child;
}

Shape window_shape(const std::string& path, const Shape& in, std::int64_t out_channels, Pair k, Pair s, Pair p,
                   bool ceil, const std::string& what) {
  if (!in.is_feature_map())
    throw ShapeError(path, fmt::format("{} needs a CxHxW feature map, got a flat input of shape {}", what,
                                       in.str()));
  if (k.h <= 0 || k.w <= 0 || s.h <= 0 || s.w <= 0 || p.h < 0 || p.w < 0)
    throw ShapeError(path, fmt::format("{} has an invalid window (kernel {}x{}, stride {}x{}, padding {}x{})", what,
                                       k.h, k.w, s.h, s.w, p.h, p.w));
  if (k.h > in.height() + 2 * p.h || k.w > in.width() + 2 * p.w)
    throw ShapeError(path, fmt::format("{} kernel {}x{} (padding {}x{}) is larger than its input {}", what, k.h,
                                       k.w, p.h, p.w, in.str()));
  if (2 * p.h > k.h || 2 * p.w > k.w)
    throw ShapeError(path, fmt::format("{} padding {}x{} is more than half its kernel {}x{}", what, p.h, p.w, k.h,
                                       k.w));
  return Shape::chw(out_channels, window_output(in.height(), k.h, s.h, p.h, ceil),
                    window_output(in.width(), k.w, s.w, p.w, ceil));
}

// The spatial output of a convolution window; conv padding may exceed half the kernel (unlike pooling), so it has
// its own checks.
Shape conv_window_shape(const std::string& path, const Shape& in, std::int64_t out_channels, Pair k, Pair s, Pair p,
                        const char* what) {
  if (!in.is_feature_map()) throw ShapeError(path, fmt::format("{} needs a CxHxW input, got {}", what, in.str()));
  if (k.h <= 0 || k.w <= 0 || s.h <= 0 || s.w <= 0 || p.h < 0 || p.w < 0)
    throw ShapeError(path, fmt::format("{} has an invalid window (kernel {}x{}, stride {}x{}, padding {}x{})", what,
                                       k.h, k.w, s.h, s.w, p.h, p.w));
  if (k.h > in.height() + 2 * p.h || k.w > in.width() + 2 * p.w)
    throw ShapeError(path, fmt::format("{} kernel {}x{} (padding {}x{}) is larger than its input {}", what, k.h, k.w,
                                       p.h, p.w, in.str()));
  return Shape::chw(out_channels, window_output(in.height(), k.h, s.h, p.h, false),
                    window_output(in.width(), k.w, s.w, p.w, false));
}

// Bias add, batch norm (scale + shift) and ReLU after a convolution: ops per output element, and the outputs kept
// for backward besides the convolution's own.
std::int64_t epilogue_ops(bool bias, bool bn, bool relu) { return (bias ? 1 : 0) + (bn ? 2 : 0) + (relu ? 1 : 0); }
std::int64_t epilogue_outputs(bool bn, bool relu) { return (bn ? 1 : 0) + (relu ? 1 : 0); }

NodeReport analyze_at(const Node& n, const Shape& in, const std::string& path);

// Checks that a node has as many children as its operation takes (a block's expand function built it).
void expect_children(const Node& n, const std::string& path, std::size_t min, std::size_t max) {
  if (n.children.size() < min || n.children.size() > max)
    throw std::logic_error(fmt::format("IR node '{}' ({}) has {} children; a {} takes {}", path, op_name(n),
                                       n.children.size(), op_name(n),
                                       min == max ? std::to_string(min) : fmt::format("{} to {}", min, max)));
}

NodeReport analyze_conv(const Node& n, const ConvAttrs& c, const Shape& in, const std::string& path) {
  if (c.out <= 0) throw ShapeError(path, fmt::format("conv has {} output channels; it needs at least 1", c.out));
  if (in.channels() <= 0) throw ShapeError(path, "conv input has 0 channels");
  if (c.groups <= 0 || in.channels() % c.groups != 0 || c.out % c.groups != 0)
    throw ShapeError(path, fmt::format("conv groups={} must divide input channels {} and output channels {}",
                                       c.groups, in.channels(), c.out));
  Shape out = conv_window_shape(path, in, c.out, c.kernel, c.stride, c.padding, "conv");
  NodeReport r{n.name, describe(n), in, out, {}, 0, {}};
  const std::int64_t elems = checked_numel(out, path);
  const std::int64_t per_out = checked_mul(checked_mul(in.channels() / c.groups, c.kernel.h, path, "the kernel size"),
                                           c.kernel.w, path, "the kernel size");
  const std::int64_t extra_params = (c.bias ? c.out : 0) + (c.bn ? 2 * c.out : 0);  // c.out <= 1e9
  r.cost.params = checked_add(checked_mul(c.out, per_out, path, "the parameter count"), extra_params, path,
                              "the parameter count");
  r.cost.macs = checked_mul(elems, per_out, path, "the MAC count");
  r.cost.other_ops = checked_mul(elems, epilogue_ops(c.bias, c.bn, c.relu), path, "the count of other ops");
  r.activation_elems = checked_mul(elems, 1 + epilogue_outputs(c.bn, c.relu), path, "the activation size");
  return r;
}

// Depthwise kxk (one filter per input channel, no bias), then pointwise 1x1 to `out`: each half's MACs by the
// conv convention, Cin*Hout*Wout*kh*kw + Cout*Hout*Wout*Cin.
NodeReport analyze_separable(const Node& n, const SeparableConvAttrs& s, const Shape& in, const std::string& path) {
  if (s.out <= 0)
    throw ShapeError(path, fmt::format("separable conv has {} output channels; it needs at least 1", s.out));
  if (in.channels() <= 0) throw ShapeError(path, "separable conv input has 0 channels");
  const std::int64_t cin = in.channels();
  const Shape depthwise = conv_window_shape(path, in, cin, s.kernel, s.stride, s.padding, "separable conv");
  const Shape out = Shape::chw(s.out, depthwise.height(), depthwise.width());
  NodeReport r{n.name, describe(n), in, out, {}, 0, {}};
  const std::int64_t dw_elems = checked_numel(depthwise, path);
  const std::int64_t elems = checked_numel(out, path);
  const std::int64_t window = checked_mul(s.kernel.h, s.kernel.w, path, "the kernel size");
  const std::int64_t dw_params = checked_mul(cin, window, path, "the parameter count");
  const std::int64_t pw_params = checked_mul(s.out, cin, path, "the parameter count");
  r.cost.params = checked_add(checked_add(dw_params, pw_params, path, "the parameter count"),
                              (s.bias ? s.out : 0) + (s.bn ? 2 * s.out : 0), path, "the parameter count");
  r.cost.macs = checked_add(checked_mul(dw_elems, window, path, "the MAC count"),
                            checked_mul(elems, cin, path, "the MAC count"), path, "the MAC count");
  r.cost.other_ops = checked_mul(elems, epilogue_ops(s.bias, s.bn, s.relu), path, "the count of other ops");
  r.activation_elems = checked_add(dw_elems, checked_mul(elems, 1 + epilogue_outputs(s.bn, s.relu), path,
                                                         "the activation size"),
                                   path, "the activation size");
  return r;
}

NodeReport analyze_pool(const Node& n, const PoolWindow& p, const Shape& in, const std::string& path) {
  Shape out = window_shape(path, in, in.channels(), p.kernel, p.stride, p.padding, p.ceil_mode, op_name(n));
  const std::int64_t elems = checked_numel(out, path);
  NodeReport r{n.name, describe(n), in, out, {}, elems, {}};
  r.cost.other_ops = checked_mul(checked_mul(elems, p.kernel.h, path, "the count of other ops"), p.kernel.w, path,
                                 "the count of other ops");
  return r;
}

NodeReport analyze_sequence(const Node& n, const Shape& in, const std::string& path) {
  NodeReport r{n.name, describe(n), in, in, {}, 0, {}};
  Shape cur = in;
  for (const auto& child : n.children) {
    NodeReport c = analyze_at(child, cur, join_path(path, child.name));
    cur = c.output;
    add_cost(r.cost, c.cost, path);
    r.activation_elems = checked_add(r.activation_elems, c.activation_elems, path, "the activation size");
    r.children.push_back(std::move(c));
  }
  r.output = cur;
  return r;
}

NodeReport analyze_concat(const Node& n, const Shape& in, const std::string& path) {
  NodeReport r{n.name, describe(n), in, in, {}, 0, {}};
  std::int64_t channels = 0;
  for (const auto& child : n.children) {
    NodeReport c = analyze_at(child, in, join_path(path, child.name));
    if (!c.output.is_feature_map())
      throw ShapeError(join_path(path, child.name), "a concatenated branch must output a CxHxW feature map");
    if (!r.children.empty()) {
      const Shape& first = r.children.front().output;
      if (first.height() != c.output.height() || first.width() != c.output.width())
        throw ShapeError(join_path(path, child.name),
                         fmt::format("branch output {} does not match branch '{}' output {}; branches of a "
                                     "block must keep the same height and width",
                                     c.output.str(), r.children.front().name, first.str()));
    }
    channels = checked_add(channels, c.output.channels(), path, "the channel count");
    add_cost(r.cost, c.cost, path);
    r.activation_elems = checked_add(r.activation_elems, c.activation_elems, path, "the activation size");
    r.children.push_back(std::move(c));
  }
  if (r.children.empty()) throw ShapeError(path, "a block needs at least one branch");
  r.output = Shape::chw(channels, r.children.front().output.height(), r.children.front().output.width());
  r.activation_elems = checked_add(r.activation_elems, checked_numel(r.output, path), path, "the activation size");
  return r;
}

// shortcut(x) + scale * body(x) [-> ReLU]. The sum is computed in one fused op (torch::add with alpha), so it keeps
// one output; it counts one add per element, one multiply per element when scale != 1, and one op per element for
// the ReLU.
NodeReport analyze_residual(const Node& n, const ResidualAttrs& a, const Shape& in, const std::string& path) {
  NodeReport r{n.name, describe(n), in, in, {}, 0, {}};
  NodeReport body = analyze_at(n.children[0], in, join_path(path, n.children[0].name));
  Shape target = in;
  if (n.children.size() > 1) {
    NodeReport shortcut = analyze_at(n.children[1], in, join_path(path, n.children[1].name));
    target = shortcut.output;
    if (body.output != target)
      throw ShapeError(path, fmt::format("residual connection: the body '{}' outputs {} but the shortcut '{}' "
                                         "outputs {}; the two must have the same shape to be added",
                                         n.children[0].name, body.output.str(), n.children[1].name, target.str()));
    r.children.push_back(std::move(body));
    r.children.push_back(std::move(shortcut));
  } else {
    if (body.output != in)
      throw ShapeError(path, fmt::format("residual connection: the body '{}' outputs {} but its input is {}; x + "
                                         "body(x) needs equal shapes",
                                         n.children[0].name, body.output.str(), in.str()));
    r.children.push_back(std::move(body));
  }
  for (const auto& c : r.children) {
    add_cost(r.cost, c.cost, path);
    r.activation_elems = checked_add(r.activation_elems, c.activation_elems, path, "the activation size");
  }
  const std::int64_t elems = checked_numel(target, path);
  const std::int64_t per_elem = 1 + (a.scale != 1.0 ? 1 : 0) + (a.relu ? 1 : 0);
  r.cost.other_ops = checked_add(r.cost.other_ops, checked_mul(elems, per_elem, path, "the count of other ops"), path,
                                 "the count of other ops");
  r.activation_elems = checked_add(r.activation_elems, checked_mul(elems, a.relu ? 2 : 1, path, "the activation size"),
                                   path, "the activation size");
  r.output = target;
  return r;
}

NodeReport analyze_at(const Node& n, const Shape& in, const std::string& path) {
  return std::visit(
      Overloaded{
          [&](const ConvAttrs& c) {
            expect_children(n, path, 0, 0);
            return analyze_conv(n, c, in, path);
          },
          [&](const SeparableConvAttrs& s) {
            expect_children(n, path, 0, 0);
            return analyze_separable(n, s, in, path);
          },
          [&](const MaxPoolAttrs& p) {
            expect_children(n, path, 0, 0);
            return analyze_pool(n, p.window, in, path);
          },
          [&](const AvgPoolAttrs& p) {
            expect_children(n, path, 0, 0);
            return analyze_pool(n, p.window, in, path);
          },
          [&](const AdaptiveAvgPoolAttrs& a) {
            expect_children(n, path, 0, 0);
            if (!in.is_feature_map())
              throw ShapeError(path, fmt::format("average pooling needs a CxHxW input, got {}", in.str()));
            Shape out = Shape::chw(in.channels(), a.out.h, a.out.w);
            NodeReport r{n.name, describe(n), in, out, {}, checked_numel(out, path), {}};
            r.cost.other_ops = in.numel();
            return r;
          },
          [&](const DropoutAttrs&) {
            expect_children(n, path, 0, 0);
            return NodeReport{n.name, describe(n), in, in, {}, in.numel(), {}};
          },
          [&](const FlattenAttrs&) {
            expect_children(n, path, 0, 0);
            return NodeReport{n.name, describe(n), in, Shape::flat(in.numel()), {}, 0, {}};
          },
          [&](const ReLUAttrs&) {
            expect_children(n, path, 0, 0);
            NodeReport r{n.name, describe(n), in, in, {}, in.numel(), {}};
            r.cost.other_ops = in.numel();
            return r;
          },
          [&](const LinearAttrs& l) {
            expect_children(n, path, 0, 0);
            if (l.out <= 0) throw ShapeError(path, fmt::format("linear has {} outputs; it needs at least 1", l.out));
            std::int64_t fan_in = in.numel();
            if (fan_in <= 0) throw ShapeError(path, "linear input is empty");
            NodeReport r{n.name, describe(n), in, Shape::flat(l.out), {}, l.out, {}};
            r.cost.macs = checked_mul(fan_in, l.out, path, "the MAC count");
            r.cost.params = checked_add(r.cost.macs, l.bias ? l.out : 0, path, "the parameter count");
            r.cost.other_ops = l.bias ? l.out : 0;
            return r;
          },
          [&](const SequenceAttrs&) { return analyze_sequence(n, in, path); },
          [&](const ConcatAttrs&) { return analyze_concat(n, in, path); },
          [&](const ResidualAttrs& a) {
            expect_children(n, path, 1, 2);
            return analyze_residual(n, a, in, path);
          },
      },
      n.op);
}

}  // namespace

NodeReport analyze(const Node& node, const Shape& input) {
  if (input.channels() <= 0) throw ShapeError("", fmt::format("input {} has no channels", input.str()));
  checked_numel(input, "");
  return analyze_at(node, input, "");
}

}  // namespace incept
