// The creators index in Elasticsearch: one document per creator, for
// SearchCreators. The one owner of the creator document: index names, the
// mapping, field names, building a document from the warehouse rows and
// reading one back. Written by scout-aggregate (whole documents of the
// creators it loaded) and scout-palette (the palette fields); rebuilt from
// the warehouse into a fresh index that the read alias then points to, so a
// half-written rebuild is never what readers see. Pure functions are
// thread-safe; the writers are thread-compatible.
//
// Documents are written through the alias `<prefix>.creators`, which points to
// exactly one generation `<prefix>.creators-<n>`; the document id is the
// creator id, so a rerun overwrites rather than duplicates.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/creator_content.h"
#include "common/backends/elastic.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/colour.h"
#include "common/base/process.h"
#include "scout/v1/types.pb.h"

namespace scout {

namespace creator_field {
inline constexpr char kId[] = "id";
inline constexpr char kUsername[] = "username";
inline constexpr char kName[] = "name";
inline constexpr char kBiography[] = "biography";
inline constexpr char kHasWebsite[] = "has_website";
inline constexpr char kIsBusiness[] = "is_business";
inline constexpr char kFollowsCount[] = "follows_count";
inline constexpr char kMediaCount[] = "media_count";
inline constexpr char kPictureUrl[] = "profile_picture_url";
inline constexpr char kFollowers[] = "followers_count";
inline constexpr char kTier[] = "tier";  // TierSlug.
inline constexpr char kEngagementRate[] = "engagement_rate";
inline constexpr char kEngAvg[] = "eng_avg";
inline constexpr char kPosts30d[] = "posts_30d";
inline constexpr char kGrowth[] = "follower_growth_30d";
inline constexpr char kLastPostAt[] = "last_post_at";
inline constexpr char kAvgReach[] = "avg_reach";
inline constexpr char kAvgImpressions[] = "avg_impressions";
inline constexpr char kFollowersDaily[] = "followers_daily";  // _source only.
inline constexpr char kHashtags[] = "hashtags";               // _source only: [{tag, count}].
inline constexpr char kMentions[] = "mentions";               // _source only: [{tag, count}].
inline constexpr char kHashtagKeys[] = "hashtag_keys";        // Folded, as posts' hashtag_keys.
inline constexpr char kMentionKeys[] = "mention_keys";
inline constexpr char kTopics[] = "topics";             // Slugs.
inline constexpr char kTopicShares[] = "topic_shares";  // _source only: [{slug, share}].
// Folded text (FoldForSearch), indexed only: username + name, biography, captions.
inline constexpr char kNameFolded[] = "name_folded";
inline constexpr char kBioFolded[] = "biography_folded";
inline constexpr char kCaptionsFolded[] = "captions_folded";
inline constexpr char kPalette[] = "palette";  // _source only: the Palette as proto JSON.
// binary, doc values only (PaletteCode: base64 of PackPaletteVector): the
// palette vector the server's in-memory palette index loads. Not indexed (no
// kNN graph to build) and not in _source (the rebuild recomputes it from the
// warehouse). Generations created before it have palette_vector instead;
// EnsureCreatorIndex adds palette_code to them, a rebuild fills it.
inline constexpr char kPaletteCode[] = "palette_code";
// Doc values only (PaletteKey): the palette's colours and shares, read
// without loading the documents' _source.
inline constexpr char kPaletteKey[] = "palette_key";
inline constexpr char kStatsDate[] = "as_of";
inline constexpr char kPaletteComputedAt[] = "palette_computed_at";
inline constexpr char kLoadVersion[] = "load_version";
}  // namespace creator_field

// The read (and write) alias, and a generation's index name.
std::string CreatorsAlias(absl::string_view prefix);
std::string CreatorsGeneration(absl::string_view prefix, int64_t generation);
// n of `<prefix>.creators-<n>`, nullopt for other names.
std::optional<int64_t> CreatorsGenerationOf(absl::string_view prefix, absl::string_view index);

// Settings and mappings of a generation.
nlohmann::json CreatorIndexBody();

// Creates the first generation and points the alias at it when the alias
// does not exist; teaches the current generation fields added since.
// Idempotent.
absl::Status EnsureCreatorIndex(Elastic& elastic, absl::string_view prefix);

// The whole document of a creator. `content` is null when the creator has no
// content row yet (no posts read): text, tags and topics are then empty.
std::string CreatorDocument(const ProfileFactsRow& facts, const CreatorContentRow* content);
// The palette fields only (a partial update): palette, palette_code,
// palette_key, palette_computed_at. A partial update keeps the document's
// other fields from _source, so palette_code and palette_key (not in
// _source) survive only an update that writes them again: this one.
nlohmann::json PaletteFields(const scout::v1::Palette& palette);
// INTERNAL when `source` is not a creator document.
absl::StatusOr<scout::v1::Creator> CreatorFromDocument(const nlohmann::json& source);

// The palette in the compact form of the palette_key doc value:
// "rrggbb:share,..." (lower-case hex, the share's shortest text that reads
// back as the same double), colours in the palette's order; colours without a positive
// finite share are left out, and "" means no palette.
std::string PaletteKey(const scout::v1::Palette& palette);
// The palette_code doc value: base64 (standard alphabet, padded: what
// Elasticsearch's binary type takes and docvalue_fields return) of
// PackPaletteVector(PaletteVector(ColourSetOf(palette))); "" for a palette
// without colours (such a document has no palette_code).
std::string PaletteCode(const scout::v1::Palette& palette);
// The palette vector of a PaletteCode, to within half a kPaletteVectorStep;
// empty for "". INVALID_ARGUMENT for anything else that is not base64 of
// kPaletteVectorDims bytes (read back from Elasticsearch: never trusted).
absl::StatusOr<std::vector<float>> PaletteVectorOfCode(absl::string_view code);
// The colours of a PaletteKey, as ColourSetOf(palette) gives them; empty for
// "". INVALID_ARGUMENT for anything PaletteKey does not write (the value is
// read back from Elasticsearch: never trusted).
absl::StatusOr<ColourSet> ColourSetOfPaletteKey(absl::string_view key);

struct CreatorWriteResult {
  int64_t written = 0;
  int64_t missing = 0;              // Palette updates of creators without a document yet.
  std::vector<std::string> failed;  // "id: reason", the first 100.
  int64_t failed_count = 0;
};

// Writes whole documents (id -> CreatorDocument) through the alias with the
// bulk API, retrying only the items that failed retryably. UNAVAILABLE when
// Elasticsearch is down; items it refused for good are in `failed`.
absl::StatusOr<CreatorWriteResult> WriteCreators(
    Elastic& elastic, absl::string_view prefix,
    const std::vector<std::pair<std::string, std::string>>& documents);
// Updates the palette fields of existing documents; creators without a
// document are counted in `missing` (scout-aggregate writes them whole later).
absl::StatusOr<CreatorWriteResult> WriteCreatorPalettes(
    Elastic& elastic, absl::string_view prefix, const std::vector<scout::v1::Palette>& palettes);

// The documents of the profile_facts rows of one warehouse load (their
// load_version) with their creator_content rows, written with WriteCreators
// after EnsureCreatorIndex, then made visible (refresh). scout-aggregate runs
// it after each date's transaction commits; running it again rewrites the
// same documents.
absl::StatusOr<CreatorWriteResult> WriteCreatorsOfLoad(Elastic& elastic, Warehouse& warehouse,
                                                       absl::string_view prefix,
                                                       int64_t load_version);

struct CreatorRebuildResult {
  std::string index;     // The new generation.
  std::string previous;  // The one the alias left ("" if none).
  int64_t documents = 0;
  double seconds = 0;
  // Documents Elasticsearch refused (not in the new generation): "id: reason".
  std::vector<std::string> failed;  // The first 100.
  int64_t failed_count = 0;
};
struct CreatorRebuildOptions {
  size_t page_size = 5000;     // profile_facts rows per warehouse read.
  size_t bulk_actions = 1000;  // Documents per _bulk request.
  int writers = 2;             // _bulk requests in flight (each builds its documents).
  // Polled between _bulk requests: true stops the
  // rebuild, which deletes its half-built generation and returns CANCELLED
  // (the alias keeps the previous one). Default: the process's stop signal.
  std::function<bool()> stop_requested = StopRequested;
};
// Builds a new generation from every profile_facts row and its
// creator_content row, then swaps the alias to it in one atomic alias
// update and deletes the previous generation. Readers see the old index
// until the swap. A failed rebuild deletes its half-built index (one killed
// is dropped by the next rebuild). The generation is built without refreshes
// and replicas, which it gets back before the swap.
//
// Run it alone: documents written through the alias while it runs (by
// scout-aggregate or scout-palette) go to the old generation and are gone
// with it; rerun those after. Two rebuilds at once: one fails.
absl::StatusOr<CreatorRebuildResult> RebuildCreatorIndex(Elastic& elastic, Warehouse& warehouse,
                                                         absl::string_view prefix);
absl::StatusOr<CreatorRebuildResult> RebuildCreatorIndex(Elastic& elastic, Warehouse& warehouse,
                                                         absl::string_view prefix,
                                                         const CreatorRebuildOptions& options);

}  // namespace scout
