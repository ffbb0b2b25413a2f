#include "common/base/colour.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "absl/container/inlined_vector.h"

namespace scout {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180;
// 25^7, CIEDE2000's chroma pivot.
constexpr double kPow25To7 = 6103515625.0;

double Pow7(double x) {
  const double x2 = x * x, x3 = x2 * x;
  return x3 * x3 * x;
}

// Hue angle in degrees, [0, 360).
double HueDegrees(double b, double a) {
  if (a == 0 && b == 0) return 0.0;
  const double h = std::atan2(b, a) / kDegree;
  return h < 0 ? h + 360 : h;
}

}  // namespace

Lab SrgbToLab(double red, double green, double blue) {
  const auto linear = [](double v) {
    const double x = v / 255.0;
    return x <= 0.04045 ? x / 12.92 : std::pow((x + 0.055) / 1.055, 2.4);
  };
  const double r = linear(red), g = linear(green), b = linear(blue);
  const double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
  const auto f = [](double t) {
    constexpr double kEpsilon = 216.0 / 24389, kKappa = 24389.0 / 27;
    return t > kEpsilon ? std::cbrt(t) : (kKappa * t + 16) / 116;
  };
  return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

// Sharma, Wu & Dalal (2005), equations (2)-(22), with kL = kC = kH = 1. The
// four cosines of T come from one sincos of the mean hue (multiple-angle
// identities) because palette search computes this ~36 times per candidate.
double Ciede2000(const Lab& x, const Lab& y) {
  const double c1 = std::hypot(x.a, x.b), c2 = std::hypot(y.a, y.b);
  const double c7 = Pow7((c1 + c2) / 2);
  const double g = 0.5 * (1 - std::sqrt(c7 / (c7 + kPow25To7)));
  const double a1 = (1 + g) * x.a, a2 = (1 + g) * y.a;
  const double cp1 = std::hypot(a1, x.b), cp2 = std::hypot(a2, y.b);
  const double h1 = HueDegrees(x.b, a1), h2 = HueDegrees(y.b, a2);

  const double dl = y.l - x.l, dc = cp2 - cp1;
  double dh = 0;
  if (cp1 * cp2 != 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    if (dh < -180) dh += 360;
  }
  const double d_hue = 2 * std::sqrt(cp1 * cp2) * std::sin(dh * kDegree / 2);

  const double l_mean = (x.l + y.l) / 2, cp_mean = (cp1 + cp2) / 2;
  double h_mean = h1 + h2;
  if (cp1 * cp2 != 0) {
    if (std::abs(h1 - h2) <= 180) {
      h_mean = (h1 + h2) / 2;
    } else {
      h_mean = (h1 + h2 < 360) ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
    }
  }
  const double hr = h_mean * kDegree;
  const double c = std::cos(hr), s = std::sin(hr);
  const double c2h = 2 * c * c - 1, s2h = 2 * s * c;
  const double c3h = c * (4 * c * c - 3), s3h = s * (3 - 4 * s * s);
  const double c4h = 2 * c2h * c2h - 1, s4h = 2 * s2h * c2h;
  constexpr double kCos30 = 0.86602540378443865, kSin30 = 0.5;
  const double kCos6 = std::cos(6 * kDegree), kSin6 = std::sin(6 * kDegree);
  const double kCos63 = std::cos(63 * kDegree), kSin63 = std::sin(63 * kDegree);
  const double t = 1 - 0.17 * (c * kCos30 + s * kSin30) + 0.24 * c2h +
                   0.32 * (c3h * kCos6 - s3h * kSin6) - 0.20 * (c4h * kCos63 + s4h * kSin63);
  const double ht = (h_mean - 275) / 25;
  const double d_theta = 30 * std::exp(-ht * ht);
  const double cp7 = Pow7(cp_mean);
  const double rc = 2 * std::sqrt(cp7 / (cp7 + kPow25To7));
  const double l50 = (l_mean - 50) * (l_mean - 50);
  const double sl = 1 + 0.015 * l50 / std::sqrt(20 + l50);
  const double sc = 1 + 0.045 * cp_mean;
  const double sh = 1 + 0.015 * cp_mean * t;
  const double rt = -std::sin(2 * d_theta * kDegree) * rc;
  return std::sqrt((dl / sl) * (dl / sl) + (dc / sc) * (dc / sc) + (d_hue / sh) * (d_hue / sh) +
                   rt * (dc / sc) * (d_hue / sh));
}

ColourSet MakeColourSet(std::vector<WeightedColour> colours) {
  ColourSet set;
  double total = 0;
  for (const WeightedColour& c : colours) {
    // !(w > 0) also drops NaN; infinities cannot be normalised.
    if (!(c.weight > 0) || !std::isfinite(c.weight)) continue;
    if (!std::isfinite(c.lab.l) || !std::isfinite(c.lab.a) || !std::isfinite(c.lab.b)) continue;
    set.push_back(c);
    total += c.weight;
  }
  if (!(total > 0) || !std::isfinite(total)) return {};
  for (WeightedColour& c : set) c.weight /= total;
  return set;
}

ColourSet ColourSetOf(const scout::v1::Palette& palette) {
  std::vector<WeightedColour> colours;
  colours.reserve(palette.colors_size());
  const auto channel = [](int32_t v) { return static_cast<double>(std::clamp(v, 0, 255)); };
  for (const scout::v1::Color& c : palette.colors()) {
    colours.push_back(
        {SrgbToLab(channel(c.red()), channel(c.green()), channel(c.blue())), c.percentage()});
  }
  return MakeColourSet(std::move(colours));
}

// The transportation problem min sum f_ij d_ij, rows summing to x's weights,
// columns to y's, solved exactly by successive shortest paths: each round
// sends flow along the cheapest residual path from a row with supply left to
// a column with demand left (Bellman-Ford: reverse edges have negative
// cost). Each round empties a supply, a demand or a reverse edge, so the
// rounds are few (about |x| + |y|) and every path keeps the flow optimal for
// what it has sent. Sizes are tiny, so dense inline arrays (no allocation
// for sets of up to 8 colours).
double PaletteDistance(const ColourSet& x, const ColourSet& y) {
  const int n = static_cast<int>(x.size()), m = static_cast<int>(y.size());
  if (n == 0 || m == 0) return std::numeric_limits<double>::infinity();
  double sx = 0, sy = 0;
  for (const WeightedColour& c : x) sx += c.weight;
  for (const WeightedColour& c : y) sy += c.weight;
  if (!(sx > 0) || !(sy > 0)) return std::numeric_limits<double>::infinity();

  absl::InlinedVector<double, 64> cost(static_cast<size_t>(n) * m);
  absl::InlinedVector<double, 64> flow(static_cast<size_t>(n) * m, 0.0);
  absl::InlinedVector<double, 8> supply(n), demand(m);
  for (int i = 0; i < n; ++i) supply[i] = std::max(0.0, x[i].weight / sx);
  for (int j = 0; j < m; ++j) demand[j] = std::max(0.0, y[j].weight / sy);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) cost[i * m + j] = Ciede2000(x[i].lab, y[j].lab);
  }
  // Amounts below this are rounding noise of the normalised weights.
  constexpr double kEps = 1e-12;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  absl::InlinedVector<double, 16> dist(n + m);
  absl::InlinedVector<int, 16> prev(n + m);
  double total = 0;
  for (int round = 0; round < 4 * (n + m) * (n + m); ++round) {
    // Nodes 0..n-1 rows, n..n+m-1 columns.
    bool any_supply = false;
    for (int i = 0; i < n; ++i) {
      dist[i] = supply[i] > kEps ? 0 : kInf;
      any_supply = any_supply || supply[i] > kEps;
      prev[i] = -1;
    }
    if (!any_supply) break;
    for (int j = 0; j < m; ++j) dist[n + j] = kInf, prev[n + j] = -1;
    for (int pass = 0; pass < n + m; ++pass) {
      bool changed = false;
      for (int i = 0; i < n; ++i) {
        if (dist[i] == kInf) continue;
        for (int j = 0; j < m; ++j) {
          const double d = dist[i] + cost[i * m + j];
          if (d < dist[n + j] - 1e-12) dist[n + j] = d, prev[n + j] = i, changed = true;
        }
      }
      for (int j = 0; j < m; ++j) {
        if (dist[n + j] == kInf) continue;
        for (int i = 0; i < n; ++i) {
          if (flow[i * m + j] <= kEps) continue;
          const double d = dist[n + j] - cost[i * m + j];
          if (d < dist[i] - 1e-12) dist[i] = d, prev[i] = n + j, changed = true;
        }
      }
      if (!changed) break;
    }
    int sink = -1;
    for (int j = 0; j < m; ++j) {
      if (demand[j] > kEps && dist[n + j] < kInf && (sink < 0 || dist[n + j] < dist[n + sink])) {
        sink = j;
      }
    }
    if (sink < 0) break;
    // The bottleneck: the sink's demand, the source's supply, reverse edges.
    double amount = demand[sink];
    int node = n + sink;
    while (prev[node] >= 0) {
      const int p = prev[node];
      if (p >= n) amount = std::min(amount, flow[node * m + (p - n)]);  // Reverse edge.
      node = p;
    }
    amount = std::min(amount, supply[node]);
    node = n + sink;
    while (prev[node] >= 0) {
      const int p = prev[node];
      if (p < n) {
        flow[p * m + (node - n)] += amount;
      } else {
        double& f = flow[node * m + (p - n)];
        f = f - amount > kEps ? f - amount : 0;
      }
      node = p;
    }
    supply[node] = supply[node] - amount > kEps ? supply[node] - amount : 0;
    demand[sink] = demand[sink] - amount > kEps ? demand[sink] - amount : 0;
  }
  for (size_t k = 0; k < flow.size(); ++k) total += flow[k] * cost[k];
  return total;
}

namespace {

// The anchors of PaletteVector: a 4x4x4 grid over the sRGB cube, so every
// anchor is a colour a photo can hold and the gamut is covered evenly.
struct Anchors {
  std::array<Lab, kPaletteVectorDims> lab;
  Anchors() {
    static_assert(kPaletteVectorDims == 64, "the anchor grid is 4x4x4");
    constexpr double kLevels[4] = {0, 85, 170, 255};
    int k = 0;
    for (double r : kLevels) {
      for (double g : kLevels) {
        for (double b : kLevels) lab[k++] = SrgbToLab(r, g, b);
      }
    }
  }
};

const Anchors& PaletteAnchors() {
  static const Anchors* const anchors = new Anchors();
  return *anchors;
}

// The kernel's width in CIEDE2000 units: wide enough that each colour
// reaches several anchors (so a small shift of a colour moves the vector a
// little, as it moves the EMD a little), narrow enough to tell hues apart.
constexpr double kKernelSigma = 20;

}  // namespace

// A kernel mean embedding: v_k = sum_i w_i exp(-d(c_i, a_k)^2 / 2 sigma^2).
// The L2 distance between two such vectors is the maximum mean discrepancy
// of the two weighted sets under a Gaussian kernel of CIEDE2000, which grows
// with the EMD for the distances palette search cares about.
std::vector<float> PaletteVector(const ColourSet& set) {
  std::vector<float> v(kPaletteVectorDims, 0.0f);
  const Anchors& anchors = PaletteAnchors();
  double total = 0;
  for (const WeightedColour& c : set) total += c.weight;
  if (!(total > 0)) return v;
  std::array<double, kPaletteVectorDims> acc{};
  for (const WeightedColour& c : set) {
    for (int k = 0; k < kPaletteVectorDims; ++k) {
      const double d = Ciede2000(c.lab, anchors.lab[k]) / kKernelSigma;
      acc[k] += c.weight / total * std::exp(-0.5 * d * d);
    }
  }
  for (int k = 0; k < kPaletteVectorDims; ++k) v[k] = static_cast<float>(acc[k]);
  return v;
}

}  // namespace scout
