// Palette search's candidate recall: how many of the exact top 20 by
// PaletteDistance (brute force over every palette) are among the top K by
// L2 distance between PaletteVectors, the pool Elasticsearch's kNN hands the
// server to rerank. Palettes are genlake's (6 colours, shares 0.05..0.40,
// colours apart) and random ones (1..6 colours, any shares); targets are
// genlake palettes (lookalikes), 1..3 colour queries of equal weight (what a
// brand types) and random palettes. Prints recall per K and target kind, and
// the cost of each function.
//
//   build/bench/palette_search_recall --palettes=100000 --queries=90
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/base/colour.h"
#include "tools/genlake/pictures.h"

ABSL_FLAG(int, palettes, 100000, "palettes to search");
ABSL_FLAG(int, queries, 90, "targets (a third of each kind)");
ABSL_FLAG(int, top, 20, "the exact top N whose recall is measured");
ABSL_FLAG(double, genlake_share, 0.8, "share of genlake-shaped palettes; the rest are random");
ABSL_FLAG(uint64_t, seed, 7, "random seed");

namespace {

using scout::ColourSet;
using scout::WeightedColour;
// CPU time of this process: the machine's cores are shared, wall time is not ours.
struct Clock {
  using time_point = double;
  static double now() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
};

ColourSet Genlake(uint64_t seed, int user) {
  std::vector<WeightedColour> colours;
  for (const auto& c : scout::genlake::MakePalette(seed, user)) {
    colours.push_back({scout::SrgbToLab(c.r, c.g, c.b), static_cast<double>(c.weight)});
  }
  return scout::MakeColourSet(colours);
}

ColourSet Random(std::mt19937_64& rng, int min_size, int max_size, bool equal_weights) {
  std::uniform_int_distribution<int> size(min_size, max_size), channel(0, 255);
  std::exponential_distribution<double> weight(1.0);
  std::vector<WeightedColour> colours;
  for (int i = size(rng); i > 0; --i) {
    colours.push_back({scout::SrgbToLab(channel(rng), channel(rng), channel(rng)),
                       equal_weights ? 1.0 : weight(rng) + 0.02});
  }
  return scout::MakeColourSet(colours);
}

double L2(const std::vector<float>& u, const std::vector<float>& v) {
  double sum = 0;
  for (size_t k = 0; k < u.size(); ++k) sum += (u[k] - v[k]) * (u[k] - v[k]);
  return sum;
}

double Seconds(double since) { return Clock::now() - since; }

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_palettes), queries = absl::GetFlag(FLAGS_queries);
  const size_t top = static_cast<size_t>(absl::GetFlag(FLAGS_top));
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::bernoulli_distribution genlake(absl::GetFlag(FLAGS_genlake_share));

  std::vector<ColourSet> palettes(n);
  for (int i = 0; i < n; ++i) {
    palettes[i] = genlake(rng) ? Genlake(absl::GetFlag(FLAGS_seed), i) : Random(rng, 1, 6, false);
  }
  auto start = Clock::now();
  std::vector<std::vector<float>> vectors(n);
  for (int i = 0; i < n; ++i) vectors[i] = scout::PaletteVector(palettes[i]);
  const double vector_ns = Seconds(start) / n * 1e9;

  const char* kKinds[] = {"genlake", "typed 1-3", "random 1-6"};
  const size_t kPools[] = {200, 500, 1000, 2000, 5000};
  constexpr int kPoolCount = 5;
  // found[kind][pool], wanted[kind]
  std::vector<std::vector<double>> found(3, std::vector<double>(kPoolCount, 0));
  std::vector<double> wanted(3, 0);
  double distance_seconds = 0;
  long distance_calls = 0;
  for (int q = 0; q < queries; ++q) {
    const int kind = q % 3;
    const ColourSet target = kind == 0   ? Genlake(absl::GetFlag(FLAGS_seed) + 1, q)
                             : kind == 1 ? Random(rng, 1, 3, true)
                                         : Random(rng, 1, 6, false);
    start = Clock::now();
    std::vector<std::pair<double, int>> exact(n);
    for (int i = 0; i < n; ++i) exact[i] = {scout::PaletteDistance(target, palettes[i]), i};
    distance_seconds += Seconds(start);
    distance_calls += n;
    std::partial_sort(exact.begin(), exact.begin() + top, exact.end());

    const std::vector<float> tv = scout::PaletteVector(target);
    std::vector<std::pair<double, int>> approx(n);
    for (int i = 0; i < n; ++i) approx[i] = {L2(tv, vectors[i]), i};
    std::sort(approx.begin(), approx.end());
    std::vector<int> rank(n);
    for (int r = 0; r < n; ++r) rank[approx[r].second] = r;
    wanted[kind] += top;
    for (size_t t = 0; t < top; ++t) {
      for (int p = 0; p < kPoolCount; ++p) {
        if (static_cast<size_t>(rank[exact[t].second]) < kPools[p]) found[kind][p] += 1;
      }
    }
  }
  std::printf("%d palettes (%.0f%% genlake-shaped), %d targets, exact top %zu, %d dims\n", n,
              100 * absl::GetFlag(FLAGS_genlake_share), queries, top, scout::kPaletteVectorDims);
  std::printf("%-12s", "target");
  for (size_t pool : kPools) std::printf(" %8s", ("K=" + std::to_string(pool)).c_str());
  std::printf("\n");
  std::vector<double> all(kPoolCount, 0);
  for (int kind = 0; kind < 3; ++kind) {
    std::printf("%-12s", kKinds[kind]);
    for (int p = 0; p < kPoolCount; ++p) {
      std::printf(" %8.4f", found[kind][p] / std::max(1.0, wanted[kind]));
      all[p] += found[kind][p];
    }
    std::printf("\n");
  }
  const double total = std::accumulate(wanted.begin(), wanted.end(), 0.0);
  std::printf("%-12s", "all");
  for (int p = 0; p < kPoolCount; ++p) std::printf(" %8.4f", all[p] / total);
  std::printf("\n");
  std::printf(
      "CPU time: PaletteDistance %.0f ns/call (brute force, %ld calls); PaletteVector %.0f "
      "ns/call\n",
      distance_seconds / distance_calls * 1e9, distance_calls, vector_ns);
  return 0;
}
