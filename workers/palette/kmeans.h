// k-means for colour palettes: k-means++ seeding (greedy, as scikit-learn
// does it) with a fixed seed, then Lloyd iterations until no assignment
// changes (or max_iterations), all in Eigen, over the sampled RGB pixels.
//
// Exactness and speed: identical pixels always land in the same cluster, so
// the pixels are first collapsed into their distinct colours with a weight
// each. Weighted k-means over the distinct colours gives the same clusters,
// centres and squared error as plain k-means over every pixel, at a fraction
// of the cost for pictures with large flat areas.
//
// Determinism: the distinct colours are sorted, the random generator is our
// own (splitmix64, not a std:: distribution whose output may differ between
// standard libraries), ties go to the lowest index and nothing runs in
// parallel, so the same pixels give byte-identical palettes on every run,
// whatever order the pixels came in.
//
// Fewer distinct colours than k: every distinct colour is its own cluster,
// so the palette has fewer than k colours (never an empty or duplicated
// one). A cluster that empties during the iterations is moved to the colour
// farthest from its centre, as scikit-learn does.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/string_view.h"

namespace scout::palette {

struct KMeansOptions {
  int k = 6;
  int max_iterations = 100;
  uint64_t seed = 20240601;
  // Independent seedings (seed, seed + 1, ...); the lowest squared error
  // wins. Cheap: most of a run's cost is decoding, not clustering.
  int restarts = 3;
};

struct KMeansResult {
  // One column per non-empty cluster, RGB in 0..255 (not rounded).
  Eigen::Matrix3Xd centres;
  // Pixels per cluster: those its colour, rounded as reported, is nearest
  // to, so the shares are the fractions of the pixels the reported colours
  // win (a cluster winning none is left out).
  std::vector<int64_t> counts;
  double sse = 0;      // Within-cluster sum of squared distances.
  int iterations = 0;  // Of the winning restart.
  int64_t pixels = 0;
  int64_t distinct_colours = 0;
};

// `rgb` holds n pixels as r, g, b bytes (3n bytes).
KMeansResult KMeans(absl::string_view rgb, const KMeansOptions& options = {});

// Squared error of `rgb` against the nearest of `centres` (for comparisons
// with other implementations).
double SquaredError(absl::string_view rgb, const Eigen::Matrix3Xd& centres);

struct PaletteColor {
  double percentage = 0;  // Of the sampled pixels; a palette's sum to 1.
  int red = 0, green = 0, blue = 0;
  std::string hex;  // "#rrggbb", lowercase.
  int64_t pixels = 0;
};

// The clusters as palette colours, largest first (ties by hex).
std::vector<PaletteColor> ToPalette(const KMeansResult& result);

// `[{"percentage":..,"red":..,"green":..,"blue":..,"hex":".."}, ...]`:
// creator_palette.colors_json, and the "colors" of profile_facts.palette_json.
std::string ColorsJson(const std::vector<PaletteColor>& colors);

}  // namespace scout::palette
