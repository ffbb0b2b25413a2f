// common/base/colour.h: CIEDE2000 against Sharma, Wu & Dalal's published
// test data, the earth mover's distance's properties and a case solved by
// hand, the palette vector's ordering on hand-made palettes, and its packed
// storage form.
#include "common/base/colour.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace scout {
namespace {

struct SharmaPair {
  Lab x, y;
  double delta_e;
};

// Pairs from Table 1 of Sharma, Wu & Dalal (2005), "The CIEDE2000
// color-difference formula: implementation notes, supplementary test data
// and mathematical observations" (pair numbers in the comments). 13-16
// straddle the hue-angle wrap; 25-34 are the general cases.
TEST(Ciede2000Test, MatchesSharmasTable) {
  const SharmaPair pairs[] = {
      {{50.0000, 2.6772, -79.7751}, {50.0000, 0.0000, -82.7485}, 2.0425},    // 1
      {{50.0000, 3.1571, -77.2803}, {50.0000, 0.0000, -82.7485}, 2.8615},    // 2
      {{50.0000, 2.8361, -74.0200}, {50.0000, 0.0000, -82.7485}, 3.4412},    // 3
      {{50.0000, 0.0000, 0.0000}, {50.0000, -1.0000, 2.0000}, 2.3669},       // 7
      {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0009}, 7.1792},      // 13
      {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0010}, 7.1792},      // 14
      {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0011}, 7.2195},      // 15
      {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0012}, 7.2195},      // 16
      {{50.0000, 2.5000, 0.0000}, {73.0000, 25.0000, -18.0000}, 27.1492},    // 17
      {{50.0000, 2.5000, 0.0000}, {61.0000, -5.0000, 29.0000}, 22.8977},     // 18
      {{50.0000, 2.5000, 0.0000}, {56.0000, -27.0000, -3.0000}, 31.9030},    // 19
      {{50.0000, 2.5000, 0.0000}, {58.0000, 24.0000, 15.0000}, 19.4535},     // 20
      {{60.2574, -34.0099, 36.2677}, {60.4626, -34.1751, 39.4387}, 1.2644},  // 25
      {{63.0109, -31.0961, -5.8663}, {62.8187, -29.7946, -4.0864}, 1.2630},  // 26
      {{2.0776, 0.0795, -1.1350}, {0.9033, -0.0636, -0.5514}, 0.9082},       // 34
  };
  for (const SharmaPair& p : pairs) {
    EXPECT_NEAR(Ciede2000(p.x, p.y), p.delta_e, 5e-5) << p.x.l << " " << p.x.a << " " << p.x.b;
    EXPECT_NEAR(Ciede2000(p.y, p.x), p.delta_e, 5e-5);  // Symmetric.
  }
  EXPECT_EQ(Ciede2000({50, 10, 10}, {50, 10, 10}), 0);
}

// The textbook form (Sharma et al., equations 2-22, one step per line), to
// check the rearranged production code against on many colours.
double TextbookCiede2000(const Lab& x, const Lab& y) {
  constexpr double kPi = 3.14159265358979323846;
  const auto rad = [](double d) { return d * kPi / 180; };
  const double c1 = std::hypot(x.a, x.b), c2 = std::hypot(y.a, y.b);
  const double c7 = std::pow((c1 + c2) / 2, 7);
  const double g = 0.5 * (1 - std::sqrt(c7 / (c7 + std::pow(25.0, 7))));
  const double a1 = (1 + g) * x.a, a2 = (1 + g) * y.a;
  const double cp1 = std::hypot(a1, x.b), cp2 = std::hypot(a2, y.b);
  const auto hue = [&](double b, double a) {
    if (a == 0 && b == 0) return 0.0;
    const double h = std::atan2(b, a) * 180 / kPi;
    return h < 0 ? h + 360 : h;
  };
  const double h1 = hue(x.b, a1), h2 = hue(y.b, a2);
  const double dl = y.l - x.l, dc = cp2 - cp1;
  double dh = 0;
  if (cp1 * cp2 != 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    if (dh < -180) dh += 360;
  }
  const double d_hue = 2 * std::sqrt(cp1 * cp2) * std::sin(rad(dh / 2));
  const double l_mean = (x.l + y.l) / 2, cp_mean = (cp1 + cp2) / 2;
  double h_mean = h1 + h2;
  if (cp1 * cp2 != 0) {
    if (std::abs(h1 - h2) <= 180) {
      h_mean = (h1 + h2) / 2;
    } else {
      h_mean = (h1 + h2 < 360) ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
    }
  }
  const double t = 1 - 0.17 * std::cos(rad(h_mean - 30)) + 0.24 * std::cos(rad(2 * h_mean)) +
                   0.32 * std::cos(rad(3 * h_mean + 6)) - 0.20 * std::cos(rad(4 * h_mean - 63));
  const double d_theta = 30 * std::exp(-std::pow((h_mean - 275) / 25, 2));
  const double cp7 = std::pow(cp_mean, 7);
  const double rc = 2 * std::sqrt(cp7 / (cp7 + std::pow(25.0, 7)));
  const double l50 = (l_mean - 50) * (l_mean - 50);
  const double sl = 1 + 0.015 * l50 / std::sqrt(20 + l50);
  const double sc = 1 + 0.045 * cp_mean;
  const double sh = 1 + 0.015 * cp_mean * t;
  const double rt = -std::sin(rad(2 * d_theta)) * rc;
  return std::sqrt((dl / sl) * (dl / sl) + (dc / sc) * (dc / sc) + (d_hue / sh) * (d_hue / sh) +
                   rt * (dc / sc) * (d_hue / sh));
}

TEST(Ciede2000Test, MatchesTheTextbookForm) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> l(0, 100), ab(-110, 110), channel(0, 255);
  for (int k = 0; k < 100000; ++k) {
    const Lab x =
        k % 2 ? Lab{l(rng), ab(rng), ab(rng)} : SrgbToLab(channel(rng), channel(rng), channel(rng));
    const Lab y =
        k % 3 ? Lab{l(rng), ab(rng), ab(rng)} : SrgbToLab(channel(rng), channel(rng), channel(rng));
    ASSERT_NEAR(Ciede2000(x, y), TextbookCiede2000(x, y), 1e-9) << k;
  }
  // Greys (no hue) against colours and each other.
  for (const Lab& x : {Lab{50, 0, 0}, Lab{20, 0, 0}}) {
    for (const Lab& y : {Lab{50, 0, 0}, Lab{60, 30, -40}, Lab{30, -5, 0}, Lab{70, 0, 25}}) {
      EXPECT_NEAR(Ciede2000(x, y), TextbookCiede2000(x, y), 1e-9);
      EXPECT_NEAR(Ciede2000(y, x), TextbookCiede2000(y, x), 1e-9);
    }
  }
}

// Ciede2000Below is a lower bound within its stated margin, on random
// pairs (nearby ones too, where cancellation is worst) and on the edge
// cases: greys, equal colours, blues (the rotation term), the hue wrap and
// nearly opposite hues.
TEST(Ciede2000Test, BelowIsATightLowerBound) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> l(0, 100), ab(-120, 120), near(-2, 2), channel(0, 255);
  std::vector<Lab> xs, ys;
  for (int k = 0; k < 200000; ++k) {
    const Lab x =
        k % 2 ? Lab{l(rng), ab(rng), ab(rng)} : SrgbToLab(channel(rng), channel(rng), channel(rng));
    xs.push_back(x);
    ys.push_back(k % 3 == 0   ? Lab{x.l + near(rng), x.a + near(rng), x.b + near(rng)}
                 : k % 3 == 1 ? Lab{l(rng), ab(rng), ab(rng)}
                              : SrgbToLab(channel(rng), channel(rng), channel(rng)));
  }
  const std::vector<std::pair<Lab, Lab>> edges = {
      {{50, 0, 0}, {50, 0, 0}},       {{50, 0, 0}, {60, 30, -40}},
      {{20, 0, 0}, {70, 0, 25}},      {{50, 10, 10}, {50, 10, 10}},
      {{40, 5, -60}, {45, 2, -70}},   {{40, -2, -60}, {60, 3, -50}},
      {{50, 30, -1}, {50, 30, 1}},    {{50, 30, 0.01}, {55, -30, 0.5}},
      {{60, 20, 20}, {60, -20, -21}}, {{50, 30, 30}, {50, -30, -30}}};
  for (const auto& [x, y] : edges) xs.push_back(x), ys.push_back(y);
  const auto column = [](const std::vector<Lab>& labs, double Lab::*field) {
    std::vector<float> out;
    for (const Lab& lab : labs) out.push_back(static_cast<float>(lab.*field));
    return out;
  };
  const std::vector<float> xl = column(xs, &Lab::l), xa = column(xs, &Lab::a),
                           xb = column(xs, &Lab::b), yl = column(ys, &Lab::l),
                           ya = column(ys, &Lab::a), yb = column(ys, &Lab::b);
  std::vector<float> below(xs.size());
  Ciede2000Below({xl.data(), xa.data(), xb.data()}, {yl.data(), ya.data(), yb.data()}, xs.size(),
                 below.data());
  size_t loose = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    // The exact distance of the colours as the bound saw them (floats).
    const Lab x{xl[k], xa[k], xb[k]}, y{yl[k], ya[k], yb[k]};
    const double exact = Ciede2000(x, y);
    ASSERT_LE(below[k], exact) << k;
    const auto where = [&] {
      return testing::Message() << k << ": " << x.l << " " << x.a << " " << x.b << " / " << y.l
                                << " " << y.a << " " << y.b;
    };
    if (below[k] < exact * (1 - 2 * kCiede2000BelowRelative) - 2 * kCiede2000BelowAbsolute) {
      ++loose;  // Nearly opposite hues only.
      ASSERT_GE(below[k], 0.25 * exact - kCiede2000BelowAbsolute) << where();
    }
  }
  // About 0.3 % of random pairs, and the last edge pair (exactly opposite).
  EXPECT_GE(loose, 1u);
  EXPECT_LE(loose, xs.size() / 200);
}

TEST(SrgbToLabTest, KnownColours) {
  const Lab white = SrgbToLab(255, 255, 255);
  EXPECT_NEAR(white.l, 100, 1e-3);
  EXPECT_NEAR(white.a, 0, 1e-3);
  EXPECT_NEAR(white.b, 0, 1e-3);
  const Lab red = SrgbToLab(255, 0, 0);  // Reference values for D65 sRGB.
  EXPECT_NEAR(red.l, 53.24, 0.01);
  EXPECT_NEAR(red.a, 80.09, 0.01);
  EXPECT_NEAR(red.b, 67.20, 0.01);
}

ColourSet Set(std::initializer_list<std::pair<Lab, double>> colours) {
  std::vector<WeightedColour> v;
  for (const auto& [lab, weight] : colours) v.push_back({lab, weight});
  return MakeColourSet(v);
}

ColourSet RandomSet(std::mt19937& rng, int size) {
  std::uniform_real_distribution<double> channel(0, 255), weight(0.05, 1);
  std::vector<WeightedColour> v;
  for (int i = 0; i < size; ++i) {
    v.push_back({SrgbToLab(channel(rng), channel(rng), channel(rng)), weight(rng)});
  }
  return MakeColourSet(v);
}

TEST(MakeColourSetTest, DropsNonPositiveAndNormalises) {
  const ColourSet set = MakeColourSet({{{50, 0, 0}, 2},
                                       {{60, 0, 0}, 0},
                                       {{70, 0, 0}, -1},
                                       {{80, 0, 0}, std::nan("")},
                                       {{90, 0, 0}, 6}});
  ASSERT_EQ(set.size(), 2u);
  EXPECT_DOUBLE_EQ(set[0].weight, 0.25);
  EXPECT_DOUBLE_EQ(set[1].weight, 0.75);
  EXPECT_EQ(set[1].lab.l, 90);
  EXPECT_TRUE(MakeColourSet({{{50, 0, 0}, 0}}).empty());
}

TEST(ColourSetOfTest, WeightsByPercentage) {
  scout::v1::Palette palette;
  auto* c = palette.add_colors();
  c->set_red(255), c->set_green(0), c->set_blue(0), c->set_percentage(0.3);
  c = palette.add_colors();
  c->set_red(300), c->set_green(300), c->set_blue(300), c->set_percentage(0.1);  // Clamped.
  const ColourSet set = ColourSetOf(palette);
  ASSERT_EQ(set.size(), 2u);
  EXPECT_DOUBLE_EQ(set[0].weight, 0.75);
  EXPECT_NEAR(set[1].lab.l, 100, 1e-3);
  EXPECT_TRUE(ColourSetOf(scout::v1::Palette()).empty());
}

// An independent solver to compare with: successive shortest paths with
// Bellman-Ford (no potentials), the first implementation of PaletteDistance.
double ReferenceEmd(const ColourSet& x, const ColourSet& y) {
  const int n = static_cast<int>(x.size()), m = static_cast<int>(y.size());
  if (n == 0 || m == 0) return std::numeric_limits<double>::infinity();
  double sx = 0, sy = 0;
  for (const WeightedColour& c : x) sx += c.weight;
  for (const WeightedColour& c : y) sy += c.weight;
  if (!(sx > 0) || !(sy > 0)) return std::numeric_limits<double>::infinity();

  std::vector<double> cost(static_cast<size_t>(n) * m);
  std::vector<double> flow(static_cast<size_t>(n) * m, 0.0);
  std::vector<double> supply(n), demand(m);
  for (int i = 0; i < n; ++i) supply[i] = std::max(0.0, x[i].weight / sx);
  for (int j = 0; j < m; ++j) demand[j] = std::max(0.0, y[j].weight / sy);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) cost[i * m + j] = Ciede2000(x[i].lab, y[j].lab);
  }
  // Amounts below this are rounding noise of the normalised weights.
  constexpr double kEps = 1e-12;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> dist(n + m);
  std::vector<int> prev(n + m);
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

TEST(PaletteDistanceTest, MatchesAReferenceSolver) {
  std::mt19937 rng(5);
  for (int k = 0; k < 500; ++k) {
    const ColourSet x = RandomSet(rng, 1 + k % 8), y = RandomSet(rng, 1 + (k / 8) % 8);
    EXPECT_NEAR(PaletteDistance(x, y), ReferenceEmd(x, y), 1e-9) << k;
  }
}

TEST(PaletteDistanceTest, BelowABoundIsExactAboveItALowerBoundPastIt) {
  std::mt19937 rng(6);
  int pruned = 0;
  for (int k = 0; k < 500; ++k) {
    const ColourSet x = RandomSet(rng, 1 + k % 6), y = RandomSet(rng, 1 + (k / 6) % 6);
    const double exact = ReferenceEmd(x, y);
    for (const double bound : {exact * 0.5, exact * 0.9, exact * 1.01, exact + 1}) {
      const double below = PaletteDistanceBelow(x, y, bound);
      if (exact < bound) {
        EXPECT_NEAR(below, exact, 1e-9) << k << " bound " << bound;
      } else {
        EXPECT_GE(below, bound) << k;
        EXPECT_LE(below, exact + 1e-9) << k;  // Never more than the distance.
        pruned += below < exact - 1e-9;
      }
    }
  }
  EXPECT_GT(pruned, 0);  // The bound alone settled some.
}

TEST(PaletteDistanceTest, IdentityIsZeroAndEmptyIsInfinite) {
  std::mt19937 rng(1);
  for (int i = 0; i < 50; ++i) {
    const ColourSet x = RandomSet(rng, 1 + i % 8);
    EXPECT_NEAR(PaletteDistance(x, x), 0, 1e-9);
  }
  EXPECT_TRUE(std::isinf(PaletteDistance({}, RandomSet(rng, 3))));
  EXPECT_TRUE(std::isinf(PaletteDistance(RandomSet(rng, 3), {})));
}

TEST(PaletteDistanceTest, Symmetric) {
  std::mt19937 rng(2);
  for (int i = 0; i < 200; ++i) {
    const ColourSet x = RandomSet(rng, 1 + i % 8), y = RandomSet(rng, 1 + (i / 8) % 8);
    EXPECT_NEAR(PaletteDistance(x, y), PaletteDistance(y, x), 1e-9);
  }
}

TEST(PaletteDistanceTest, SingleColoursAreTheirGroundDistance) {
  const Lab p{40, 20, -30}, q{70, -10, 5};
  EXPECT_NEAR(PaletteDistance(Set({{p, 1}}), Set({{q, 1}})), Ciede2000(p, q), 1e-12);
  // One colour against two: all of it moves to each, by its share.
  const Lab r{20, 0, 60};
  EXPECT_NEAR(PaletteDistance(Set({{p, 1}}), Set({{q, 0.25}, {r, 0.75}})),
              0.25 * Ciede2000(p, q) + 0.75 * Ciede2000(p, r), 1e-12);
}

// x = {A 0.6, B 0.4}, y = {C 0.5, D 0.5}. With t = flow A->C the flows are
// A->C t, A->D 0.6-t, B->C 0.5-t, B->D t-0.1 for t in [0.1, 0.5]; the cost
// is linear in t, so the optimum is at t = 0.1 or t = 0.5.
TEST(PaletteDistanceTest, TwoByTwoByHand) {
  const Lab a{30, 40, 20}, b{80, -20, 10}, c{35, 30, 30}, d{60, 0, -40};
  const double ac = Ciede2000(a, c), ad = Ciede2000(a, d), bc = Ciede2000(b, c),
               bd = Ciede2000(b, d);
  const double at_01 = 0.1 * ac + 0.5 * ad + 0.4 * bc + 0.0 * bd;
  const double at_05 = 0.5 * ac + 0.1 * ad + 0.0 * bc + 0.4 * bd;
  const double want = std::min(at_01, at_05);
  EXPECT_NEAR(PaletteDistance(Set({{a, 0.6}, {b, 0.4}}), Set({{c, 0.5}, {d, 0.5}})), want, 1e-9);
  // Same colours, other proportions: only the 0.2 that must move costs.
  EXPECT_NEAR(PaletteDistance(Set({{a, 0.5}, {b, 0.5}}), Set({{a, 0.7}, {b, 0.3}})),
              0.2 * Ciede2000(a, b), 1e-9);
}

TEST(PaletteDistanceTest, WeightsNeedNotSumToOne) {
  const Lab a{30, 40, 20}, b{80, -20, 10}, c{35, 30, 30};
  const ColourSet x = {{a, 3}, {b, 1}}, y = {{c, 0.6}, {b, 0.2}};
  const ColourSet xn = {{a, 0.75}, {b, 0.25}}, yn = {{c, 0.75}, {b, 0.25}};
  EXPECT_NEAR(PaletteDistance(x, y), PaletteDistance(xn, yn), 1e-12);
  ASSERT_LT(Ciede2000(a, c), Ciede2000(a, b));
  EXPECT_NEAR(PaletteDistance(xn, yn), 0.75 * Ciede2000(a, c), 1e-12);
}

// The exact optimum is no more than any feasible plan: the north-west corner
// plan and the independent (product) plan are feasible for any pair.
TEST(PaletteDistanceTest, NoWorseThanFeasiblePlans) {
  std::mt19937 rng(3);
  for (int k = 0; k < 200; ++k) {
    const ColourSet x = RandomSet(rng, 1 + k % 6), y = RandomSet(rng, 1 + (k / 6) % 6);
    double product = 0;
    for (const auto& p : x) {
      for (const auto& q : y) product += p.weight * q.weight * Ciede2000(p.lab, q.lab);
    }
    double corner = 0;
    std::vector<double> s, d;
    for (const auto& p : x) s.push_back(p.weight);
    for (const auto& q : y) d.push_back(q.weight);
    for (size_t i = 0, j = 0; i < s.size() && j < d.size();) {
      const double f = std::min(s[i], d[j]);
      corner += f * Ciede2000(x[i].lab, y[j].lab);
      s[i] -= f, d[j] -= f;
      if (s[i] <= 1e-15)
        ++i;
      else
        ++j;
    }
    const double emd = PaletteDistance(x, y);
    EXPECT_LE(emd, product + 1e-9);
    EXPECT_LE(emd, corner + 1e-9);
    EXPECT_GE(emd, 0);
  }
}

// A lower bound: each share of x travels at least to its nearest colour of
// y (and each share of y from its nearest colour of x).
TEST(PaletteDistanceTest, AtLeastNearestColourBound) {
  std::mt19937 rng(4);
  for (int k = 0; k < 200; ++k) {
    const ColourSet x = RandomSet(rng, 1 + k % 6), y = RandomSet(rng, 1 + (k / 6) % 6);
    double bound_x = 0, bound_y = 0;
    for (const auto& p : x) {
      double best = INFINITY;
      for (const auto& q : y) best = std::min(best, Ciede2000(p.lab, q.lab));
      bound_x += p.weight * best;
    }
    for (const auto& q : y) {
      double best = INFINITY;
      for (const auto& p : x) best = std::min(best, Ciede2000(p.lab, q.lab));
      bound_y += q.weight * best;
    }
    EXPECT_GE(PaletteDistance(x, y), std::max(bound_x, bound_y) - 1e-9);
  }
}

double VectorDistance(const ColourSet& x, const ColourSet& y) {
  const std::vector<float> u = PaletteVector(x), v = PaletteVector(y);
  double sum = 0;
  for (size_t k = 0; k < u.size(); ++k) sum += (u[k] - v[k]) * (u[k] - v[k]);
  return std::sqrt(sum);
}

ColourSet Rgb(std::initializer_list<std::tuple<int, int, int, double>> colours) {
  std::vector<WeightedColour> v;
  for (const auto& [r, g, b, w] : colours) v.push_back({SrgbToLab(r, g, b), w});
  return MakeColourSet(v);
}

TEST(PaletteVectorTest, FixedLengthAndZeroForEmpty) {
  EXPECT_EQ(PaletteVector({}).size(), static_cast<size_t>(kPaletteVectorDims));
  for (float f : PaletteVector({})) EXPECT_EQ(f, 0);
  EXPECT_EQ(PaletteVector(Rgb({{10, 20, 30, 1}})).size(), static_cast<size_t>(kPaletteVectorDims));
}

// Every component of the unpacked vector within half a step of the vector's.
void ExpectRoundTrip(const ColourSet& set) {
  const std::vector<float> v = PaletteVector(set);
  const std::string packed = PackPaletteVector(v);
  ASSERT_EQ(packed.size(), static_cast<size_t>(kPaletteVectorDims));
  const std::vector<float> back = UnpackPaletteVector(packed);
  ASSERT_EQ(back.size(), v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    ASSERT_LE(std::abs(back[k] - v[k]), kPaletteVectorStep / 2 + 1e-6)
        << "dimension " << k << ": " << v[k] << " came back as " << back[k];
  }
}

TEST(PackPaletteVectorTest, RoundTripsWithinHalfAStep) {
  std::mt19937 rng(11);
  for (int k = 0; k < 3000; ++k) ExpectRoundTrip(RandomSet(rng, 1 + k % 6));
  // The extremes of each DIN99o coordinate over the sRGB cube, alone (the
  // vector is then that colour's coordinates / 8 in every dimension).
  for (const auto& [r, g, b] : std::vector<std::tuple<int, int, int>>{{0, 0, 0},
                                                                      {255, 255, 255},
                                                                      {0, 255, 148},
                                                                      {255, 0, 165},
                                                                      {0, 51, 255},
                                                                      {255, 255, 0},
                                                                      {255, 0, 0},
                                                                      {0, 255, 0},
                                                                      {0, 0, 255}}) {
    SCOPED_TRACE(testing::Message() << r << "," << g << "," << b);
    ExpectRoundTrip(Rgb({{r, g, b, 1}}));
  }
  // An empty palette's zeros come back exactly.
  EXPECT_EQ(UnpackPaletteVector(PackPaletteVector(PaletteVector({}))), PaletteVector({}));
}

TEST(PackPaletteVectorTest, ClampsToTheRepresentableRange) {
  std::vector<float> v(kPaletteVectorDims);
  for (int k = 0; k < kPaletteVectorDims; ++k) v[k] = k % 2 == 0 ? 1000 : -1000;
  v[0] = NAN;
  const std::vector<float> back = UnpackPaletteVector(PackPaletteVector(v));
  ASSERT_EQ(back.size(), v.size());
  EXPECT_EQ(back[0], 0);  // NaN stores 0.
  for (int k = 1; k < kPaletteVectorDims; ++k) {
    const bool lightness = k % 3 == 0, high = k % 2 == 0;
    const float expected = lightness ? (high ? 12.75f : 0.0f) : (high ? 6.35f : -6.4f);
    EXPECT_NEAR(back[k], expected, 1e-5) << "dimension " << k;
  }
}

TEST(PackPaletteVectorTest, WrongLengthsAreEmpty) {
  EXPECT_EQ(PackPaletteVector({}), "");
  EXPECT_EQ(PackPaletteVector(std::vector<float>(kPaletteVectorDims - 1)), "");
  EXPECT_EQ(PackPaletteVector(std::vector<float>(kPaletteVectorDims + 1)), "");
  EXPECT_TRUE(UnpackPaletteVector("").empty());
  EXPECT_TRUE(UnpackPaletteVector(std::string(kPaletteVectorDims - 1, 'x')).empty());
  EXPECT_TRUE(UnpackPaletteVector(std::string(kPaletteVectorDims + 1, 'x')).empty());
  EXPECT_EQ(UnpackPaletteVector(std::string(kPaletteVectorDims, '\x80')).size(),
            static_cast<size_t>(kPaletteVectorDims));
}

TEST(PaletteVectorTest, NearerPalettesHaveNearerVectors) {
  const ColourSet beige = Rgb({{232, 213, 196, 0.6}, {160, 82, 45, 0.4}});  // Beige + sienna.
  const ColourSet beige_shifted = Rgb({{225, 205, 190, 0.6}, {150, 80, 50, 0.4}});
  const ColourSet beige_reweighted = Rgb({{232, 213, 196, 0.3}, {160, 82, 45, 0.7}});
  const ColourSet blue = Rgb({{30, 60, 200, 0.6}, {10, 20, 90, 0.4}});
  const ColourSet half_blue = Rgb({{232, 213, 196, 0.6}, {10, 20, 90, 0.4}});
  EXPECT_LT(VectorDistance(beige, beige_shifted), VectorDistance(beige, beige_reweighted));
  EXPECT_LT(VectorDistance(beige, beige_reweighted), VectorDistance(beige, half_blue));
  EXPECT_LT(VectorDistance(beige, half_blue), VectorDistance(beige, blue));
  // And the exact distance orders them the same way.
  EXPECT_LT(PaletteDistance(beige, beige_shifted), PaletteDistance(beige, beige_reweighted));
  EXPECT_LT(PaletteDistance(beige, beige_reweighted), PaletteDistance(beige, half_blue));
  EXPECT_LT(PaletteDistance(beige, half_blue), PaletteDistance(beige, blue));
  EXPECT_NEAR(VectorDistance(beige, beige), 0, 1e-9);
}

}  // namespace
}  // namespace scout
