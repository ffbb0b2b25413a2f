// genlake's deterministic randomness. Every value is a pure function of the
// seed and of what it describes (user, day, post), so any day of any creator
// can be generated alone and the thread schedule never shows in the output.
// We avoid <random> distributions: their results differ between standard
// libraries. Internal to the generator.
// Thread-safety: Hash and Mix64 are pure; an Rng belongs to one thread.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace scout::genlake {

inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Separate streams so that, e.g., adding a draw to posts never shifts palettes.
enum Stream : uint64_t {
  kCreatorStream = 1,
  kNameStream,
  kDayStream,
  kPostStream,
  kStatsStream,
  kFollowStream,
  kPaletteStream,
  kImageStream,
  kIdStream,
  kShortcodeStream,
  kMalformStream,
  kProfileStream,
};

template <typename... Parts>
uint64_t Hash(Parts... parts) {
  uint64_t h = 0;
  ((h = Mix64(h + kGolden + static_cast<uint64_t>(parts))), ...);
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() { return Mix64(state_ += kGolden); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Spreads values over orders of magnitude, like follower counts do.
  double LogUniform(double lo, double hi) { return lo * std::exp(std::log(hi / lo) * Uniform()); }
  int Below(int n) { return static_cast<int>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32); }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) { return Uniform() < p; }
  // Knuth's method: fine for the small means of posts per day.
  int Poisson(double mean) {
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(static_cast<int>(N))];
  }

 private:
  uint64_t state_;
};

}  // namespace scout::genlake
