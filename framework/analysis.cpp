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

Shape window_shape(const Node& n, const Shape& in, std::int64_t out_channels, Pair k, Pair s, Pair p, bool ceil,
                   const std::string& what) {
  if (!in.is_feature_map())
    throw ShapeError(n.name, fmt::format("{} needs a CxHxW feature map, got a flat input of shape {}", what,
                                         in.str()));
  if (k.h <= 0 || k.w <= 0 || s.h <= 0 || s.w <= 0 || p.h < 0 || p.w < 0)
    throw ShapeError(n.name, fmt::format("{} has an invalid window (kernel {}x{}, stride {}x{}, padding {}x{})", what,
                                         k.h, k.w, s.h, s.w, p.h, p.w));
  if (k.h > in.height() + 2 * p.h || k.w > in.width() + 2 * p.w)
    throw ShapeError(n.name, fmt::format("{} kernel {}x{} (padding {}x{}) is larger than its input {}", what, k.h,
                                         k.w, p.h, p.w, in.str()));
  if (2 * p.h > k.h || 2 * p.w > k.w)
    throw ShapeError(n.name, fmt::format("{} padding {}x{} is more than half its kernel {}x{}", what, p.h, p.w, k.h,
                                         k.w));
  return Shape::chw(out_channels, window_output(in.height(), k.h, s.h, p.h, ceil),
                    window_output(in.width(), k.w, s.w, p.w, ceil));
}

NodeReport analyze_at(const Node& n, const Shape& in, const std::string& path);

NodeReport analyze_conv(const Node& n, const Shape& in, const std::string& path) {
  const ConvAttrs& c = n.conv;
  if (c.out <= 0) throw ShapeError(path, fmt::format("conv has {} output channels; it needs at least 1", c.out));
  if (in.channels() <= 0) throw ShapeError(path, "conv input has 0 channels");
  if (c.groups <= 0 || in.channels() % c.groups != 0 || c.out % c.groups != 0)
    throw ShapeError(path, fmt::format("conv groups={} must divide input channels {} and output channels {}",
                                       c.groups, in.channels(), c.out));
  // Conv padding may exceed half the kernel (unlike pooling), so it gets its own check.
  if (!in.is_feature_map()) throw ShapeError(path, fmt::format("conv needs a CxHxW input, got {}", in.str()));
  if (c.kernel.h > in.height() + 2 * c.padding.h || c.kernel.w > in.width() + 2 * c.padding.w)
    throw ShapeError(path, fmt::format("conv kernel {}x{} (padding {}x{}) is larger than its input {}", c.kernel.h,
                                       c.kernel.w, c.padding.h, c.padding.w, in.str()));
  Shape out = Shape::chw(c.out, window_output(in.height(), c.kernel.h, c.stride.h, c.padding.h, false),
                         window_output(in.width(), c.kernel.w, c.stride.w, c.padding.w, false));
  NodeReport r{n.name, describe(n), in, out, {}, 0, {}};
  const std::int64_t elems = checked_numel(out, path);
  const std::int64_t per_out = checked_mul(checked_mul(in.channels() / c.groups, c.kernel.h, path, "the kernel size"),
                                           c.kernel.w, path, "the kernel size");
  const std::int64_t extra_params = (c.bias ? c.out : 0) + (c.bn ? 2 * c.out : 0);  // c.out <= 1e9
  r.cost.params = checked_add(checked_mul(c.out, per_out, path, "the parameter count"), extra_params, path,
                              "the parameter count");
  r.cost.macs = checked_mul(elems, per_out, path, "the MAC count");
  const std::int64_t per_elem = (c.bias ? 1 : 0) + (c.bn ? 2 : 0) + (c.relu ? 1 : 0);
  r.cost.other_ops = checked_mul(elems, per_elem, path, "the count of other ops");
  r.activation_elems = checked_mul(elems, 1 + (c.bn ? 1 : 0) + (c.relu ? 1 : 0), path, "the activation size");
  return r;
}

NodeReport analyze_at(const Node& n, const Shape& in, const std::string& path) {
  switch (n.kind) {
    case OpKind::Conv:
      return analyze_conv(n, in, path);
    case OpKind::MaxPool:
    case OpKind::AvgPool: {
      const PoolAttrs& p = n.pool;
      Node named = n;
      named.name = path;
      Shape out = window_shape(named, in, in.channels(), p.kernel, p.stride, p.padding, p.ceil_mode,
                               op_name(n.kind));
      const std::int64_t elems = checked_numel(out, path);
      NodeReport r{n.name, describe(n), in, out, {}, elems, {}};
      r.cost.other_ops = checked_mul(checked_mul(elems, p.kernel.h, path, "the count of other ops"), p.kernel.w,
                                     path, "the count of other ops");
      return r;
    }
    case OpKind::AdaptiveAvgPool: {
      if (!in.is_feature_map())
        throw ShapeError(path, fmt::format("average pooling needs a CxHxW input, got {}", in.str()));
      Shape out = Shape::chw(in.channels(), n.adaptive_out.h, n.adaptive_out.w);
      NodeReport r{n.name, describe(n), in, out, {}, checked_numel(out, path), {}};
      r.cost.other_ops = in.numel();
      return r;
    }
    case OpKind::Dropout:
      return NodeReport{n.name, describe(n), in, in, {}, in.numel(), {}};
    case OpKind::Flatten:
      return NodeReport{n.name, describe(n), in, Shape::flat(in.numel()), {}, 0, {}};
    case OpKind::ReLU: {
      NodeReport r{n.name, describe(n), in, in, {}, in.numel(), {}};
      r.cost.other_ops = in.numel();
      return r;
    }
    case OpKind::Linear: {
      if (n.linear_out <= 0)
        throw ShapeError(path, fmt::format("linear has {} outputs; it needs at least 1", n.linear_out));
      std::int64_t fan_in = in.numel();
      if (fan_in <= 0) throw ShapeError(path, "linear input is empty");
      NodeReport r{n.name, describe(n), in, Shape::flat(n.linear_out), {}, n.linear_out, {}};
      r.cost.macs = checked_mul(fan_in, n.linear_out, path, "the MAC count");
      r.cost.params = checked_add(r.cost.macs, n.linear_bias ? n.linear_out : 0, path, "the parameter count");
      r.cost.other_ops = n.linear_bias ? n.linear_out : 0;
      return r;
    }
    case OpKind::Sequence: {
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
    case OpKind::Concat: {
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
  }
  throw ShapeError(path, "unknown operation");
}

}  // namespace

NodeReport analyze(const Node& node, const Shape& input) {
  if (input.channels() <= 0) throw ShapeError("", fmt::format("input {} has no channels", input.str()));
  checked_numel(input, "");
  return analyze_at(node, input, "");
}

}  // namespace incept
