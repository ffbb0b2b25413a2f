#include "workers/palette/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace scout::palette {
namespace {

using Points = Eigen::Matrix<double, Eigen::Dynamic, 3>;  // One row per colour.

// splitmix64: tiny, fully specified, the same stream everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1p-53; }  // [0, 1)

 private:
  uint64_t state_;
};

// The distinct colours of the pixels, sorted, each with its pixel count.
struct Distinct {
  Points x;
  Eigen::VectorXd w;
};

Distinct Collapse(absl::string_view rgb) {
  const size_t n = rgb.size() / 3;
  std::vector<uint32_t> packed(n);
  const auto* p = reinterpret_cast<const unsigned char*>(rgb.data());
  for (size_t i = 0; i < n; ++i) {
    packed[i] = (uint32_t{p[3 * i]} << 16) | (uint32_t{p[3 * i + 1]} << 8) | p[3 * i + 2];
  }
  std::sort(packed.begin(), packed.end());
  std::vector<std::pair<uint32_t, int64_t>> runs;
  for (uint32_t v : packed) {
    if (runs.empty() || runs.back().first != v) runs.emplace_back(v, 0);
    ++runs.back().second;
  }
  Distinct d;
  d.x.resize(static_cast<Eigen::Index>(runs.size()), 3);
  d.w.resize(static_cast<Eigen::Index>(runs.size()));
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto j = static_cast<Eigen::Index>(i);
    d.x(j, 0) = (runs[i].first >> 16) & 0xff;
    d.x(j, 1) = (runs[i].first >> 8) & 0xff;
    d.x(j, 2) = runs[i].first & 0xff;
    d.w(j) = static_cast<double>(runs[i].second);
  }
  return d;
}

// Squared distance of every colour to `c` (vectorized down the columns).
Eigen::VectorXd DistanceTo(const Points& x, const Eigen::Vector3d& c) {
  return (x.col(0).array() - c(0)).square() + (x.col(1).array() - c(1)).square() +
         (x.col(2).array() - c(2)).square();
}

// Index drawn with probability proportional to `mass` (cumulative sums
// `cumulative`, total `cumulative(last)`).
Eigen::Index Draw(const Eigen::VectorXd& cumulative, Rng& rng) {
  const double target = rng.Uniform() * cumulative(cumulative.size() - 1);
  const double* begin = cumulative.data();
  const double* at = std::upper_bound(begin, begin + cumulative.size(), target);
  return std::min<Eigen::Index>(at - begin, cumulative.size() - 1);
}

Eigen::VectorXd CumulativeSum(const Eigen::VectorXd& v) {
  Eigen::VectorXd out(v.size());
  double sum = 0;
  for (Eigen::Index i = 0; i < v.size(); ++i) out(i) = sum += v(i);
  return out;
}

// Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's variant): each
// new centre is the best of 2 + ln(k) candidates drawn by weight x D^2.
Eigen::Matrix3Xd Seed(const Distinct& d, int k, Rng& rng) {
  Eigen::Matrix3Xd centres(3, k);
  const Eigen::Index first = Draw(CumulativeSum(d.w), rng);
  centres.col(0) = d.x.row(first).transpose();
  Eigen::VectorXd closest = DistanceTo(d.x, centres.col(0));
  double potential = closest.dot(d.w);
  const int trials = 2 + static_cast<int>(std::log(k));
  for (int c = 1; c < k; ++c) {
    const Eigen::VectorXd cumulative = CumulativeSum(closest.cwiseProduct(d.w));
    double best_potential = std::numeric_limits<double>::infinity();
    Eigen::Index best = 0;
    Eigen::VectorXd best_closest;
    for (int t = 0; t < trials; ++t) {
      const Eigen::Index candidate = Draw(cumulative, rng);
      Eigen::VectorXd with = closest.cwiseMin(DistanceTo(d.x, d.x.row(candidate).transpose()));
      const double p = with.dot(d.w);
      if (p < best_potential) {
        best_potential = p;
        best = candidate;
        best_closest = std::move(with);
      }
    }
    centres.col(c) = d.x.row(best).transpose();
    closest = std::move(best_closest);
    potential = best_potential;
  }
  (void)potential;
  return centres;
}

struct Clustering {
  Eigen::Matrix3Xd centres;
  std::vector<int> assignment;
  double sse = 0;
  int iterations = 0;
};

// Lloyd's iterations until no colour changes cluster.
Clustering Lloyd(const Distinct& d, Eigen::Matrix3Xd centres, int max_iterations) {
  const Eigen::Index m = d.x.rows(), k = centres.cols();
  Clustering out;
  out.assignment.assign(static_cast<size_t>(m), -1);
  Eigen::MatrixXd distance(m, k);
  Eigen::VectorXd nearest(m);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    for (Eigen::Index c = 0; c < k; ++c) distance.col(c) = DistanceTo(d.x, centres.col(c));
    int64_t changes = 0;
    for (Eigen::Index j = 0; j < m; ++j) {
      Eigen::Index best = 0;
      double best_distance = distance(j, 0);
      for (Eigen::Index c = 1; c < k; ++c) {
        if (distance(j, c) < best_distance) {
          best_distance = distance(j, c);
          best = c;
        }
      }
      nearest(j) = best_distance;
      int& a = out.assignment[static_cast<size_t>(j)];
      if (a != best) ++changes;
      a = static_cast<int>(best);
    }
    out.iterations = iteration + 1;
    if (changes == 0) break;  // The centres are already the means.

    Eigen::Matrix3Xd sums = Eigen::Matrix3Xd::Zero(3, k);
    Eigen::VectorXd weight = Eigen::VectorXd::Zero(k);
    for (Eigen::Index j = 0; j < m; ++j) {
      const int a = out.assignment[static_cast<size_t>(j)];
      sums.col(a) += d.w(j) * d.x.row(j).transpose();
      weight(a) += d.w(j);
    }
    for (Eigen::Index c = 0; c < k; ++c) {
      if (weight(c) > 0) continue;
      // Empty: take the colour farthest from its centre (first on ties).
      Eigen::Index far = 0;
      nearest.maxCoeff(&far);
      const int old = out.assignment[static_cast<size_t>(far)];
      sums.col(old) -= d.w(far) * d.x.row(far).transpose();
      weight(old) -= d.w(far);
      sums.col(c) = d.w(far) * d.x.row(far).transpose();
      weight(c) = d.w(far);
      out.assignment[static_cast<size_t>(far)] = static_cast<int>(c);
      nearest(far) = 0;
    }
    for (Eigen::Index c = 0; c < k; ++c) {
      if (weight(c) > 0) centres.col(c) = sums.col(c) / weight(c);
    }
  }
  out.sse = 0;
  for (Eigen::Index j = 0; j < m; ++j) {
    out.sse +=
        d.w(j) * (d.x.row(j).transpose() - centres.col(out.assignment[static_cast<size_t>(j)]))
                     .squaredNorm();
  }
  out.centres = std::move(centres);
  return out;
}

std::string Hex(int r, int g, int b) {
  return absl::StrCat("#", absl::Hex(r, absl::kZeroPad2), absl::Hex(g, absl::kZeroPad2),
                      absl::Hex(b, absl::kZeroPad2));
}

int Channel(double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); }

}  // namespace

KMeansResult KMeans(absl::string_view rgb, const KMeansOptions& options) {
  KMeansResult result;
  result.pixels = static_cast<int64_t>(rgb.size() / 3);
  if (result.pixels == 0) {
    result.centres.resize(3, 0);
    return result;
  }
  const Distinct d = Collapse(rgb);
  const Eigen::Index m = d.x.rows();
  result.distinct_colours = m;
  if (m <= options.k) {
    result.centres = d.x.transpose();
    for (Eigen::Index j = 0; j < m; ++j) result.counts.push_back(static_cast<int64_t>(d.w(j)));
    return result;
  }
  Clustering best;
  best.sse = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(1, options.restarts); ++r) {
    Rng rng(options.seed + static_cast<uint64_t>(r));
    Clustering c = Lloyd(d, Seed(d, options.k, rng), options.max_iterations);
    if (c.sse < best.sse) best = std::move(c);
  }
  // The shares: the pixels each colour wins as reported (rounded to whole
  // channels), nearest first, ties to the lowest index. Usually the final
  // assignment already; not when max_iterations stopped Lloyd after a centre
  // moved, or when rounding moves a boundary across some pixels.
  Eigen::Matrix3Xd rounded = best.centres;
  for (Eigen::Index c = 0; c < rounded.cols(); ++c) {
    for (Eigen::Index ch = 0; ch < 3; ++ch) rounded(ch, c) = Channel(rounded(ch, c));
  }
  std::vector<int64_t> counts(static_cast<size_t>(options.k), 0);
  for (Eigen::Index j = 0; j < m; ++j) {
    Eigen::Index nearest = 0;
    (rounded.colwise() - d.x.row(j).transpose()).colwise().squaredNorm().minCoeff(&nearest);
    counts[static_cast<size_t>(nearest)] += static_cast<int64_t>(d.w(j));
  }
  std::vector<Eigen::Index> kept;
  for (int c = 0; c < options.k; ++c) {
    if (counts[static_cast<size_t>(c)] > 0) kept.push_back(c);
  }
  result.centres.resize(3, static_cast<Eigen::Index>(kept.size()));
  for (size_t i = 0; i < kept.size(); ++i) {
    result.centres.col(static_cast<Eigen::Index>(i)) = best.centres.col(kept[i]);
    result.counts.push_back(counts[static_cast<size_t>(kept[i])]);
  }
  result.sse = best.sse;
  result.iterations = best.iterations;
  return result;
}

double SquaredError(absl::string_view rgb, const Eigen::Matrix3Xd& centres) {
  const auto* p = reinterpret_cast<const unsigned char*>(rgb.data());
  double sse = 0;
  for (size_t i = 0; i + 2 < rgb.size(); i += 3) {
    const Eigen::Vector3d x(p[i], p[i + 1], p[i + 2]);
    sse += (centres.colwise() - x).colwise().squaredNorm().minCoeff();
  }
  return sse;
}

std::vector<PaletteColor> ToPalette(const KMeansResult& result) {
  std::vector<PaletteColor> colors;
  for (Eigen::Index c = 0; c < result.centres.cols(); ++c) {
    PaletteColor& color = colors.emplace_back();
    color.pixels = result.counts[static_cast<size_t>(c)];
    color.percentage = static_cast<double>(color.pixels) / static_cast<double>(result.pixels);
    color.red = Channel(result.centres(0, c));
    color.green = Channel(result.centres(1, c));
    color.blue = Channel(result.centres(2, c));
    color.hex = Hex(color.red, color.green, color.blue);
  }
  std::sort(colors.begin(), colors.end(), [](const PaletteColor& a, const PaletteColor& b) {
    return a.pixels != b.pixels ? a.pixels > b.pixels : a.hex < b.hex;
  });
  return colors;
}

std::string ColorsJson(const std::vector<PaletteColor>& colors) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const PaletteColor& c : colors) {
    out.push_back({{"percentage", c.percentage},
                   {"red", c.red},
                   {"green", c.green},
                   {"blue", c.blue},
                   {"hex", c.hex}});
  }
  return out.dump();
}

}  // namespace scout::palette
