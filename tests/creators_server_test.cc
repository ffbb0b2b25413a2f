// SearchCreators through a real channel over the real local Elasticsearch:
// a creators index seeded with documents built by CreatorDocument /
// WriteCreators from rows made here, and every filter, sort, palette and
// lookalike answer checked against values computed from those rows.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/backends/creator_index.h"
#include "common/backends/profile_facts.h"
#include "common/base/colour.h"
#include "common/base/text.h"
#include "common/base/tier.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/creators.h"
#include "server/server.h"
#include "tests/es_fixture.h"
#include "tests/services_fixture.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::Creator;
using scout::v1::SearchCreatorsRequest;
using scout::v1::SearchCreatorsResponse;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1795305600);  // 2026-11-22T00:00:00Z
constexpr int kCreators = 40;

struct Rgb {
  int r, g, b;
  double share;
};

// One seeded creator: the warehouse rows its document is built from, and
// its palette colours (to compute expected distances independently).
struct Seed {
  ProfileFactsRow facts;
  CreatorContentRow content;
  std::vector<Rgb> colours;  // Empty: no palette.
};

// Deterministic, varied creators: every tier, rates and growth with gaps,
// business or not, old and recent posts, tags, topics and palettes.
std::vector<Seed> MakeSeeds() {
  const int64_t followers[] = {800, 6000, 25000, 90000, 150000, 480000, 700000, 3000000};
  const char* topics[] = {"food", "travel", "fashion", "pets", "art"};
  std::vector<Seed> seeds;
  uint32_t random = 12345;
  const auto next = [&random](int n) {
    random = random * 1103515245u + 12345u;
    return static_cast<int>((random >> 16) % static_cast<uint32_t>(n));
  };
  for (int i = 0; i < kCreators; ++i) {
    Seed seed;
    ProfileFactsRow& f = seed.facts;
    f.creator_id = absl::StrCat(17841000 + i * 7);
    f.as_of = absl::CivilDay(2026, 11, 21);
    f.username = absl::StrCat("user", i);
    f.name = absl::StrCat("Creator ", i);
    f.biography = i % 5 == 0 ? "Crème <b>brûlée</b> & cafés in Lisboa" : "Daily life";
    f.followers_count = followers[i % 8] + i;
    f.follows_count = 100 + i;
    f.media_count = 50 + i;
    f.is_business = i % 3 == 0;
    f.doc_count = i % 11;
    f.eng_avg = 10.0 * i;
    if (i % 6 != 5) f.engagement_rate = 0.005 * (i % 13 + 1);
    if (i % 4 != 3) f.follower_growth_30d = 0.01 * (i % 9 - 4);
    if (i % 7 != 6) f.last_post_at = kNow - absl::Hours(24 * (i % 20)) - absl::Hours(1);
    if (f.is_business) {
      f.avg_reach = 100.0 + i;
      f.avg_impressions = 200.0 + i;
    }
    CreatorContentRow& c = seed.content;
    c.creator_id = f.creator_id;
    c.as_of = f.as_of;
    c.posts_90d = 3 * (i % 11);
    const auto tag = [](const char* text, int64_t count) {
      v1::TagCount tag;
      tag.set_tag(text);
      tag.set_count(count);
      return tag;
    };
    if (i % 2 == 0) c.hashtags.push_back(tag("Café", 3));
    if (i % 3 == 0) c.hashtags.push_back(tag("TravelGram", 2));
    if (i % 5 == 1) c.mentions.push_back(tag("Bob.Smith", 1));
    c.captions = {absl::StrCat("post number ", i), i % 4 == 0 ? "Pastéis de nata" : "sunset"};
    for (int t = 0; t < 1 + i % 2; ++t) {
      v1::TopicShare share;
      share.set_slug(topics[(i + t * 2) % 5]);
      share.set_share(0.5 - 0.1 * t);
      c.topics.push_back(share);
    }
    f.topics = c.topics;
    if (i % 9 != 8) {
      const int n = 2 + next(4);
      double left = 1;
      for (int k = 0; k < n; ++k) {
        const double share = k == n - 1 ? left : left * (0.3 + next(40) / 100.0);
        left -= share;
        seed.colours.push_back({next(256), next(256), next(256), share});
      }
      json colours = json::array();
      for (const Rgb& rgb : seed.colours) {
        colours.push_back({{"percentage", rgb.share},
                           {"red", rgb.r},
                           {"green", rgb.g},
                           {"blue", rgb.b},
                           {"hex", absl::StrFormat("#%02x%02x%02x", rgb.r, rgb.g, rgb.b)}});
      }
      f.palette_json = *PaletteJson(colours.dump(), kNow - absl::Hours(48), 9, 9000);
    }
    seeds.push_back(std::move(seed));
  }
  return seeds;
}

ColourSet ColoursOf(const std::vector<Rgb>& colours) {
  std::vector<WeightedColour> set;
  for (const Rgb& rgb : colours) set.push_back({SrgbToLab(rgb.r, rgb.g, rgb.b), rgb.share});
  return MakeColourSet(std::move(set));
}

class CreatorsServerTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    seeds_ = MakeSeeds();
  }

  void Index() {
    const absl::Status ensured = EnsureCreatorIndex(*elastic_, prefix_);
    ASSERT_TRUE(ensured.ok()) << ensured;
    std::vector<std::pair<std::string, std::string>> documents;
    for (const Seed& seed : seeds_) {
      documents.emplace_back(seed.facts.creator_id, CreatorDocument(seed.facts, &seed.content));
    }
    absl::StatusOr<CreatorWriteResult> written = WriteCreators(*elastic_, prefix_, documents);
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_EQ(written->written, kCreators) << absl::StrJoin(written->failed, "; ");
    ASSERT_TRUE(elastic_->Call("POST", absl::StrCat(CreatorsAlias(prefix_), "/_refresh")).ok());
  }

  void StartServer(const std::string& es_url) {
    scout::v1::Config config;
    config.set_es_url(es_url);
    config.set_listen("127.0.0.1:0");
    config.set_index_prefix(prefix_);
    config.set_now_unix(absl::ToUnixSeconds(kNow));
    absl::StatusOr<std::unique_ptr<ScoutServer>> server = ScoutServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::BrandService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Search(const SearchCreatorsRequest& request, SearchCreatorsResponse& response,
                      absl::Duration timeout = absl::Seconds(10)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return stub_->SearchCreators(&context, request, &response);
  }

  // Every hit of `request`, paging `page_size` at a time (each page checked
  // against the total).
  std::vector<Creator> All(SearchCreatorsRequest request, int page_size = 4) {
    std::vector<Creator> all;
    request.set_page_size(page_size);
    for (int page = 0; page < 100; ++page) {
      SearchCreatorsResponse response;
      const grpc::Status status = Search(request, response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const Creator& creator : response.creators()) all.push_back(creator);
      if (response.next_page_token().empty()) {
        EXPECT_EQ(static_cast<int64_t>(all.size()), response.total_size());
        break;
      }
      request.set_page_token(response.next_page_token());
    }
    return all;
  }
  std::vector<std::string> AllIds(const SearchCreatorsRequest& request, int page_size = 4) {
    std::vector<std::string> ids;
    for (const Creator& creator : All(request, page_size)) ids.push_back(creator.id());
    return ids;
  }

  // The ids of the seeds that pass `keep`, ordered by `before` then id.
  template <typename Keep, typename Key>
  std::vector<std::string> Expected(Keep keep, Key key) const {
    std::vector<const Seed*> kept;
    for (const Seed& seed : seeds_) {
      if (keep(seed)) kept.push_back(&seed);
    }
    std::sort(kept.begin(), kept.end(), [&](const Seed* a, const Seed* b) {
      const auto ka = key(*a), kb = key(*b);
      return ka != kb ? ka > kb : a->facts.creator_id < b->facts.creator_id;
    });
    std::vector<std::string> ids;
    for (const Seed* seed : kept) ids.push_back(seed->facts.creator_id);
    return ids;
  }
  static int64_t Followers(const Seed& seed) { return seed.facts.followers_count; }
  const Seed& SeedOf(const std::string& id) const {
    for (const Seed& seed : seeds_) {
      if (seed.facts.creator_id == id) return seed;
    }
    ADD_FAILURE() << "no seed " << id;
    return seeds_[0];
  }

  std::vector<Seed> seeds_;
  std::unique_ptr<ScoutServer> server_;
  std::unique_ptr<v1::BrandService::Stub> stub_;
};

const auto kAll = [](const Seed&) { return true; };
constexpr double kMissing = -1e12;  // Missing numbers sort last.

bool HasTag(const std::vector<v1::TagCount>& tags, const std::string& key) {
  return std::any_of(tags.begin(), tags.end(),
                     [&](const v1::TagCount& tag) { return TagKey(tag.tag()) == key; });
}
bool HasTopic(const Seed& seed, const std::string& slug) {
  return std::any_of(seed.content.topics.begin(), seed.content.topics.end(),
                     [&](const v1::TopicShare& topic) { return topic.slug() == slug; });
}

TEST_F(CreatorsServerTest, EachFilterAndSortMatchesTheRows) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  // No filter: everyone, most followers first, each once across pages.
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(kAll, Followers)));

  request.set_min_followers(20000);
  request.set_max_followers(500000);
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     return s.facts.followers_count >= 20000 &&
                                            s.facts.followers_count <= 500000;
                                   },
                                   Followers)));
  request.Clear();
  // Bounds between the seeded values: the index may keep rates as floats.
  request.set_min_engagement_rate(0.0175);
  request.set_max_engagement_rate(0.0525);
  request.set_sort(v1::CREATOR_SORT_ENGAGEMENT_RATE);
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     const auto& rate = s.facts.engagement_rate;
                                     return rate && *rate >= 0.0175 && *rate <= 0.0525;
                                   },
                                   [](const Seed& s) { return *s.facts.engagement_rate; })));
  request.Clear();
  request.set_sort(v1::CREATOR_SORT_ENGAGEMENT_RATE);  // Without a rate: last.
  EXPECT_THAT(AllIds(request, 7), ElementsAreArray(Expected(kAll, [](const Seed& s) {
                return s.facts.engagement_rate.value_or(kMissing);
              })));
  request.Clear();
  request.set_min_follower_growth(-0.015);
  request.set_sort(v1::CREATOR_SORT_GROWTH);
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     return s.facts.follower_growth_30d &&
                                            *s.facts.follower_growth_30d >= -0.015;
                                   },
                                   [](const Seed& s) { return *s.facts.follower_growth_30d; })));
  request.Clear();
  request.set_sort(v1::CREATOR_SORT_GROWTH);
  EXPECT_THAT(AllIds(request, 9), ElementsAreArray(Expected(kAll, [](const Seed& s) {
                return s.facts.follower_growth_30d.value_or(kMissing);
              })));
  request.Clear();
  request.set_min_posts_30d(5);
  EXPECT_THAT(
      AllIds(request),
      ElementsAreArray(Expected([](const Seed& s) { return s.facts.doc_count >= 5; }, Followers)));
  for (const bool business : {true, false}) {
    request.Clear();
    request.set_is_business(business);
    EXPECT_THAT(AllIds(request),
                ElementsAreArray(Expected(
                    [&](const Seed& s) { return s.facts.is_business == business; }, Followers)));
  }
  request.Clear();
  request.set_active_within_days(7);
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     return s.facts.last_post_at &&
                                            *s.facts.last_post_at >= kNow - absl::Hours(24 * 7);
                                   },
                                   Followers)));
  request.Clear();
  request.add_tiers(v1::CREATOR_TIER_NANO);
  request.add_tiers(v1::CREATOR_TIER_MACRO);
  EXPECT_THAT(AllIds(request), ElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     const auto tier = TierOf(s.facts.followers_count);
                                     return tier == v1::CREATOR_TIER_NANO ||
                                            tier == v1::CREATOR_TIER_MACRO;
                                   },
                                   Followers)));
}

TEST_F(CreatorsServerTest, ValuesOfAFilterAreOrFiltersAreAnd) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  request.add_hashtags("#CAFE");
  request.add_hashtags("travelgram");
  const std::vector<std::string> either = Expected(
      [](const Seed& s) {
        return HasTag(s.content.hashtags, "cafe") || HasTag(s.content.hashtags, "travelgram");
      },
      Followers);
  EXPECT_THAT(AllIds(request), ElementsAreArray(either));
  request.add_topics("food");
  request.add_topics("pets");
  request.add_mentions("@bob.smith");
  const std::vector<Creator> all = All(request);
  std::vector<std::string> ids;
  for (const Creator& creator : all) ids.push_back(creator.id());
  const std::vector<std::string> expected = Expected(
      [](const Seed& s) {
        return (HasTag(s.content.hashtags, "cafe") || HasTag(s.content.hashtags, "travelgram")) &&
               (HasTopic(s, "food") || HasTopic(s, "pets")) &&
               HasTag(s.content.mentions, "bob.smith");
      },
      Followers);
  ASSERT_FALSE(expected.empty());
  EXPECT_THAT(ids, ElementsAreArray(expected));
  // Why each matched: the tags as the creator wrote them.
  for (const Creator& creator : all) {
    std::vector<std::string> tags;
    for (const v1::TagCount& tag : SeedOf(creator.id()).content.hashtags) tags.push_back(tag.tag());
    EXPECT_THAT(creator.matched_hashtags(), ElementsAreArray(tags)) << creator.id();
    EXPECT_THAT(creator.matched_mentions(), ::testing::ElementsAre("Bob.Smith"));
  }
}

TEST_F(CreatorsServerTest, TextIsFoldedEveryWordRequiredAndTheBioHighlightEscaped) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  request.set_query("CREME Lisboa");
  const std::vector<Creator> hits = All(request);
  const std::vector<std::string> expected = Expected(
      [](const Seed& s) { return absl::StrContains(s.facts.biography, "Lisboa"); }, Followers);
  std::vector<std::string> ids;
  for (const Creator& creator : hits) ids.push_back(creator.id());
  EXPECT_THAT(ids, ::testing::UnorderedElementsAreArray(expected));
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].biography_highlight(),
            "<em>Crème</em> &lt;b&gt;brûlée&lt;/b&gt; &amp; cafés in <em>Lisboa</em>");
  EXPECT_EQ(hits[0].biography(), "Crème <b>brûlée</b> & cafés in Lisboa");
  // Words across fields (bio and captions), each required.
  request.set_query("creme pasteis");
  EXPECT_THAT(AllIds(request), ::testing::UnorderedElementsAreArray(Expected(
                                   [](const Seed& s) {
                                     return absl::StrContains(s.facts.biography, "Crème") &&
                                            absl::StrContains(s.content.captions[1], "Pastéis");
                                   },
                                   Followers)));
  request.set_query("creme nowhere-to-be-found");
  EXPECT_TRUE(AllIds(request).empty());
}

TEST_F(CreatorsServerTest, EveryCreatorFieldComesBack) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  request.set_min_followers(seeds_[0].facts.followers_count);
  request.set_max_followers(seeds_[0].facts.followers_count);
  SearchCreatorsResponse response;
  ASSERT_TRUE(Search(request, response).ok());
  ASSERT_EQ(response.creators_size(), 1);
  const Creator& c = response.creators(0);
  const ProfileFactsRow& f = seeds_[0].facts;
  EXPECT_EQ(c.id(), f.creator_id);
  EXPECT_EQ(c.username(), f.username);
  EXPECT_EQ(c.name(), f.name);
  EXPECT_EQ(c.followers_count(), f.followers_count);
  EXPECT_DOUBLE_EQ(c.engagement_rate(), *f.engagement_rate);
  EXPECT_DOUBLE_EQ(c.follower_growth_30d(), *f.follower_growth_30d);
  EXPECT_EQ(c.posts_30d(), f.doc_count);
  EXPECT_EQ(c.is_business(), f.is_business);
  EXPECT_EQ(c.tier(), TierOf(f.followers_count));
  EXPECT_EQ(c.topics_size(), static_cast<int>(f.topics.size()));
  EXPECT_EQ(c.palette().colors_size(), static_cast<int>(seeds_[0].colours.size()));
  EXPECT_EQ(c.as_of(), "2026-11-21");
  EXPECT_FALSE(c.has_palette_distance());
}

TEST_F(CreatorsServerTest, PaletteSearchReturnsTheBruteForceNearest) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  request.add_palette("#e8d5c4:3");
  request.add_palette("#a0522d:1");
  request.add_palette("#2f4f4f");
  const ColourSet target = MakeColourSet({{SrgbToLab(0xe8, 0xd5, 0xc4), 3},
                                          {SrgbToLab(0xa0, 0x52, 0x2d), 1},
                                          {SrgbToLab(0x2f, 0x4f, 0x4f), 1}});
  std::vector<std::pair<double, std::string>> brute;
  for (const Seed& seed : seeds_) {
    if (seed.colours.empty()) continue;  // Without a palette: absent.
    brute.emplace_back(PaletteDistance(target, ColoursOf(seed.colours)), seed.facts.creator_id);
  }
  std::sort(brute.begin(), brute.end());
  const std::vector<Creator> all = All(request, 6);
  ASSERT_EQ(all.size(), brute.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id(), brute[i].second) << i;
    EXPECT_NEAR(all[i].palette_distance(), brute[i].first, 1e-6) << i;
  }
  // With a filter: the filtered nearest.
  request.add_tiers(v1::CREATOR_TIER_MICRO);
  std::vector<std::string> expected;
  for (const auto& [distance, id] : brute) {
    if (TierOf(SeedOf(id).facts.followers_count) == v1::CREATOR_TIER_MICRO) expected.push_back(id);
  }
  EXPECT_THAT(AllIds(request, 2), ElementsAreArray(expected));
  // With a tag filter, which Elasticsearch checks on the nearest candidates.
  request.clear_tiers();
  request.add_hashtags("#CAFE");
  expected.clear();
  for (const auto& [distance, id] : brute) {
    if (HasTag(SeedOf(id).content.hashtags, "cafe")) expected.push_back(id);
  }
  ASSERT_FALSE(expected.empty());
  ASSERT_LT(expected.size(), brute.size());
  EXPECT_THAT(AllIds(request, 3), ElementsAreArray(expected));
}

TEST_F(CreatorsServerTest, LookalikesStayInTierNeverThemselvesAndFavourSharedTopics) {
  Index();
  StartServer(es_url_);
  for (const Seed& like : seeds_) {
    SearchCreatorsRequest request;
    request.set_similar_to(like.facts.creator_id);
    const std::vector<Creator> all = All(request, 10);
    const int tier = TierOf(like.facts.followers_count);
    std::set<std::string> seen;
    for (const Creator& creator : all) {
      EXPECT_NE(creator.id(), like.facts.creator_id);
      EXPECT_LE(std::abs(static_cast<int>(creator.tier()) - tier), 1) << creator.id();
      EXPECT_TRUE(seen.insert(creator.id()).second) << creator.id();
    }
    // Everyone in the tiers around it (with a palette when it has one).
    size_t expected = 0;
    for (const Seed& seed : seeds_) {
      expected += seed.facts.creator_id != like.facts.creator_id &&
                  std::abs(static_cast<int>(TierOf(seed.facts.followers_count)) - tier) <= 1 &&
                  (like.colours.empty() || !seed.colours.empty());
    }
    EXPECT_EQ(all.size(), expected) << like.facts.creator_id;
    if (like.colours.empty()) continue;
    // Ranked by palette distance, each shared topic discounting it.
    const ColourSet target = ColoursOf(like.colours);
    double previous = -1;
    for (const Creator& creator : all) {
      const Seed& seed = SeedOf(creator.id());
      int shared = 0;
      for (const auto& topic : like.content.topics) shared += HasTopic(seed, topic.slug());
      const double distance = PaletteDistance(target, ColoursOf(seed.colours));
      EXPECT_NEAR(creator.palette_distance(), distance, 1e-6);
      const double rank = distance * (1 - kSharedTopicDiscount * shared);
      EXPECT_GE(rank, previous - 1e-9) << creator.id();
      previous = rank;
    }
  }
  SearchCreatorsRequest unknown;
  unknown.set_similar_to("999999999");
  SearchCreatorsResponse response;
  EXPECT_EQ(Search(unknown, response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CreatorsServerTest, ALookalikeWithoutAPaletteRanksBySharedTopicsThenTier) {
  Index();
  StartServer(es_url_);
  const Seed* like = nullptr;
  for (const Seed& seed : seeds_) {
    if (seed.colours.empty() && seed.content.topics.size() == 2) like = &seed;
  }
  ASSERT_NE(like, nullptr);
  SearchCreatorsRequest request;
  request.set_similar_to(like->facts.creator_id);
  const auto score = [&](const Seed& s) {
    double score = 0;
    for (const auto& topic : like->content.topics) score += HasTopic(s, topic.slug());
    if (TierOf(s.facts.followers_count) == TierOf(like->facts.followers_count)) score += 0.5;
    return std::pair(score, s.facts.followers_count);
  };
  const int tier = TierOf(like->facts.followers_count);
  EXPECT_THAT(AllIds(request, 5),
              ElementsAreArray(Expected(
                  [&](const Seed& s) {
                    return s.facts.creator_id != like->facts.creator_id &&
                           std::abs(static_cast<int>(TierOf(s.facts.followers_count)) - tier) <= 1;
                  },
                  score)));
}

TEST_F(CreatorsServerTest, TokensWorkOnlyForTheirQuery) {
  Index();
  StartServer(es_url_);
  for (const bool palette : {false, true}) {
    SearchCreatorsRequest request;
    if (palette) request.add_palette("#336699");
    request.set_page_size(3);
    SearchCreatorsResponse first;
    ASSERT_TRUE(Search(request, first).ok());
    ASSERT_FALSE(first.next_page_token().empty());
    SearchCreatorsRequest other = request;
    other.set_min_followers(1);
    other.set_page_token(first.next_page_token());
    SearchCreatorsResponse response;
    const grpc::Status status = Search(other, response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  }
}

TEST_F(CreatorsServerTest, BadRequestsNameTheField) {
  Index();
  StartServer(es_url_);
  SearchCreatorsRequest request;
  request.add_topics("knitting-on-mars");
  SearchCreatorsResponse response;
  grpc::Status status = Search(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("topics[0]"));
  request.Clear();
  request.add_palette("#12345");
  status = Search(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("palette[0]"));
}

TEST_F(CreatorsServerTest, NothingIndexedYetIsAnEmptyAnswer) {
  StartServer(es_url_);
  SearchCreatorsResponse response;
  ASSERT_TRUE(Search(SearchCreatorsRequest(), response).ok());
  EXPECT_EQ(response.creators_size(), 0);
  SearchCreatorsRequest palette;
  palette.add_palette("#336699");
  ASSERT_TRUE(Search(palette, response).ok());
  EXPECT_EQ(response.creators_size(), 0);
}

TEST_F(CreatorsServerTest, ElasticsearchDownIsUnavailableQuickly) {
  StartServer("http://127.0.0.1:9");  // Nobody listens there.
  for (const bool palette : {false, true}) {
    SearchCreatorsRequest request;
    if (palette) request.set_similar_to("17");
    SearchCreatorsResponse response;
    const absl::Time start = absl::Now();
    const grpc::Status status = Search(request, response, absl::Seconds(5));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  }
}

// --- Engagement percentiles: tier_centiles in the warehouse, read with the
// profiles, on GetUserProfile and on each SearchCreators hit.

class CreatorPercentileTest : public scout::testing::ServicesTest {
 protected:
  void Exec(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    const absl::Status status = warehouse_->Exec(sql, params);
    ASSERT_TRUE(status.ok()) << status << "\n" << sql;
  }
};

// The share of centiles whose highest rate is below `rate`, by hand.
double ExpectedPercentile(const std::vector<double>& maxima, double rate) {
  int below = 0;
  for (double max : maxima) below += max < rate;
  return 100.0 * below / static_cast<double>(maxima.size());
}

TEST_F(CreatorPercentileTest, ProfilesAndHitsSayWhereTheRateStandsInItsTier) {
  ASSERT_TRUE(Migrate(*warehouse_).ok());
  std::map<std::string, std::vector<double>> centiles;
  for (int c = 1; c <= 100; ++c) centiles["micro"].push_back(c / 1000.0);
  centiles["nano"] = {0.01, 0.02, 0.03, 0.04};  // A tier of four creators.
  for (const auto& [tier, maxima] : centiles) {
    for (size_t c = 0; c < maxima.size(); ++c) {
      Exec(
          "INSERT INTO tier_centiles (as_of, tier, centile, max_engagement_rate) "
          "VALUES ('2026-11-21', $1, $2, $3)",
          {tier, absl::StrCat(c + 1), absl::StrCat(maxima[c])});
      // An older day, which must not count.
      Exec(
          "INSERT INTO tier_centiles (as_of, tier, centile, max_engagement_rate) "
          "VALUES ('2026-11-20', $1, $2, 9)",
          {tier, absl::StrCat(c + 1)});
    }
  }
  const std::vector<Seed> seeds = MakeSeeds();
  std::string placeholders;
  const size_t columns = ProfileFactsValues(seeds[0].facts).size();
  for (size_t i = 1; i <= columns; ++i) absl::StrAppend(&placeholders, i > 1 ? ", " : "", "$", i);
  for (const Seed& seed : seeds) {
    Exec(absl::StrCat("INSERT INTO profile_facts (", kProfileFactsColumns,
                      ", load_version, updated_at) VALUES (", placeholders,
                      ", 1, CURRENT_TIMESTAMP)"),
         ProfileFactsValues(seed.facts));
  }
  Exec(
      "INSERT INTO load_versions (version, kind, as_of, shard, row_count, finished_at) "
      "VALUES (1, 'facts', '2026-11-21', 'all', 40, CURRENT_TIMESTAMP)");
  ASSERT_TRUE(EnsureCreatorIndex(*elastic_, prefix_).ok());
  std::vector<std::pair<std::string, std::string>> documents;
  for (const Seed& seed : seeds) {
    documents.emplace_back(seed.facts.creator_id, CreatorDocument(seed.facts, &seed.content));
  }
  ASSERT_TRUE(WriteCreators(*elastic_, prefix_, documents).ok());
  ASSERT_TRUE(elastic_->Call("POST", absl::StrCat(CreatorsAlias(prefix_), "/_refresh")).ok());
  StartServer(kNow);

  int checked = 0;
  for (const Seed& seed : seeds) {
    const ProfileFactsRow& f = seed.facts;
    grpc::ClientContext context;
    v1::GetUserProfileRequest request;
    request.set_user_id(f.creator_id);
    request.set_recent_posts(0);
    v1::UserProfile profile;
    const grpc::Status status = stub_->GetUserProfile(&context, request, &profile);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(profile.tier(), TierOf(f.followers_count));
    EXPECT_EQ(profile.posts_30d(), f.doc_count);
    EXPECT_EQ(profile.has_last_post_at(), f.last_post_at.has_value());
    if (f.last_post_at) {
      EXPECT_EQ(profile.last_post_at().seconds(), absl::ToUnixSeconds(*f.last_post_at));
    }
    EXPECT_EQ(profile.has_avg_reach(), f.avg_reach.has_value());
    if (f.avg_reach) {
      EXPECT_DOUBLE_EQ(profile.avg_reach(), *f.avg_reach);
    }
    EXPECT_EQ(profile.has_avg_impressions(), f.avg_impressions.has_value());
    if (f.avg_impressions) {
      EXPECT_DOUBLE_EQ(profile.avg_impressions(), *f.avg_impressions);
    }
    ASSERT_EQ(profile.topics_size(), static_cast<int>(f.topics.size()));
    for (size_t t = 0; t < f.topics.size(); ++t) {
      EXPECT_EQ(profile.topics(t).slug(), f.topics[t].slug());
    }
    const auto tier = centiles.find(std::string(TierSlug(TierOf(f.followers_count))));
    if (f.engagement_rate && tier != centiles.end()) {
      ASSERT_TRUE(profile.has_engagement_percentile()) << f.creator_id;
      EXPECT_DOUBLE_EQ(profile.engagement_percentile(),
                       ExpectedPercentile(tier->second, *f.engagement_rate));
      ++checked;
    } else {
      EXPECT_FALSE(profile.has_engagement_percentile()) << f.creator_id;
    }
  }
  EXPECT_GE(checked, 8);

  // The same numbers on SearchCreators hits.
  SearchCreatorsRequest search;
  search.set_page_size(100);
  SearchCreatorsResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->SearchCreators(&context, search, &response).ok());
  ASSERT_EQ(response.creators_size(), static_cast<int>(seeds.size()));
  for (const Creator& creator : response.creators()) {
    const auto tier = centiles.find(std::string(TierSlug(creator.tier())));
    if (creator.has_engagement_rate() && tier != centiles.end()) {
      ASSERT_TRUE(creator.has_engagement_percentile()) << creator.id();
      EXPECT_DOUBLE_EQ(creator.engagement_percentile(),
                       ExpectedPercentile(tier->second, creator.engagement_rate()));
    } else {
      EXPECT_FALSE(creator.has_engagement_percentile()) << creator.id();
    }
  }
}

}  // namespace
}  // namespace scout::server
