// CreatorSearch: SearchCreators over the creators index (creator_index.h).
// Validates every request field (INVALID_ARGUMENT names it) and builds
// structured query DSL only: user text is only ever a match query's value.
// Two ways to rank:
// - Filters, text and numbers sort in Elasticsearch and page with
//   search_after (sort value, then the id as the unique tiebreaker).
// - Palette and lookalike searches (`palette`, `similar_to` with a palette)
//   rank in memory (palette_index.h): the kPalettePool creators nearest the
//   target among those the filters keep, by exact PaletteDistance, then
//   sorted as asked; pages are cut from that pool (the offset travels in the
//   page token) and their documents fetched by id. Filters memory cannot
//   answer (text, hashtags, mentions) are checked by Elasticsearch on the
//   kConfirmPool nearest candidates first.
// Thread-safe: holds only immutable state and thread-safe dependencies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/base/clock.h"
#include "common/base/colour.h"
#include "scout/v1/service.pb.h"
#include "server/palette_index.h"
#include "server/profiles.h"

namespace scout::server {

inline constexpr int kMaxPaletteColours = 6;
// Palette searches rank this many nearest candidates at most (their exact
// distances; recall measured in bench/RESULTS.md). With text or tag filters,
// Elasticsearch checks this many nearest candidates for them first.
inline constexpr int kPalettePool = 3000;
inline constexpr int kConfirmPool = 10000;
// Lookalikes: each of the target's topics a candidate shares makes its
// palette distance count this much less (3 shared: 0.55 of the distance).
inline constexpr double kSharedTopicDiscount = 0.15;
inline constexpr size_t kMaxCreatorIdLength = 32;

class CreatorSearch {
 public:
  // `profiles` (may be null) gives each hit its engagement_percentile;
  // `palettes` (may be null: palette searches are then UNAVAILABLE) ranks
  // palette and lookalike searches.
  CreatorSearch(Elastic* elastic, const Clock* clock, std::string read_alias,
                const ProfileStore* profiles, const PaletteIndexLoader* palettes)
      : elastic_(elastic),
        clock_(clock),
        alias_(std::move(read_alias)),
        profiles_(profiles),
        palettes_(palettes) {}

  // `deadline` bounds each Elasticsearch call. Errors: INVALID_ARGUMENT for
  // the request, NOT_FOUND for a `similar_to` creator that is not indexed,
  // UNAVAILABLE / DEADLINE_EXCEEDED for the backend, INTERNAL for a query
  // Elasticsearch refuses (our bug) or an answer that is not a search answer.
  absl::StatusOr<scout::v1::SearchCreatorsResponse> Search(
      const scout::v1::SearchCreatorsRequest& request, absl::Time deadline) const;

  // The creator a lookalike search starts from (read from its document).
  struct Lookalike {
    std::string id;
    scout::v1::CreatorTier tier = scout::v1::CREATOR_TIER_UNSPECIFIED;
    std::vector<std::string> topics;
    ColourSet palette;  // Empty without a palette: then topics + tier rank.
  };

  // The Elasticsearch request for `request` (exposed for tests).
  struct Query {
    nlohmann::json body;
    scout::v1::CreatorSort sort = scout::v1::CREATOR_SORT_UNSPECIFIED;  // Resolved.
    int page_size = 0;
    int64_t returned_before = 0;  // Hits served on earlier pages (the pool offset).
    // Pool searches (ranked in memory): the target, the filters memory
    // answers, the lookalike's topics; `body` is then the query that checks
    // the others on candidates (null when there are none).
    bool pool = false;
    ColourSet target;
    PaletteFilter filter;
    std::vector<std::string> favoured_topics;
  };
  // Checks every field but what needs the index (`similar_to` existing).
  absl::Status Validate(const scout::v1::SearchCreatorsRequest& request) const;
  // `like` must be given exactly when request.similar_to() is set.
  absl::StatusOr<Query> BuildQuery(const scout::v1::SearchCreatorsRequest& request,
                                   const Lookalike* like) const;

 private:
  absl::StatusOr<Lookalike> ReadLookalike(const std::string& id, absl::Time deadline) const;
  absl::StatusOr<scout::v1::SearchCreatorsResponse> ReadPage(
      const scout::v1::SearchCreatorsRequest& request, const Query& query,
      const nlohmann::json& answer) const;
  absl::StatusOr<scout::v1::SearchCreatorsResponse> RankPool(
      const scout::v1::SearchCreatorsRequest& request, const Query& query,
      absl::Time deadline) const;
  // A hit's Creator with why it matched (palette_distance aside).
  absl::StatusOr<scout::v1::Creator> ToCreator(const scout::v1::SearchCreatorsRequest& request,
                                               const nlohmann::json& source,
                                               const TierCentiles* centiles) const;

  Elastic* const elastic_;
  const Clock* const clock_;
  const std::string alias_;
  const ProfileStore* const profiles_;
  const PaletteIndexLoader* const palettes_;
};

// "#rrggbb" or "#rrggbb:weight" (weight > 0); INVALID_ARGUMENT naming
// palette[index] otherwise. Exposed for tests and scoutctl's docs.
absl::StatusOr<WeightedColour> ParsePaletteColour(absl::string_view text, int index);

}  // namespace scout::server
