#include "common/base/tier.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace scout {
namespace {

using scout::v1::CreatorTier;

struct TierRow {
  CreatorTier tier;
  absl::string_view slug;
  int64_t min_followers;
};

constexpr std::array<TierRow, 5> kTiers = {{
    {scout::v1::CREATOR_TIER_NANO, "nano", 0},
    {scout::v1::CREATOR_TIER_MICRO, "micro", 10'000},
    {scout::v1::CREATOR_TIER_MID, "mid", 100'000},
    {scout::v1::CREATOR_TIER_MACRO, "macro", 500'000},
    {scout::v1::CREATOR_TIER_MEGA, "mega", 1'000'000},
}};

const TierRow* Find(CreatorTier tier) {
  for (const TierRow& row : kTiers) {
    if (row.tier == tier) return &row;
  }
  return nullptr;
}

}  // namespace

CreatorTier TierOf(int64_t followers) {
  CreatorTier tier = kTiers.front().tier;
  for (const TierRow& row : kTiers) {
    if (followers >= row.min_followers) tier = row.tier;
  }
  return tier;
}

absl::string_view TierSlug(CreatorTier tier) {
  const TierRow* row = Find(tier);
  return row == nullptr ? "" : row->slug;
}

std::optional<CreatorTier> TierFromSlug(absl::string_view slug) {
  for (const TierRow& row : kTiers) {
    if (row.slug == slug) return row.tier;
  }
  return std::nullopt;
}

int64_t TierMinFollowers(CreatorTier tier) {
  const TierRow* row = Find(tier);
  return row == nullptr ? 0 : row->min_followers;
}

std::optional<int64_t> TierMaxFollowers(CreatorTier tier) {
  for (size_t i = 0; i + 1 < kTiers.size(); ++i) {
    if (kTiers[i].tier == tier) return kTiers[i + 1].min_followers;
  }
  return std::nullopt;
}

std::string TierSqlCase(absl::string_view followers_column) {
  std::string sql = "CASE";
  for (size_t i = 0; i + 1 < kTiers.size(); ++i) {
    absl::StrAppend(&sql, " WHEN ", followers_column, " < ", kTiers[i + 1].min_followers, " THEN '",
                    kTiers[i].slug, "'");
  }
  absl::StrAppend(&sql, " ELSE '", kTiers.back().slug, "' END");
  return sql;
}

}  // namespace scout
