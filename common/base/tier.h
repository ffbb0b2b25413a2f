// Follower tiers, the one definition shared by the warehouse's benchmark SQL
// (scout-aggregate), the creators index and the server: nano < 10k <= micro
// < 100k <= mid < 500k <= macro < 1M <= mega. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "scout/v1/types.pb.h"

namespace scout {

// The tier of a follower count (negative counts are nano).
scout::v1::CreatorTier TierOf(int64_t followers);
// "nano", "micro", "mid", "macro", "mega"; "" for UNSPECIFIED. What the
// warehouse and the creators index store.
absl::string_view TierSlug(scout::v1::CreatorTier tier);
std::optional<scout::v1::CreatorTier> TierFromSlug(absl::string_view slug);
// Followers in [min, max) of the tier; max is nullopt for mega.
int64_t TierMinFollowers(scout::v1::CreatorTier tier);
std::optional<int64_t> TierMaxFollowers(scout::v1::CreatorTier tier);

// `CASE WHEN <column> < 10000 THEN 'nano' ... END`: the same thresholds in
// SQL that runs on PostgreSQL and Redshift.
std::string TierSqlCase(absl::string_view followers_column);

}  // namespace scout
