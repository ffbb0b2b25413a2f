// Palette search in memory: every palette of the creators index, held by the
// server, and the search that ranks them (docs/palette-search.md).
//
// Why not Elasticsearch's kNN: at 500,000 creators its HNSW graph made a
// rebuild of the creators index ~7x slower than the 5-minute target, and each
// query still had to fetch a pool of 1,000+ candidates' doc values to rerank
// them exactly. Here a query scans a 32-dimension projection of every
// palette's vector (vectorised 16-bit arithmetic: under 1 ms per 50,000
// creators in bench/micro_bench.cc), keeps the nearest `pool` and ranks
// those by the exact PaletteDistance.
//
// - PaletteIndex: one immutable load (creators sorted by id, their palettes,
//   the numbers the filters need, and the projected vectors). Thread-safe.
// - PaletteIndexLoader: reads the creators index's doc values (no _source)
//   into a PaletteIndex, and reloads in the background when the index has
//   changed and stayed unchanged for one poll (so a running write is read
//   once, at its end). Readers get the last good load and never wait; when
//   Elasticsearch is down the last load keeps serving. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/base/colour.h"
#include "common/base/periodic.h"
#include "scout/v1/types.pb.h"

namespace scout::server {

// Dimensions of the projection scanned per query (principal components of
// the creators' PaletteVectors; measured in docs/palette-search.md).
inline constexpr int kPaletteProjectionDims = 32;

// What palette search needs of one creator: its palette and the numbers
// the request's filters test (absent numbers fail a filter on them, as in
// Elasticsearch's range and term queries).
struct PaletteCreator {
  std::string id;
  ColourSet palette;
  std::optional<int64_t> followers, posts_30d, last_post_at_ms;
  std::optional<double> engagement_rate, growth;
  std::optional<bool> is_business;
  scout::v1::CreatorTier tier = scout::v1::CREATOR_TIER_UNSPECIFIED;
  uint32_t topics = 0;  // Bit i: Topics()[i] (common/base/topics.h).
};

// Bit of a topic slug in PaletteCreator::topics; 0 for an unknown slug.
uint32_t TopicBit(absl::string_view slug);
// The slugs of a PaletteCreator::topics, in Topics() order.
std::vector<std::string> TopicSlugs(uint32_t bits);

// A PaletteCreator's numbers as the scan reads them: 48 bytes, not ~200.
struct PaletteNumbers {
  static constexpr int64_t kAbsent = std::numeric_limits<int64_t>::min();
  int64_t followers = kAbsent, posts_30d = kAbsent, last_post_at_ms = kAbsent;
  double engagement_rate = std::numeric_limits<double>::quiet_NaN();  // NaN: unknown.
  double growth = std::numeric_limits<double>::quiet_NaN();
  uint32_t topics = 0;
  int8_t tier = 0;
  int8_t is_business = -1;  // -1: unknown.

  static PaletteNumbers Of(const PaletteCreator& creator);
};

// The request's filters that memory can answer; unset members keep everyone.
struct PaletteFilter {
  std::optional<int64_t> min_followers, max_followers, min_posts_30d, min_last_post_at_ms;
  std::optional<double> min_engagement_rate, max_engagement_rate, min_growth;
  std::optional<bool> is_business;
  std::optional<uint32_t> tiers;  // Bit t: CreatorTier t.
  uint32_t topics = 0;            // Any of these topics; 0 keeps everyone.
  std::string exclude_id;

  bool Keeps(const PaletteCreator& creator) const;
  bool KeepsNumbers(const PaletteNumbers& numbers) const;  // All but exclude_id.
  bool KeepsEveryNumber() const;                           // No filter on numbers.
};

class PaletteIndex {
 public:
  // `codes[i]` is creators[i]'s PackPaletteVector (colour.h), or "" to
  // compute it here from the palette. Creators without a palette are
  // dropped. Sorted by id; the projection is fitted to these vectors.
  static std::shared_ptr<const PaletteIndex> Build(std::vector<PaletteCreator> creators,
                                                   std::vector<std::string> codes);

  struct Candidates {
    std::vector<uint32_t> indices;  // Into creators(), nearest projection first.
    bool more = false;              // The filter kept more creators than these.
  };
  // The `n` creators kept by `filter` whose projected vectors are nearest
  // `target`'s. Empty target: none.
  Candidates Nearest(const ColourSet& target, const PaletteFilter& filter, size_t n) const;

  struct Hit {
    uint32_t index = 0;   // Into creators().
    double distance = 0;  // Exact PaletteDistance to the target.
    double rank = 0;      // weight x distance.
  };
  // The `needed` of `indices` with the least weight x exact distance to
  // `target` (weights[k] for indices[k]; 1 without weights), least first,
  // ties by id. The others' distances are never solved when a lower bound
  // already puts them out (Ciede2000Below's, then PaletteDistanceBelow's),
  // which is most of them. One thread.
  std::vector<Hit> Rank(const ColourSet& target, const std::vector<uint32_t>& indices,
                        size_t needed, const std::vector<double>* weights = nullptr) const;

  const std::vector<PaletteCreator>& creators() const { return creators_; }
  // The creator's position in creators(), nullopt when it has no palette.
  std::optional<uint32_t> Find(absl::string_view id) const;

 private:
  // A palette's colours in single precision, for Rank's lower bounds:
  // kSlots per creator, weights normalised; unused slots repeat the first
  // colour with weight 0 (which changes no nearest-colour sum).
  static constexpr int kSlots = 6;
  struct Slot {
    float l = 0, a = 0, b = 0, weight = 0;
  };
  // False, slots untouched, for an empty palette or one of more than kSlots.
  static bool FillSlots(const ColourSet& palette, Slot* slots);
  // A lower bound of the transport between x's first `rows` slots and y's
  // kSlots with these costs (row-major, kSlots per row).
  static float TransportBelow(const float* cost, int rows, const Slot* x, const Slot* y);

  std::array<float, kPaletteProjectionDims> Project(const std::vector<float>& vector) const;

  std::vector<PaletteCreator> creators_;
  std::vector<PaletteNumbers> numbers_;  // Parallel to creators_.
  std::vector<float> mean_;              // kPaletteVectorDims.
  std::vector<float> basis_;             // kPaletteProjectionDims rows of kPaletteVectorDims.
  // The projections, kPaletteProjectionDims bytes per creator: the scan
  // reads 16 MB at 500,000 creators instead of 64. Coordinate = byte x scale_.
  std::vector<int8_t> projected_;
  float scale_ = 1;
  std::vector<Slot> slots_;       // kSlots per creator (96 bytes).
  std::vector<uint8_t> slotted_;  // 1 when the creator's slots hold its palette.
};

class PaletteIndexLoader {
 public:
  PaletteIndexLoader(Elastic* elastic, std::string read_alias, absl::Duration poll_interval);
  ~PaletteIndexLoader() = default;  // Stops the poller first (declared last).

  // Loads the index when it changed since the last load (at once for the
  // first load; otherwise once the change has held still for one call).
  absl::Status Refresh();
  void Start();  // Refresh every poll interval, in the background.

  // Null until the first load succeeded.
  std::shared_ptr<const PaletteIndex> Current() const { return current_.load(); }

 private:
  absl::StatusOr<std::string> Stamp() const;
  absl::StatusOr<std::shared_ptr<const PaletteIndex>> Load() const;

  Elastic* const elastic_;
  const std::string alias_;
  const absl::Duration poll_interval_;
  std::mutex refresh_mu_;  // One refresh at a time.
  std::string loaded_stamp_, seen_stamp_;
  std::atomic<std::shared_ptr<const PaletteIndex>> current_;
  std::unique_ptr<Periodic> poller_;
};

}  // namespace scout::server
