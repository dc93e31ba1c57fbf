#pragma once
// A tiny seeded PRNG (SplitMix64) for everything in the data pipeline that must be reproducible.
// We do not use torch's generators: their streams may change between LibTorch releases, which would silently
// change synthetic datasets and batch orders, and seeding the global one would disturb model initialisation.
#include <cmath>
#include <cstdint>

namespace incept {

class StableRng {
 public:
  explicit StableRng(std::uint64_t seed) : state_(seed) {}

  // Derives an independent stream, e.g. StableRng(StableRng::mix(seed, epoch)).
  static std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    StableRng r(a ^ (b * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
    r.next_u64();
    return r.next_u64();
  }

  std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) for n > 0, without modulo bias (rejection of the short top range).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }

  // Standard normal (Box-Muller; the second value is discarded to keep the stream simple to reason about).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace incept
