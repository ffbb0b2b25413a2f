// palette_exact: the exact nearest palettes by PaletteDistance, brute force
// over every palette in the warehouse (profile_facts.palette_json): the
// ground truth and the baseline time for palette-search recall in
// bench/creators_bench.py.
//
//   palette_exact --targets targets.json [--top 20] [--threads 2]
//
// targets.json: [[["#rrggbb", weight], ...], ...] (weights need not sum to
// 1). Prints one JSON line per target: {"target": i, "seconds": s,
// "top": [[creator_id, distance], ...]} (nearest first, ties by id), then
// {"palettes": n, "load_seconds": s}.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/colour.h"
#include "common/base/parallel.h"
#include "common/base/status.h"

ABSL_FLAG(std::string, targets, "", "JSON file of target palettes.");
ABSL_FLAG(int, top, 20, "Nearest palettes per target.");
ABSL_FLAG(int, threads, 2, "Threads per target.");
ABSL_FLAG(std::string, pg_dsn, "", "Warehouse DSN (default: SCOUT_PG_DSN).");

namespace scout::bench {
namespace {

absl::StatusOr<std::vector<ColourSet>> ReadTargets(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<ColourSet> targets;
  try {
    for (const nlohmann::json& palette : nlohmann::json::parse(text.str())) {
      std::vector<WeightedColour> colours;
      for (const nlohmann::json& c : palette) {
        const std::string hex = c.at(0).get<std::string>();
        uint32_t rgb = 0;
        if (hex.size() != 7 || !absl::SimpleHexAtoi(hex.substr(1), &rgb)) {
          return absl::InvalidArgumentError("bad colour " + hex);
        }
        colours.push_back(
            {SrgbToLab((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255), c.at(1).get<double>()});
      }
      targets.push_back(MakeColourSet(std::move(colours)));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(std::string("targets: ") + e.what());
  }
  return targets;
}

absl::Status Run() {
  SCOUT_ASSIGN_OR_RETURN(const std::vector<ColourSet> targets,
                         ReadTargets(absl::GetFlag(FLAGS_targets)));
  std::string dsn = absl::GetFlag(FLAGS_pg_dsn);
  if (dsn.empty() && std::getenv("SCOUT_PG_DSN") != nullptr) dsn = std::getenv("SCOUT_PG_DSN");
  const absl::Time load_start = absl::Now();
  SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> w, Warehouse::Connect(dsn));
  SCOUT_ASSIGN_OR_RETURN(const SqlRows rows,
                         w->Query("SELECT creator_id, palette_json FROM profile_facts "
                                  "WHERE palette_json IS NOT NULL ORDER BY creator_id"));
  std::vector<std::string> ids;
  std::vector<ColourSet> sets;
  for (const auto& row : rows.rows) {
    absl::StatusOr<v1::Palette> palette = ParsePaletteJson(*row[1], *row[0]);
    if (!palette.ok()) return palette.status();
    ColourSet set = ColourSetOf(*palette);
    if (set.empty()) continue;
    ids.push_back(*row[0]);
    sets.push_back(std::move(set));
  }
  const double load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);

  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  const size_t top = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_top)));
  std::vector<double> distance(sets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    const absl::Time start = absl::Now();
    const size_t per = (sets.size() + threads - 1) / threads;
    ParallelFor(static_cast<size_t>(threads), threads, [&](size_t part) {
      for (size_t i = part * per; i < std::min(sets.size(), (part + 1) * per); ++i) {
        distance[i] = PaletteDistance(targets[t], sets[i]);
      }
    });
    std::vector<size_t> order(sets.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const size_t n = std::min(top, order.size());
    std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](size_t a, size_t b) {
      return distance[a] != distance[b] ? distance[a] < distance[b] : ids[a] < ids[b];
    });
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    nlohmann::json out = {{"target", t}, {"seconds", seconds}, {"top", nlohmann::json::array()}};
    for (size_t k = 0; k < n; ++k) out["top"].push_back({ids[order[k]], distance[order[k]]});
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
  }
  std::printf(
      "%s\n",
      nlohmann::json({{"palettes", sets.size()}, {"load_seconds", load_seconds}}).dump().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace scout::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = scout::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "palette_exact: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
