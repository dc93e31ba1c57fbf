// Synthetic images: every class is a fixed oriented stripe pattern (a "template"), and each sample is its
// class template with random contrast, brightness and pixel noise. Stripes are a *local* feature, so even
// a small CNN that ends in global average pooling (as Inception nets do) separates the classes within an
// epoch or two, which is what the training tests need.
//
// Everything is drawn from StableRng streams derived from the seed, never from torch's global generator:
// generating data must not shift model initialisation, and must give the same images on every release.
// Sample i of a split uses its own stream, so a train_limit of N yields exactly the first N samples.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "experiments/data/dataset_sources.h"
#include "experiments/data/stable_rng.h"
#include "framework/diagnostics.h"
#include "platform/memory_limit.h"

namespace incept {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kNoiseStd = 0.15;
enum Stream : std::uint64_t { kTemplates = 1, kTrainSamples = 2, kTestSamples = 3, kTrainLabels = 4, kTestLabels = 5 };

struct Geometry {
  std::int64_t c, h, w;
  std::int64_t pixels() const { return c * h * w; }
};

// classes x (C*H*W) values in [0, 1].
std::vector<std::vector<float>> make_templates(std::int64_t classes, const Geometry& g, std::uint64_t seed) {
  StableRng rng(StableRng::mix(seed, kTemplates));
  // Orientations are evenly spaced and dealt out in random order, so no two classes share a direction; the
  // stripe width alternates along the orientation circle, so classes with neighbouring directions also differ
  // in scale. (Tried: random widths, plaids, tiled random motifs; this separates fastest.)
  std::vector<std::int64_t> slot(static_cast<std::size_t>(classes));
  std::iota(slot.begin(), slot.end(), 0);
  for (std::int64_t i = classes - 1; i > 0; --i) std::swap(slot[i], slot[rng.below(i + 1)]);

  std::vector<std::vector<float>> templates;
  for (std::int64_t k = 0; k < classes; ++k) {
    const double angle = kPi * (slot[k] + 0.3 * rng.uniform()) / classes;
    const double cycles_per_pixel = slot[k] % 2 ? 0.11 : 0.24;
    const double fx = std::cos(angle) * cycles_per_pixel, fy = std::sin(angle) * cycles_per_pixel;
    std::vector<float> t(static_cast<std::size_t>(g.pixels()));
    for (std::int64_t c = 0; c < g.c; ++c) {
      const double phase = 2 * kPi * rng.uniform();  // channels differ so colour carries information too
      for (std::int64_t y = 0; y < g.h; ++y)
        for (std::int64_t x = 0; x < g.w; ++x)
          t[(c * g.h + y) * g.w + x] = static_cast<float>(0.5 + 0.5 * std::sin(2 * kPi * (fx * x + fy * y) + phase));
    }
    templates.push_back(std::move(t));
  }
  return templates;
}

// Labels come in blocks of `classes` that each hold every class once, so any prefix is nearly balanced.
std::int64_t label_of(std::int64_t index, std::int64_t classes, std::uint64_t label_seed) {
  StableRng rng(StableRng::mix(label_seed, static_cast<std::uint64_t>(index / classes)));
  std::vector<std::int64_t> block(static_cast<std::size_t>(classes));
  std::iota(block.begin(), block.end(), 0);
  for (std::int64_t i = classes - 1; i > 0; --i) std::swap(block[i], block[rng.below(i + 1)]);
  return block[index % classes];
}

Split make_split(std::int64_t n, const std::vector<std::vector<float>>& templates, const Geometry& g,
                 std::uint64_t sample_seed, std::uint64_t label_seed) {
  const auto classes = static_cast<std::int64_t>(templates.size());
  Split split;
  split.images = torch::empty({n, g.c, g.h, g.w}, torch::kFloat32);
  split.labels = torch::empty({n}, torch::kInt64);
  float* pixels = split.images.data_ptr<float>();
  std::int64_t* labels = split.labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    labels[i] = label_of(i, classes, label_seed);
    StableRng rng(StableRng::mix(sample_seed, static_cast<std::uint64_t>(i)));
    const double contrast = 0.6 + 0.4 * rng.uniform();
    const double brightness = 0.2 * rng.uniform() - 0.1;
    const std::vector<float>& t = templates[static_cast<std::size_t>(labels[i])];
    float* out = pixels + i * g.pixels();
    for (std::int64_t p = 0; p < g.pixels(); ++p) {
      const double v = 0.5 + contrast * (t[p] - 0.5) + brightness + kNoiseStd * rng.normal();
      out[p] = static_cast<float>(std::clamp(v, 0.0, 1.0));
    }
  }
  return split;
}

void check_settings(const DataConfig& cfg) {
  const auto& s = cfg.synthetic_shape;
  if (s.size() != 3 || *std::min_element(s.begin(), s.end()) <= 0)
    throw UserError(fmt::format("data.synthetic_shape must be [C, H, W] with positive sizes, got [{}]",
                                fmt::join(s, ", ")));
  if (cfg.synthetic_classes < 2)
    throw UserError(fmt::format("data.synthetic_classes must be at least 2, got {}", cfg.synthetic_classes));
  if (cfg.synthetic_train <= 0 || cfg.synthetic_test <= 0)
    throw UserError(fmt::format("data.synthetic_train and data.synthetic_test must be positive, got {} and {}",
                                cfg.synthetic_train, cfg.synthetic_test));
  // Refuse before allocating: a dataset larger than memory would fail deep in LibTorch or, with overcommit,
  // get the process killed half-way through generating it.
  const double images = static_cast<double>(apply_limit(cfg.synthetic_train, cfg.train_limit)) +
                        static_cast<double>(apply_limit(cfg.synthetic_test, cfg.test_limit));
  const double bytes = images * static_cast<double>(s[0]) * static_cast<double>(s[1]) * static_cast<double>(s[2]) *
                       sizeof(float);
  check_fits_in_memory(bytes,
                       fmt::format("data: the synthetic dataset ({:.0f} images of {}x{}x{} as float32)", images, s[0],
                                   s[1], s[2]),
                       "reduce data.synthetic_shape or data.synthetic_train/synthetic_test");
}

}  // namespace

Dataset make_synthetic_dataset(const DataConfig& cfg) {
  check_settings(cfg);
  const Geometry g{cfg.synthetic_shape[0], cfg.synthetic_shape[1], cfg.synthetic_shape[2]};
  const std::uint64_t seed = cfg.synthetic_seed;
  const auto templates = make_templates(cfg.synthetic_classes, g, seed);

  Dataset ds;
  ds.name = "synthetic";
  ds.classes = cfg.synthetic_classes;
  ds.sample_shape = cfg.synthetic_shape;
  ds.source = fmt::format("synthetic(seed={})", seed);
  ds.train = make_split(apply_limit(cfg.synthetic_train, cfg.train_limit), templates, g,
                        StableRng::mix(seed, kTrainSamples), StableRng::mix(seed, kTrainLabels));
  ds.test = make_split(apply_limit(cfg.synthetic_test, cfg.test_limit), templates, g,
                       StableRng::mix(seed, kTestSamples), StableRng::mix(seed, kTestLabels));
  return ds;
}

}  // namespace incept
