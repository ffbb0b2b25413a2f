// The pure parts of SearchCreators: request validation (one case per field,
// each error naming it), the query DSL it builds, page tokens, palette
// parsing and tier percentiles. The Elasticsearch round trip is in
// creators_server_test.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/backends/http.h"
#include "common/base/colour.h"
#include "common/base/text.h"
#include "server/creators.h"
#include "server/es_search.h"
#include "server/page_token.h"
#include "tests/canned_http.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::SearchCreatorsRequest;
using ::testing::HasSubstr;
namespace f = creator_field;

const absl::Time kNow = absl::FromUnixSeconds(1795305600);  // 2026-11-22T00:00:00Z

class CreatorQueryTest : public ::testing::Test {
 protected:
  absl::StatusOr<CreatorSearch::Query> Build(const SearchCreatorsRequest& request,
                                             const CreatorSearch::Lookalike* like = nullptr) {
    return search_.BuildQuery(request, like);
  }
  // The message of a request that must be INVALID_ARGUMENT.
  std::string Error(const SearchCreatorsRequest& request) {
    const absl::Status status = search_.Validate(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << request.ShortDebugString();
    return std::string(status.message());
  }
  std::unique_ptr<Clock> clock_ = NewFixedClock(kNow);
  CreatorSearch search_{nullptr, clock_.get(), "creators", nullptr, nullptr};
};

const json& Filters(const CreatorSearch::Query& query) {
  return query.body["query"]["bool"]["filter"];
}

// The filter of `kind` ("terms", "range", "term") on `field`, or null.
const json* FindFilter(const CreatorSearch::Query& query, const std::string& kind,
                       const std::string& field) {
  for (const json& filter : Filters(query)) {
    if (filter.contains(kind) && filter[kind].contains(field)) return &filter[kind][field];
  }
  return nullptr;
}

TEST_F(CreatorQueryTest, EachFieldIsValidatedByName) {
  const auto with = [](auto set) {
    SearchCreatorsRequest request;
    set(request);
    return request;
  };
  EXPECT_THAT(Error(with([](auto& r) { r.set_query(std::string(kMaxQueryBytes + 1, 'a')); })),
              HasSubstr("query: at most"));
  EXPECT_THAT(Error(with([](auto& r) { r.set_query("caf\xc3"); })),
              HasSubstr("query: not valid UTF-8"));
  EXPECT_THAT(Error(with([](auto& r) { r.add_hashtags("#"); })), HasSubstr("hashtags[0] is empty"));
  EXPECT_THAT(Error(with([](auto& r) {
                for (int i = 0; i <= kMaxFilterValues; ++i) r.add_hashtags("x");
              })),
              HasSubstr("hashtags: at most 50"));
  EXPECT_THAT(Error(with([](auto& r) { r.add_mentions("@ "); })),
              HasSubstr("mentions[0] is empty"));
  EXPECT_THAT(Error(with([](auto& r) {
                for (int i = 0; i <= kMaxFilterValues; ++i) r.add_mentions("x");
              })),
              HasSubstr("mentions: at most 50"));
  EXPECT_THAT(Error(with([](auto& r) {
                r.add_topics("food");
                r.add_topics("underwater-basket-weaving");
              })),
              HasSubstr("topics[1]: unknown topic"));
  // The slug is quoted cut to 40 bytes, here inside the "é": the message
  // must still be UTF-8.
  const std::string cut =
      Error(with([](auto& r) { r.add_topics(std::string(39, 't') + "\xc3\xa9"); }));
  EXPECT_THAT(cut, HasSubstr("topics[0]: unknown topic"));
  EXPECT_TRUE(IsValidUtf8(cut)) << cut;
  EXPECT_THAT(Error(with([](auto& r) { r.set_min_followers(-1); })), HasSubstr("min_followers"));
  EXPECT_THAT(Error(with([](auto& r) { r.set_max_followers(-5); })), HasSubstr("max_followers"));
  EXPECT_THAT(Error(with([](auto& r) {
                r.set_min_followers(10);
                r.set_max_followers(9);
              })),
              HasSubstr("max_followers: must not be below min_followers"));
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -0.01, 101.0}) {
    EXPECT_THAT(Error(with([&](auto& r) { r.set_min_engagement_rate(bad); })),
                HasSubstr("min_engagement_rate"));
    EXPECT_THAT(Error(with([&](auto& r) { r.set_max_engagement_rate(bad); })),
                HasSubstr("max_engagement_rate"));
  }
  EXPECT_THAT(Error(with([](auto& r) {
                r.set_min_engagement_rate(0.05);
                r.set_max_engagement_rate(0.04);
              })),
              HasSubstr("max_engagement_rate: must not be below"));
  for (double bad : {std::nan(""), -std::numeric_limits<double>::infinity(), -1.5, 1e9}) {
    EXPECT_THAT(Error(with([&](auto& r) { r.set_min_follower_growth(bad); })),
                HasSubstr("min_follower_growth"));
  }
  EXPECT_THAT(Error(with([](auto& r) { r.set_min_posts_30d(-1); })), HasSubstr("min_posts_30d"));
  for (int bad : {0, -3, 91}) {
    EXPECT_THAT(Error(with([&](auto& r) { r.set_active_within_days(bad); })),
                HasSubstr("active_within_days: 1 to 90"));
  }
  EXPECT_THAT(Error(with([](auto& r) { r.add_tiers(v1::CREATOR_TIER_UNSPECIFIED); })),
              HasSubstr("tiers[0]: not a tier"));
  EXPECT_THAT(Error(with([](auto& r) {
                r.add_tiers(v1::CREATOR_TIER_NANO);
                r.add_tiers(static_cast<v1::CreatorTier>(42));
              })),
              HasSubstr("tiers[1]"));
  EXPECT_THAT(Error(with([](auto& r) {
                for (int i = 0; i <= kMaxPaletteColours; ++i) r.add_palette("#aabbcc");
              })),
              HasSubstr("palette: at most 6"));
  for (const char* bad : {"aabbcc", "#aabbc", "#aabbccd", "#gg0000", "#aabbcc:", "#aabbcc:0",
                          "#aabbcc:-1", "#aabbcc:nan", "#aabbcc:inf", "#aabbcc:x", "red"}) {
    EXPECT_THAT(Error(with([&](auto& r) {
                  r.add_palette("#ffffff");
                  r.add_palette(bad);
                })),
                HasSubstr("palette[1]"))
        << bad;
  }
  for (const char* bad : {"12a", "-1", " 1", std::string(33, '1').c_str()}) {
    EXPECT_THAT(Error(with([&](auto& r) { r.set_similar_to(bad); })), HasSubstr("similar_to"))
        << bad;
  }
  EXPECT_THAT(Error(with([](auto& r) {
                r.set_similar_to("17");
                r.add_palette("#aabbcc");
              })),
              HasSubstr("similar_to: not with palette"));
  EXPECT_THAT(Error(with([](auto& r) { r.set_sort(v1::CREATOR_SORT_PALETTE_DISTANCE); })),
              HasSubstr("sort: CREATOR_SORT_PALETTE_DISTANCE needs palette or similar_to"));
  EXPECT_THAT(Error(with([](auto& r) { r.set_sort(static_cast<v1::CreatorSort>(99)); })),
              HasSubstr("sort: unknown value"));
  for (int bad : {-1, 101}) {
    EXPECT_THAT(Error(with([&](auto& r) { r.set_page_size(bad); })),
                HasSubstr("page_size: 0 (default 20) to at most 100"));
  }
  // Tokens are checked by BuildQuery (they need the resolved sort).
  SearchCreatorsRequest token;
  token.set_page_token("garbage");
  EXPECT_THAT(std::string(Build(token).status().message()), HasSubstr("page_token"));
}

TEST_F(CreatorQueryTest, LimitsAreInclusive) {
  SearchCreatorsRequest request;
  for (int i = 0; i < kMaxPaletteColours; ++i) request.add_palette("#A0522D:2.5");
  for (int i = 0; i < kMaxFilterValues; ++i) request.add_hashtags(absl::StrCat("t", i));
  request.set_min_engagement_rate(0);
  request.set_max_engagement_rate(0);
  request.set_min_follower_growth(-1);
  request.set_active_within_days(90);
  request.set_page_size(100);
  request.set_similar_to("");
  EXPECT_TRUE(search_.Validate(request).ok()) << search_.Validate(request);
  request.Clear();
  request.set_similar_to(std::string(32, '7'));
  request.set_active_within_days(1);
  EXPECT_TRUE(search_.Validate(request).ok()) << search_.Validate(request);
}

TEST_F(CreatorQueryTest, UserTextIsOnlyAMatchValueFoldedEveryWordRequired) {
  SearchCreatorsRequest request;
  request.set_query("Crème AND title:* OR \"x\" ) {\"script\":1}");
  absl::StatusOr<CreatorSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
  const json& match = query->body["query"]["bool"]["must"][0]["multi_match"];
  EXPECT_EQ(match["query"], FoldForSearch(request.query()));
  EXPECT_EQ(match["operator"], "and");
  EXPECT_EQ(match["fields"], json({f::kNameFolded, f::kBioFolded, f::kCaptionsFolded}));
  std::vector<std::string> keys;
  const auto collect = [&keys](const json& value, const auto& self) -> void {
    for (const auto& [key, child] : value.items()) {
      if (value.is_object()) keys.push_back(key);
      if (child.is_structured()) self(child, self);
    }
  };
  collect(query->body, collect);
  for (const char* dsl : {"query_string", "simple_query_string", "script", "wildcard", "exists"}) {
    EXPECT_THAT(keys, ::testing::Not(::testing::Contains(dsl)));
  }
}

TEST_F(CreatorQueryTest, ValuesOfAFilterAreOrFiltersAreAnd) {
  SearchCreatorsRequest request;
  request.add_hashtags("#Café");
  request.add_hashtags("cafe");  // Same key: once.
  request.add_hashtags("TravelGram");
  request.add_mentions("@Bob.Smith");
  request.add_topics("food");
  request.add_topics("travel");
  request.add_tiers(v1::CREATOR_TIER_MICRO);
  request.add_tiers(v1::CREATOR_TIER_MEGA);
  absl::StatusOr<CreatorSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
  ASSERT_NE(FindFilter(*query, "terms", f::kHashtagKeys), nullptr);
  EXPECT_EQ(*FindFilter(*query, "terms", f::kHashtagKeys), json({"cafe", "travelgram"}));
  EXPECT_EQ(*FindFilter(*query, "terms", f::kMentionKeys), json({"bob.smith"}));
  EXPECT_EQ(*FindFilter(*query, "terms", f::kTopics), json({"food", "travel"}));
  EXPECT_EQ(*FindFilter(*query, "terms", f::kTier), json({"micro", "mega"}));
  EXPECT_EQ(Filters(*query).size(), 4u);
}

TEST_F(CreatorQueryTest, RangesAndFlags) {
  SearchCreatorsRequest request;
  request.set_min_followers(1000);
  request.set_max_followers(50000);
  request.set_min_engagement_rate(0.01);
  request.set_max_engagement_rate(0.2);
  request.set_min_follower_growth(-0.5);
  request.set_min_posts_30d(4);
  request.set_is_business(false);
  request.set_active_within_days(7);
  absl::StatusOr<CreatorSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
  std::map<std::string, json> ranges;
  for (const json& filter : Filters(*query)) {
    if (!filter.contains("range")) continue;
    for (const auto& [field, bounds] : filter["range"].items()) {
      for (const auto& [op, value] : bounds.items()) ranges[field + "." + op] = value;
    }
  }
  EXPECT_EQ(ranges["followers_count.gte"], 1000);
  EXPECT_EQ(ranges["followers_count.lte"], 50000);
  EXPECT_EQ(ranges["engagement_rate.gte"], 0.01);
  EXPECT_EQ(ranges["engagement_rate.lte"], 0.2);
  EXPECT_EQ(ranges["follower_growth_30d.gte"], -0.5);
  EXPECT_EQ(ranges["posts_30d.gte"], 4);
  EXPECT_EQ(ranges[std::string(f::kLastPostAt) + ".gte"],
            absl::ToUnixMillis(kNow - absl::Hours(24 * 7)));
  ASSERT_NE(FindFilter(*query, "term", f::kIsBusiness), nullptr);
  EXPECT_EQ(*FindFilter(*query, "term", f::kIsBusiness), false);
}

TEST_F(CreatorQueryTest, SortsDefaultByWhatWasAskedAndEndWithTheId) {
  SearchCreatorsRequest request;
  absl::StatusOr<CreatorSearch::Query> query = Build(request);
  EXPECT_EQ(query->sort, v1::CREATOR_SORT_FOLLOWERS);
  EXPECT_EQ(query->body["sort"], json::parse(R"([{"followers_count":"desc"},{"id":"asc"}])"));
  request.set_query("pasta");
  query = Build(request);
  EXPECT_EQ(query->sort, v1::CREATOR_SORT_RELEVANCE);
  EXPECT_EQ(query->body["sort"],
            json::parse(R"([{"_score":"desc"},{"followers_count":"desc"},{"id":"asc"}])"));
  request.set_sort(v1::CREATOR_SORT_ENGAGEMENT_RATE);
  EXPECT_EQ(Build(request)->body["sort"][0]["engagement_rate"]["order"], "desc");
  EXPECT_EQ(Build(request)->body["sort"][1], json::parse(R"({"id":"asc"})"));
  request.set_sort(v1::CREATOR_SORT_GROWTH);
  EXPECT_EQ(Build(request)->body["sort"][0]["follower_growth_30d"]["order"], "desc");
  request.clear_sort();
  request.add_palette("#e8d5c4");
  query = Build(request);
  EXPECT_EQ(query->sort, v1::CREATOR_SORT_PALETTE_DISTANCE);
  EXPECT_TRUE(query->pool);
}

TEST_F(CreatorQueryTest, PaletteSearchIsAFilteredKnnPool) {
  SearchCreatorsRequest request;
  request.add_palette("#e8d5c4:3");
  request.add_palette("#A0522D");
  request.add_hashtags("coffee");
  request.set_query("latte art");
  absl::StatusOr<CreatorSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
  ASSERT_TRUE(query->pool);
  // Memory ranks; Elasticsearch only checks text and tags on candidates,
  // loading no document: their ids come from doc values.
  EXPECT_EQ(query->body["_source"], false);
  EXPECT_EQ(query->body["docvalue_fields"], json({f::kId}));
  EXPECT_FALSE(query->body.contains("sort"));
  EXPECT_EQ(query->body["query"]["bool"]["must"][0]["multi_match"]["query"], "latte art");
  EXPECT_EQ(*FindFilter(*query, "terms", f::kHashtagKeys), json({"coffee"}));
  // Without text or tags there is nothing for Elasticsearch to check.
  request.clear_hashtags();
  request.clear_query();
  request.set_min_followers(5000);
  request.add_tiers(v1::CREATOR_TIER_MICRO);
  request.add_topics("food");
  request.set_is_business(true);
  request.set_active_within_days(7);
  absl::StatusOr<CreatorSearch::Query> numbers = Build(request);
  ASSERT_TRUE(numbers.ok()) << numbers.status();
  EXPECT_TRUE(numbers->body.is_null());
  EXPECT_EQ(numbers->filter.min_followers, 5000);
  EXPECT_EQ(numbers->filter.tiers, 1u << v1::CREATOR_TIER_MICRO);
  EXPECT_EQ(numbers->filter.topics, TopicBit("food"));
  EXPECT_EQ(numbers->filter.is_business, true);
  EXPECT_EQ(numbers->filter.min_last_post_at_ms, absl::ToUnixMillis(kNow - absl::Hours(24 * 7)));
  ASSERT_EQ(query->target.size(), 2u);
  EXPECT_DOUBLE_EQ(query->target[0].weight, 0.75);
  EXPECT_DOUBLE_EQ(query->target[1].weight, 0.25);
}

TEST_F(CreatorQueryTest, PaletteColoursParse) {
  absl::StatusOr<WeightedColour> colour = ParsePaletteColour("#FF0000:2", 0);
  ASSERT_TRUE(colour.ok()) << colour.status();
  const Lab red = SrgbToLab(255, 0, 0);
  EXPECT_DOUBLE_EQ(colour->lab.l, red.l);
  EXPECT_DOUBLE_EQ(colour->lab.a, red.a);
  EXPECT_DOUBLE_EQ(colour->weight, 2);
  EXPECT_DOUBLE_EQ(ParsePaletteColour("#00ff00", 3)->weight, 1);
}

TEST_F(CreatorQueryTest, LookalikesStayNearTheirTierNeverThemselvesAndFavourTheirTopics) {
  SearchCreatorsRequest request;
  request.set_similar_to("17");
  CreatorSearch::Lookalike like{"17", v1::CREATOR_TIER_MICRO, {"food", "travel"}, {}};
  // Without a palette: topics and tier rank (scored should clauses).
  absl::StatusOr<CreatorSearch::Query> query = Build(request, &like);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_FALSE(query->pool);
  EXPECT_EQ(*FindFilter(*query, "terms", f::kTier), json({"nano", "micro", "mid"}));
  EXPECT_EQ(query->body["query"]["bool"]["must_not"][0]["ids"]["values"], json({"17"}));
  EXPECT_EQ(query->body["query"]["bool"]["should"].size(), 3u);
  EXPECT_EQ(query->body["sort"][0], json::parse(R"({"_score":"desc"})"));
  // With one: a pool ranked in memory on its palette, the same filters there;
  // asked tiers and the lookalike's tiers both apply.
  like.palette = MakeColourSet({{SrgbToLab(200, 100, 50), 1}});
  like.tier = v1::CREATOR_TIER_MEGA;
  query = Build(request, &like);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_TRUE(query->pool);
  EXPECT_EQ(query->filter.tiers, (1u << v1::CREATOR_TIER_MACRO) | (1u << v1::CREATOR_TIER_MEGA));
  EXPECT_EQ(query->filter.exclude_id, "17");
  EXPECT_EQ(query->favoured_topics, (std::vector<std::string>{"food", "travel"}));
  request.add_tiers(v1::CREATOR_TIER_MEGA);
  request.add_tiers(v1::CREATOR_TIER_NANO);
  query = Build(request, &like);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->filter.tiers, 1u << v1::CREATOR_TIER_MEGA);
  // A target is needed exactly with similar_to.
  EXPECT_FALSE(Build(request, nullptr).ok());
}

TEST_F(CreatorQueryTest, PageTokensAreBoundToTheQueryAndFitTheirMode) {
  SearchCreatorsRequest request;
  request.set_min_followers(5);
  const uint64_t hash = QueryHash(request);
  SearchCreatorsRequest next = request;
  next.set_page_size(7);
  next.set_page_token(EncodePageToken({hash, 20, json::array({1200, "17"})}));
  EXPECT_EQ(QueryHash(next), hash);
  absl::StatusOr<CreatorSearch::Query> query = Build(next);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->body["search_after"], json::array({1200, "17"}));
  EXPECT_EQ(query->returned_before, 20);
  // Another query: rejected.
  SearchCreatorsRequest other = next;
  other.set_min_followers(6);
  EXPECT_THAT(std::string(Build(other).status().message()), HasSubstr("page_token"));
  // A SearchPosts token with the same bytes is not a SearchCreators one.
  EXPECT_NE(QueryHash(SearchCreatorsRequest()), QueryHash(v1::SearchPostsRequest()));
  // Positions that do not fit the sort.
  for (const json& after : {json::array({"x", "17"}), json::array({1200}), json::array({1.5, "17"}),
                            json::array({1200, 17})}) {
    next.set_page_token(EncodePageToken({hash, 20, after}));
    EXPECT_THAT(std::string(Build(next).status().message()), HasSubstr("page_token")) << after;
  }
  // Palette pages carry the offset into the pool.
  SearchCreatorsRequest palette;
  palette.add_palette("#112233");
  const uint64_t palette_hash = QueryHash(palette);
  palette.set_page_token(EncodePageToken({palette_hash, 40, json::array({40})}));
  query = Build(palette);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->returned_before, 40);
  EXPECT_FALSE(query->body.contains("search_after"));
  for (const json& after : {json::array({41}), json::array({"40"}), json::array({40, "x"})}) {
    palette.set_page_token(EncodePageToken({palette_hash, 40, after}));
    EXPECT_THAT(std::string(Build(palette).status().message()), HasSubstr("page_token")) << after;
  }
  palette.set_page_token(
      EncodePageToken({palette_hash, kPalettePool, json::array({kPalettePool})}));
  EXPECT_THAT(std::string(Build(palette).status().message()), HasSubstr("page_token"));
}

TEST(EngagementPercentile, IsTheShareOfTheTiersCentilesBelowTheRate) {
  TierCentiles centiles;
  for (int c = 1; c <= 100; ++c) centiles.max_rate["micro"].push_back(c / 1000.0);
  centiles.max_rate["nano"] = {0.1, 0.2, 0.3, 0.4};  // A tier of 4 creators.
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 20000, 0.0505), 50);
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 20000, 0.0), 0);
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 20000, 0.001), 0);  // Not above itself.
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 20000, 5.0), 100);
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 500, 0.25), 50);
  EXPECT_DOUBLE_EQ(*EngagementPercentile(centiles, 500, 0.4), 75);
  EXPECT_FALSE(EngagementPercentile(centiles, 200000, 0.05).has_value());  // No mid centiles.
  EXPECT_FALSE(EngagementPercentile(centiles, 500, std::nullopt).has_value());
  EXPECT_FALSE(EngagementPercentile(centiles, 500, std::nan("")).has_value());
}

TEST(NextPageToken, OnlyAFullPageWithMoreHitsGetsOneCarryingTheLastSortValues) {
  const json list = json::parse(R"([{"sort":[5,"a"]},{"sort":[3,"b"]}])");
  SearchHits hits{10, false, &list};
  const absl::StatusOr<std::string> token = NextPageToken(hits, 2, 4, 99);
  ASSERT_TRUE(token.ok()) << token.status();
  const absl::StatusOr<PageCursor> cursor = DecodePageToken(*token, 99);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->returned, 6);  // The 4 of earlier pages and these 2.
  EXPECT_EQ(cursor->search_after, json::array({3, "b"}));
  EXPECT_EQ(NextPageToken(hits, 3, 4, 99).value_or("?"), "");  // A short page is the last.
  hits.total = 6;
  EXPECT_EQ(NextPageToken(hits, 2, 4, 99).value_or("?"), "");  // Every counted hit served.
  hits.total_is_lower_bound = true;
  EXPECT_NE(NextPageToken(hits, 2, 4, 99).value_or(""), "");  // More past the count.
  const json unsorted = json::parse(R"([{"_source":{}},{"_source":{}}])");
  EXPECT_TRUE(absl::IsInternal(NextPageToken({10, false, &unsorted}, 2, 0, 99).status()));
}

// --- Search over a scripted Elasticsearch: what it does with bad answers ---

using scout::testing::CannedHttp;

// `calls` (if set) receives the calls Search made (the palette load's aside).
absl::StatusOr<v1::SearchCreatorsResponse> SearchWith(CannedHttp& http,
                                                      const SearchCreatorsRequest& request,
                                                      int* calls = nullptr) {
  static const std::unique_ptr<Clock> clock = NewFixedClock(kNow);
  Elastic elastic(&http, "http://es.invalid");
  PaletteIndexLoader palettes(&elastic, "creators", absl::Seconds(1));
  palettes.Refresh().IgnoreError();  // Most canned answers are no creators index.
  CreatorSearch search(&elastic, clock.get(), "creators", nullptr, &palettes);
  const int before = http.calls;
  absl::StatusOr<v1::SearchCreatorsResponse> response =
      search.Search(request, absl::Now() + absl::Seconds(5));
  if (calls != nullptr) *calls = http.calls - before;
  return response;
}

TEST(CreatorSearchAnswers, HostileDocValuesLoadNoPaletteIndex) {
  const auto page = [](const std::string& hit) {
    return absl::StrCat(R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[)", hit, "]}}");
  };
  // An answer that is not a creator: the load fails (INTERNAL), no index.
  for (const std::string hit : {R"({"fields":7})", R"({"fields":{"palette_key":["e8d5c4:1"]}})",
                                R"({"fields":{"id":[5],"palette_key":["e8d5c4:1"]}})",
                                R"({"fields":{"id":["1"],"palette_key":[7]}})"}) {
    CannedHttp http(200, page(hit));
    Elastic elastic(&http, "http://es.invalid");
    PaletteIndexLoader palettes(&elastic, "creators", absl::Seconds(1));
    EXPECT_EQ(palettes.Refresh().code(), absl::StatusCode::kInternal) << hit;
    EXPECT_EQ(palettes.Current(), nullptr) << hit;
  }
  // An unreadable palette, numbers of the wrong type: that creator is left
  // out or its number unknown; the rest loads.
  for (const std::string hit :
       {R"({"fields":{"id":["1"],"palette_key":["#e8d5c4:1"]}})",
        R"({"fields":{"id":["1"],"palette_key":["e8d5c4:-1"]}})",
        R"({"fields":{"id":["1"],"palette_key":["e8d5c4:1"],"followers_count":["x"],)"
        R"("tier":[3],"topics":[1,"food"],"palette_code":["%%%"]}})"}) {
    CannedHttp http(200, page(hit));
    Elastic elastic(&http, "http://es.invalid");
    PaletteIndexLoader palettes(&elastic, "creators", absl::Seconds(1));
    ASSERT_TRUE(palettes.Refresh().ok()) << hit;
    ASSERT_NE(palettes.Current(), nullptr);
    const bool readable = hit.find("followers_count") != std::string::npos;
    ASSERT_EQ(palettes.Current()->creators().size(), readable ? 1u : 0u) << hit;
    if (readable) {
      const PaletteCreator& creator = palettes.Current()->creators()[0];
      EXPECT_FALSE(creator.followers.has_value());
      EXPECT_EQ(creator.topics, TopicBit("food"));
    }
  }
}

TEST(CreatorSearchAnswers, PaletteSearchBeforeThePalettesLoadIsUnavailable) {
  static const std::unique_ptr<Clock> clock = NewFixedClock(kNow);
  CannedHttp down(503, "{}");
  Elastic elastic(&down, "http://es.invalid");
  PaletteIndexLoader palettes(&elastic, "creators", absl::Seconds(1));
  EXPECT_EQ(palettes.Refresh().code(), absl::StatusCode::kUnavailable);
  SearchCreatorsRequest request;
  request.add_palette("#e8d5c4");
  for (const PaletteIndexLoader* loader : {&palettes, static_cast<PaletteIndexLoader*>(nullptr)}) {
    CreatorSearch search(&elastic, clock.get(), "creators", nullptr, loader);
    EXPECT_EQ(search.Search(request, absl::Now() + absl::Seconds(5)).status().code(),
              absl::StatusCode::kUnavailable);
  }
}

TEST(CreatorSearchAnswers, RefusedQueriesAndMalformedAnswersAreInternal) {
  CannedHttp refused(400, R"({"error":{"type":"search_phase_execution_exception","reason":"x"}})");
  EXPECT_EQ(SearchWith(refused, SearchCreatorsRequest()).status().code(),
            absl::StatusCode::kInternal);
  for (const char* body :
       {"[]", R"({"hits":5})", R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[7]}})",
        R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_source":[]}]}})"}) {
    CannedHttp http(200, body);
    EXPECT_EQ(SearchWith(http, SearchCreatorsRequest()).status().code(),
              absl::StatusCode::kInternal)
        << body;
  }
  // A bad request never reaches Elasticsearch.
  CannedHttp http(200, "{}");
  SearchCreatorsRequest bad;
  bad.set_page_size(101);
  int calls = -1;
  EXPECT_EQ(SearchWith(http, bad, &calls).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
  // A similar_to creator that is not indexed.
  CannedHttp missing(404, R"({"_index":"creators-1","_id":"17","found":false})");
  SearchCreatorsRequest like;
  like.set_similar_to("17");
  EXPECT_EQ(SearchWith(missing, like).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace scout::server
