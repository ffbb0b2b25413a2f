// common/base/tier.h: the follower tiers' boundaries, slugs and the SQL
// CASE that the warehouse benchmarks group by.
#include "common/base/tier.h"

#include <gtest/gtest.h>

namespace scout {
namespace {

using scout::v1::CreatorTier;

TEST(TierTest, BoundariesAreLowerInclusive) {
  EXPECT_EQ(TierOf(-5), scout::v1::CREATOR_TIER_NANO);
  EXPECT_EQ(TierOf(0), scout::v1::CREATOR_TIER_NANO);
  EXPECT_EQ(TierOf(9'999), scout::v1::CREATOR_TIER_NANO);
  EXPECT_EQ(TierOf(10'000), scout::v1::CREATOR_TIER_MICRO);
  EXPECT_EQ(TierOf(99'999), scout::v1::CREATOR_TIER_MICRO);
  EXPECT_EQ(TierOf(100'000), scout::v1::CREATOR_TIER_MID);
  EXPECT_EQ(TierOf(499'999), scout::v1::CREATOR_TIER_MID);
  EXPECT_EQ(TierOf(500'000), scout::v1::CREATOR_TIER_MACRO);
  EXPECT_EQ(TierOf(999'999), scout::v1::CREATOR_TIER_MACRO);
  EXPECT_EQ(TierOf(1'000'000), scout::v1::CREATOR_TIER_MEGA);
  EXPECT_EQ(TierOf(INT64_MAX), scout::v1::CREATOR_TIER_MEGA);
}

TEST(TierTest, SlugsRoundTrip) {
  const std::pair<CreatorTier, const char*> tiers[] = {{scout::v1::CREATOR_TIER_NANO, "nano"},
                                                       {scout::v1::CREATOR_TIER_MICRO, "micro"},
                                                       {scout::v1::CREATOR_TIER_MID, "mid"},
                                                       {scout::v1::CREATOR_TIER_MACRO, "macro"},
                                                       {scout::v1::CREATOR_TIER_MEGA, "mega"}};
  for (const auto& [tier, slug] : tiers) {
    EXPECT_EQ(TierSlug(tier), slug);
    ASSERT_TRUE(TierFromSlug(slug).has_value()) << slug;
    EXPECT_EQ(*TierFromSlug(slug), tier);
  }
  EXPECT_EQ(TierSlug(scout::v1::CREATOR_TIER_UNSPECIFIED), "");
  EXPECT_FALSE(TierFromSlug("").has_value());
  EXPECT_FALSE(TierFromSlug("NANO").has_value());  // Slugs are exact.
  EXPECT_FALSE(TierFromSlug("giga").has_value());
}

TEST(TierTest, MinAndMaxFollowersMatchTierOf) {
  for (int t = scout::v1::CREATOR_TIER_NANO; t <= scout::v1::CREATOR_TIER_MEGA; ++t) {
    const auto tier = static_cast<CreatorTier>(t);
    const int64_t min = TierMinFollowers(tier);
    EXPECT_EQ(TierOf(min), tier) << t;
    if (min > 0) {
      EXPECT_NE(TierOf(min - 1), tier) << t;
    }
    const std::optional<int64_t> max = TierMaxFollowers(tier);
    if (tier == scout::v1::CREATOR_TIER_MEGA) {
      EXPECT_FALSE(max.has_value());
    } else {
      ASSERT_TRUE(max.has_value()) << t;
      EXPECT_EQ(TierOf(*max - 1), tier) << t;
      EXPECT_NE(TierOf(*max), tier) << t;
    }
  }
  EXPECT_EQ(TierMinFollowers(scout::v1::CREATOR_TIER_NANO), 0);
  EXPECT_EQ(*TierMaxFollowers(scout::v1::CREATOR_TIER_MID), 500'000);
}

TEST(TierTest, SqlCaseHasTheSameThresholds) {
  EXPECT_EQ(TierSqlCase("followers_count"),
            "CASE WHEN followers_count < 10000 THEN 'nano' WHEN followers_count < 100000 THEN "
            "'micro' WHEN followers_count < 500000 THEN 'mid' WHEN followers_count < 1000000 THEN "
            "'macro' ELSE 'mega' END");
}

}  // namespace
}  // namespace scout
