// PaletteIndex: the in-memory palette search against brute force by
// PaletteDistance, each filter against the creators' numbers, and the stored
// vector codes standing in for computed ones.
#include "server/palette_index.h"

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/colour.h"
#include "common/base/tier.h"
#include "common/base/topics.h"

namespace scout::server {
namespace {

ColourSet RandomPalette(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> size(1, 6), channel(0, 255);
  std::exponential_distribution<double> weight(1.0);
  std::vector<WeightedColour> colours;
  for (int i = size(rng); i > 0; --i) {
    colours.push_back({SrgbToLab(channel(rng), channel(rng), channel(rng)), weight(rng) + 0.02});
  }
  return MakeColourSet(std::move(colours));
}

std::vector<PaletteCreator> Creators(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<PaletteCreator> creators;
  for (int i = 0; i < n; ++i) {
    PaletteCreator c;
    c.id = std::to_string(1000 + i);
    c.palette = RandomPalette(rng);
    c.followers = std::uniform_int_distribution<int64_t>(100, 2000000)(rng);
    c.tier = TierOf(*c.followers);
    if (i % 7 != 0) c.engagement_rate = std::uniform_real_distribution<double>(0, 0.2)(rng);
    if (i % 5 != 0) c.growth = std::uniform_real_distribution<double>(-0.1, 0.3)(rng);
    c.posts_30d = i % 31;
    c.last_post_at_ms = int64_t{1700000000000} + i * int64_t{3600000};
    c.is_business = i % 3 == 0;
    c.topics = TopicBit("food") * (i % 2) | TopicBit("travel") * (i % 3 == 1);
    creators.push_back(std::move(c));
  }
  return creators;
}

// The ids `filter` keeps, nearest `target` first, by brute force.
std::vector<std::string> BruteForce(const std::vector<PaletteCreator>& creators,
                                    const ColourSet& target, const PaletteFilter& filter,
                                    size_t top) {
  std::vector<std::pair<double, std::string>> all;
  for (const PaletteCreator& c : creators) {
    if (filter.Keeps(c)) all.emplace_back(PaletteDistance(target, c.palette), c.id);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> ids;
  for (size_t i = 0; i < std::min(top, all.size()); ++i) ids.push_back(all[i].second);
  return ids;
}

std::vector<std::string> Search(const PaletteIndex& index, const ColourSet& target,
                                const PaletteFilter& filter, size_t pool, size_t top) {
  const PaletteIndex::Candidates candidates = index.Nearest(target, filter, pool);
  std::vector<std::string> ids;
  for (const PaletteIndex::Hit& hit : index.Rank(target, candidates.indices, top)) {
    if (ids.size() == top) break;
    ids.push_back(index.creators()[hit.index].id);
  }
  return ids;
}

TEST(PaletteIndexTest, APoolAsLargeAsTheIndexIsBruteForce) {
  const std::vector<PaletteCreator> creators = Creators(300, 1);
  const auto index = PaletteIndex::Build(creators, {});
  ASSERT_EQ(index->creators().size(), creators.size());
  std::mt19937_64 rng(9);
  for (int q = 0; q < 10; ++q) {
    const ColourSet target = RandomPalette(rng);
    EXPECT_EQ(Search(*index, target, {}, creators.size(), 300),
              BruteForce(creators, target, {}, 300))
        << q;
  }
}

TEST(PaletteIndexTest, ASmallPoolStillFindsMostOfTheExactTop20) {
  // 3,000 palettes, a pool of 300 (10 %): the projection must keep nearly
  // all of the exact top 20 (docs/palette-search.md has the figures).
  const std::vector<PaletteCreator> creators = Creators(3000, 2);
  const auto index = PaletteIndex::Build(creators, {});
  std::mt19937_64 rng(10);
  int found = 0, wanted = 0;
  for (int q = 0; q < 20; ++q) {
    const ColourSet target = RandomPalette(rng);
    const std::vector<std::string> exact = BruteForce(creators, target, {}, 20);
    const std::vector<std::string> got = Search(*index, target, {}, 300, 20);
    for (const std::string& id : exact) found += std::count(got.begin(), got.end(), id);
    wanted += 20;
  }
  EXPECT_GE(found, wanted * 95 / 100) << found << " of " << wanted;
}

TEST(PaletteIndexTest, EachFilterKeepsExactlyWhatItSays) {
  const std::vector<PaletteCreator> creators = Creators(400, 3);
  const auto index = PaletteIndex::Build(creators, {});
  std::vector<PaletteFilter> filters(10);
  filters[0].min_followers = 50000;
  filters[1].max_followers = 20000;
  filters[2].min_engagement_rate = 0.1;
  filters[3].max_engagement_rate = 0.05;
  filters[4].min_growth = 0.1;
  filters[5].min_posts_30d = 20;
  filters[6].is_business = true;
  filters[7].tiers = (1u << v1::CREATOR_TIER_NANO) | (1u << v1::CREATOR_TIER_MEGA);
  filters[8].topics = TopicBit("travel");
  filters[9].min_last_post_at_ms = int64_t{1700000000000} + 300 * int64_t{3600000};
  filters[9].exclude_id = "1350";
  std::mt19937_64 rng(11);
  const ColourSet target = RandomPalette(rng);
  for (size_t k = 0; k < filters.size(); ++k) {
    const PaletteFilter& filter = filters[k];
    // Independently: the numbers each filter tests.
    int64_t expected = 0;
    for (size_t i = 0; i < creators.size(); ++i) {
      const PaletteCreator& c = creators[i];
      const bool keep = k == 0   ? *c.followers >= 50000
                        : k == 1 ? *c.followers <= 20000
                        : k == 2 ? c.engagement_rate && *c.engagement_rate >= 0.1
                        : k == 3 ? c.engagement_rate && *c.engagement_rate <= 0.05
                        : k == 4 ? c.growth && *c.growth >= 0.1
                        : k == 5 ? *c.posts_30d >= 20
                        : k == 6 ? *c.is_business
                        : k == 7
                            ? c.tier == v1::CREATOR_TIER_NANO || c.tier == v1::CREATOR_TIER_MEGA
                        : k == 8 ? i % 3 == 1
                                 : i >= 300 && c.id != "1350";
      expected += keep ? 1 : 0;
    }
    const PaletteIndex::Candidates candidates = index->Nearest(target, filter, creators.size());
    EXPECT_FALSE(candidates.more) << "filter " << k;
    EXPECT_EQ(static_cast<int64_t>(candidates.indices.size()), expected) << "filter " << k;
    // A pool smaller than the matches says there were more, and only then.
    for (const size_t pool : {size_t{5}, size_t{40}}) {
      const PaletteIndex::Candidates few = index->Nearest(target, filter, pool);
      EXPECT_EQ(few.more, expected > static_cast<int64_t>(pool)) << "filter " << k << " " << pool;
      EXPECT_EQ(few.indices.size(), std::min<size_t>(pool, expected)) << "filter " << k;
    }
    EXPECT_EQ(Search(*index, target, filter, creators.size(), creators.size()),
              BruteForce(creators, target, filter, creators.size()))
        << "filter " << k;
  }
}

TEST(PaletteIndexTest, StoredCodesRankLikeComputedVectors) {
  std::vector<PaletteCreator> creators = Creators(500, 4);
  std::vector<std::string> codes;
  for (const PaletteCreator& c : creators)
    codes.push_back(PackPaletteVector(PaletteVector(c.palette)));
  // A creator without a palette is left out; a bad code is recomputed.
  creators[7].palette.clear();
  codes[8] = "not a code";
  const auto stored = PaletteIndex::Build(creators, codes);
  const auto computed = PaletteIndex::Build(creators, {});
  EXPECT_EQ(stored->creators().size(), 499u);
  EXPECT_FALSE(stored->Find(creators[7].id).has_value());
  ASSERT_TRUE(stored->Find(creators[8].id).has_value());
  std::mt19937_64 rng(12);
  int same = 0;
  for (int q = 0; q < 10; ++q) {
    const ColourSet target = RandomPalette(rng);
    same += Search(*stored, target, {}, 50, 10) == Search(*computed, target, {}, 50, 10);
  }
  EXPECT_GE(same, 9);  // Quantisation may swap a near tie, rarely.
}

TEST(PaletteIndexTest, RankingTheFirstFewIsTheHeadOfRankingAllAndHonoursWeights) {
  const std::vector<PaletteCreator> creators = Creators(600, 6);
  const auto index = PaletteIndex::Build(creators, {});
  std::mt19937_64 rng(14);
  std::vector<uint32_t> all(index->creators().size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<double> weights;
  for (size_t k = 0; k < all.size(); ++k) weights.push_back(k % 4 == 0 ? 0.55 : 1.0);
  for (const std::vector<double>* w : {static_cast<const std::vector<double>*>(nullptr),
                                       static_cast<const std::vector<double>*>(&weights)}) {
    const ColourSet target = RandomPalette(rng);
    // Independently: every exact distance, weighted, sorted.
    std::vector<std::tuple<double, std::string, double>> expected;
    for (size_t k = 0; k < all.size(); ++k) {
      const PaletteCreator& c = index->creators()[all[k]];
      const double d = PaletteDistance(target, c.palette);
      expected.emplace_back((w ? (*w)[k] : 1.0) * d, c.id, d);
    }
    std::sort(expected.begin(), expected.end());
    for (const size_t needed : {size_t{1}, size_t{20}, size_t{45}, all.size()}) {
      const std::vector<PaletteIndex::Hit> hits = index->Rank(target, all, needed, w);
      ASSERT_EQ(hits.size(), needed);
      for (size_t i = 0; i < needed; ++i) {
        EXPECT_EQ(index->creators()[hits[i].index].id, std::get<1>(expected[i])) << i;
        EXPECT_NEAR(hits[i].distance, std::get<2>(expected[i]), 1e-9) << i;
        EXPECT_NEAR(hits[i].rank, std::get<0>(expected[i]), 1e-9) << i;
      }
    }
  }
}

TEST(PaletteIndexTest, TopicBitsRoundTripToSlugs) {
  const std::vector<std::string> slugs = TopicSlugs(TopicBit("travel") | TopicBit("food"));
  std::vector<std::string> expected;
  for (const TopicInfo& topic : Topics()) {
    if (topic.slug == "food" || topic.slug == "travel") expected.emplace_back(topic.slug);
  }
  EXPECT_EQ(slugs, expected);
  EXPECT_EQ(expected.size(), 2u);
  EXPECT_TRUE(TopicSlugs(0).empty());
  EXPECT_EQ(TopicBit("no-such-topic"), 0u);
}

TEST(PaletteIndexTest, AnEmptyIndexOrTargetFindsNothing) {
  const auto empty = PaletteIndex::Build({}, {});
  std::mt19937_64 rng(13);
  EXPECT_TRUE(empty->Nearest(RandomPalette(rng), {}, 10).indices.empty());
  const auto index = PaletteIndex::Build(Creators(20, 5), {});
  const PaletteIndex::Candidates none = index->Nearest({}, {}, 10);
  EXPECT_TRUE(none.indices.empty());
  EXPECT_EQ(index->Find("1005").value_or(99), 5u);
  EXPECT_FALSE(index->Find("999").has_value());
}

}  // namespace
}  // namespace scout::server
