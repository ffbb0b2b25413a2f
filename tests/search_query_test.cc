// The pure parts of SearchPosts: request validation, the query DSL it
// builds, page tokens and index naming. The Elasticsearch round trip is in
// server_test.
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/backends/http.h"
#include "common/backends/post_index.h"
#include "common/base/shard.h"
#include "common/base/text.h"
#include "common/base/time.h"
#include "server/page_token.h"
#include "server/search.h"
#include "tests/canned_http.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::SearchPostsRequest;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1795305600);  // 2026-11-22T00:00:00Z

class SearchQueryTest : public ::testing::Test {
 protected:
  absl::StatusOr<PostSearch::Query> Build(const SearchPostsRequest& request) {
    return search_.BuildQuery(request);
  }
  std::unique_ptr<Clock> clock_ = NewFixedClock(kNow);
  PostSearch search_{nullptr, clock_.get(), "posts"};
};

const json* FindFilter(const json& body, const std::string& kind) {
  for (const json& filter : body["query"]["bool"]["filter"]) {
    if (filter.contains(kind)) return &filter;
  }
  return nullptr;
}

TEST_F(SearchQueryTest, WindowIsEnforcedWhateverSinceSays) {
  SearchPostsRequest request;
  *request.mutable_since() = ToTimestamp(kNow - absl::Hours(24 * 365));
  absl::StatusOr<PostSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
  const json* range = FindFilter(query->body, "range");
  ASSERT_NE(range, nullptr);
  EXPECT_EQ((*range)["range"]["timestamp"]["gte"].get<int64_t>(),
            absl::ToUnixMillis(kNow - kSearchWindow));
}

TEST(SearchQueryWindow, StartsOnAWholeMinuteSoQueriesWithinAMinuteRepeat) {
  // 30.5 s past a minute, and 20 s later: the same filter bytes, which is
  // what lets Elasticsearch's caches answer the second.
  const absl::Time now = kNow + absl::Milliseconds(30500);
  std::vector<int64_t> starts;
  for (const absl::Time at : {now, now + absl::Seconds(20)}) {
    const std::unique_ptr<Clock> clock = NewFixedClock(at);
    const PostSearch search(nullptr, clock.get(), "posts");
    absl::StatusOr<PostSearch::Query> query = search.BuildQuery(SearchPostsRequest());
    ASSERT_TRUE(query.ok()) << query.status();
    starts.push_back((*FindFilter(query->body, "range"))["range"]["timestamp"]["gte"]);
  }
  // The next whole minute: never a post older than 180 days.
  EXPECT_EQ(starts[0], absl::ToUnixMillis(kNow + absl::Minutes(1) - kSearchWindow));
  EXPECT_EQ(starts[1], starts[0]);
}

TEST_F(SearchQueryTest, LaterSinceAndUntilAreKept) {
  SearchPostsRequest request;
  *request.mutable_since() = ToTimestamp(kNow - absl::Hours(48));
  *request.mutable_until() = ToTimestamp(kNow - absl::Hours(24));
  absl::StatusOr<PostSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok());
  const json& range = (*FindFilter(query->body, "range"))["range"]["timestamp"];
  EXPECT_EQ(range["gte"].get<int64_t>(), absl::ToUnixMillis(kNow - absl::Hours(48)));
  EXPECT_EQ(range["lte"].get<int64_t>(), absl::ToUnixMillis(kNow - absl::Hours(24)));
}

TEST_F(SearchQueryTest, UserTextIsOnlyAMatchValueFolded) {
  SearchPostsRequest request;
  request.set_query("Crème AND title:* OR \"x\" ) DROP TABLE");
  absl::StatusOr<PostSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok());
  const json& match = query->body["query"]["bool"]["must"][0]["match"]["text_folded"];
  EXPECT_EQ(match["query"], "creme and title:* or \"x\" ) drop table");
  EXPECT_EQ(match["operator"], "and");
}

TEST_F(SearchQueryTest, TagsAreFoldedTermFiltersOnePerTag) {
  SearchPostsRequest request;
  request.add_hashtags("#Café");
  request.add_hashtags("TravelGram");
  request.add_mentions("@Bob.Smith");
  absl::StatusOr<PostSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok());
  std::vector<json> terms;
  for (const json& filter : query->body["query"]["bool"]["filter"]) {
    if (filter.contains("term")) terms.push_back(filter["term"]);
  }
  EXPECT_EQ(terms, (std::vector<json>{{{"hashtag_keys", "cafe"}},
                                      {{"hashtag_keys", "travelgram"}},
                                      {{"mention_keys", "bob.smith"}}}));
}

TEST_F(SearchQueryTest, PageSizeDefaultsAndIsBounded) {
  SearchPostsRequest request;
  EXPECT_EQ(Build(request)->body["size"], kDefaultPageSize);
  request.set_page_size(kMaxPageSize);
  EXPECT_EQ(Build(request)->body["size"], kMaxPageSize);
  for (int bad : {-1, kMaxPageSize + 1}) {
    request.set_page_size(bad);
    const absl::Status status = Build(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("page_size: 0 (default 20) to at most 100"));
  }
}

TEST_F(SearchQueryTest, SortsEndWithAUniqueTiebreaker) {
  SearchPostsRequest request;
  EXPECT_EQ(Build(request)->body["sort"], json::parse(R"([{"timestamp":"desc"},{"id":"asc"}])"));
  request.set_query("pasta");
  EXPECT_EQ(Build(request)->body["sort"][0], json::parse(R"({"_score":"desc"})"));
  request.set_sort(v1::SORT_ORDER_ENGAGEMENT);
  EXPECT_EQ(Build(request)->body["sort"],
            json::parse(R"([{"engagement":"desc"},{"timestamp":"desc"},{"id":"asc"}])"));
}

TEST_F(SearchQueryTest, BadRequestsNameWhatIsWrong) {
  SearchPostsRequest request;
  request.add_media_types(v1::MEDIA_TYPE_UNSPECIFIED);
  EXPECT_THAT(Build(request).status().message(), HasSubstr("media_types[0]"));
  request.Clear();
  request.add_hashtags("#");
  EXPECT_THAT(Build(request).status().message(), HasSubstr("hashtags[0] is empty"));
  request.Clear();
  request.set_query(std::string(kMaxQueryBytes + 1, 'a'));
  EXPECT_THAT(Build(request).status().message(), HasSubstr("query: at most"));
  request.Clear();
  *request.mutable_since() = ToTimestamp(kNow);
  *request.mutable_until() = ToTimestamp(kNow - absl::Hours(1));
  EXPECT_THAT(Build(request).status().message(), HasSubstr("until"));
  request.Clear();
  for (int i = 0; i <= kMaxFilterValues; ++i) request.add_owner_ids("x");
  EXPECT_THAT(Build(request).status().message(), HasSubstr("owner_ids: at most"));
}

TEST(PageToken, RoundTripsForTheSameQueryOnly) {
  SearchPostsRequest request;
  request.set_query("pasta");
  const uint64_t hash = QueryHash(request);
  const std::string token = EncodePageToken({hash, 40, json::array({1700000000000, "17"})});
  absl::StatusOr<PageCursor> cursor = DecodePageToken(token, hash);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->returned, 40);
  EXPECT_EQ(cursor->search_after, json::array({1700000000000, "17"}));

  // Page size and the token itself do not change the query's identity...
  SearchPostsRequest next = request;
  next.set_page_size(7);
  next.set_page_token(token);
  EXPECT_EQ(QueryHash(next), hash);
  // ...any filter does.
  SearchPostsRequest other = request;
  other.add_hashtags("x");
  EXPECT_EQ(DecodePageToken(token, QueryHash(other)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PageToken, GarbageIsInvalidArgument) {
  for (const char* token : {"abc", "!!!", "eyJxIjoxfQ", ""}) {
    EXPECT_EQ(DecodePageToken(token, 1).status().code(), absl::StatusCode::kInvalidArgument)
        << token;
  }
}

TEST(PageToken, ForgedCountsAreRejected) {
  // Search adds a page to the count: a forged one must not make it wrap.
  const std::string token =
      EncodePageToken({7, std::numeric_limits<int64_t>::max(), json::array({1})});
  EXPECT_EQ(DecodePageToken(token, 7).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(DecodePageToken(EncodePageToken({7, 1000, json::array({1})}), 7).ok());
}

TEST_F(SearchQueryTest, HostileTextIsRejectedOrOnlyAValue) {
  // In-process callers can pass invalid UTF-8, which no JSON body can carry.
  SearchPostsRequest request;
  request.set_query("caf\xc3");
  EXPECT_THAT(Build(request).status().message(), HasSubstr("query: not valid UTF-8"));
  request.set_query("ok");
  request.add_owner_ids("17841\xff");
  EXPECT_THAT(Build(request).status().message(), HasSubstr("owner_ids[0]: not valid UTF-8"));

  request.Clear();
  request.set_query("*:* OR _exists_:id {\"script\": 1} '; DROP TABLE x; --");
  request.add_owner_ids("*");
  request.add_hashtags("_exists_:caption");
  absl::StatusOr<PostSearch::Query> query = Build(request);
  ASSERT_TRUE(query.ok()) << query.status();
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
  EXPECT_EQ(query->body["query"]["bool"]["must"][0]["match"]["text_folded"]["query"],
            FoldForSearch(request.query()));
}

TEST(PostIndex, MonthlyIndicesExpireWhenTheirWholeMonthLeftTheWindow) {
  const absl::Time post =
      absl::FromCivil(absl::CivilSecond(2026, 5, 31, 23, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(MonthlyIndex("scout-posts", post), "scout-posts-2026.05");
  // 180 days before 2026-11-22 is 2026-05-26: May still holds live posts.
  EXPECT_FALSE(IndexIsExpired("scout-posts", "scout-posts-2026.05", kNow));
  EXPECT_TRUE(IndexIsExpired("scout-posts", "scout-posts-2026.04", kNow));
  EXPECT_FALSE(IndexIsExpired("scout-posts", "scout-posts.quarantine", kNow));
  EXPECT_FALSE(IndexIsExpired("scout-posts", "other-2020.01", kNow));
}

TEST(PostIndex, DocumentRoundTripsAndCarriesFoldedSearchFields) {
  v1::Post post;
  post.set_id("9");
  post.set_caption("Crème #CAFÉ");
  post.add_hashtags("CAFÉ");
  post.add_mentions("Bob");
  post.set_like_count(0);  // Present zero stays present.
  *post.mutable_timestamp() = ToTimestamp(kNow);
  const json doc = json::parse(PostToDocument(post, "instagram_graph/posts/1/9.json"));
  EXPECT_EQ(doc["hashtag_keys"], json::array({"cafe"}));
  EXPECT_EQ(doc["mention_keys"], json::array({"bob"}));
  EXPECT_THAT(doc["text_folded"].get<std::string>(), HasSubstr("creme #cafe"));
  absl::StatusOr<v1::Post> back = PostFromDocument(doc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->caption(), "Crème #CAFÉ");
  EXPECT_TRUE(back->has_like_count());
  EXPECT_FALSE(back->has_reach());
  EXPECT_EQ(FromTimestamp(back->timestamp()), kNow);
}

// --- The post document contract (common/post_index) -----------------------

TEST(PostIndex, MediaTypesHaveOneExplicitSpellingBothWays) {
  const auto* values = v1::MediaType_descriptor();
  for (int i = 0; i < values->value_count(); ++i) {
    const auto type = static_cast<v1::MediaType>(values->value(i)->number());
    const absl::string_view keyword = MediaTypeKeyword(type);
    if (type == v1::MEDIA_TYPE_UNSPECIFIED) {
      EXPECT_EQ(keyword, "");
      continue;
    }
    ASSERT_FALSE(keyword.empty()) << values->value(i)->name();
    EXPECT_EQ(MediaTypeFromKeyword(keyword), type) << keyword;
  }
  // The stored spellings are fixed, whatever the proto enum is called.
  EXPECT_EQ(MediaTypeKeyword(v1::MEDIA_TYPE_CAROUSEL_ALBUM), "MEDIA_TYPE_CAROUSEL_ALBUM");
  EXPECT_EQ(MediaTypeFromKeyword("MEDIA_TYPE_STORY_VIDEO"), v1::MEDIA_TYPE_STORY_VIDEO);
  EXPECT_EQ(MediaTypeFromKeyword("VIDEO"), std::nullopt);
  EXPECT_EQ(MediaTypeFromKeyword(""), std::nullopt);
}

TEST(PostIndex, DocumentFieldsAreTheNamedOnesAndEveryIndexedFieldIsMapped) {
  v1::Post post;
  post.set_id("9");
  post.set_owner_id("17841400000000001");
  post.set_username("ana");
  post.set_caption("x #y @z");
  post.add_hashtags("y");
  post.add_mentions("z");
  post.set_media_type(v1::MEDIA_TYPE_VIDEO);
  post.set_engagement(3);
  post.set_like_count(1);
  post.set_comments_count(2);
  post.set_followers_at_post(50);
  post.add_media()->set_url("u");
  *post.mutable_timestamp() = ToTimestamp(kNow);
  const json doc = json::parse(PostToDocument(post, "lake/key.json"));
  namespace f = post_field;
  for (const char* field :
       {f::kId, f::kOwnerId, f::kUsername, f::kTimestamp, f::kEngagement, f::kLikeCount,
        f::kCommentsCount, f::kFollowersAtPost, f::kMedia, f::kMediaType, f::kTextFolded,
        f::kHashtagKeys, f::kMentionKeys, f::kLakeKey, f::kShardBucket}) {
    EXPECT_TRUE(doc.contains(field)) << field << " in " << doc.dump();
  }
  EXPECT_EQ(doc[f::kMediaType], "MEDIA_TYPE_VIDEO");
  EXPECT_EQ(doc[f::kShardBucket], ShardBucket("17841400000000001"));
  EXPECT_EQ(doc[f::kLakeKey], "lake/key.json");
  // Every indexed field of the document is in the mapping (dynamic: false
  // would otherwise leave it unsearchable).
  const json properties = PostIndexTemplate("p")["template"]["mappings"]["properties"];
  for (const auto& [field, value] : doc.items()) {
    if (field == f::kMedia || field == "caption") continue;  // _source only.
    if (!properties.contains(field)) {
      // Only fields nobody filters or sorts on may be unmapped.
      EXPECT_THAT(field,
                  ::testing::AnyOf("shortcode", "permalink", "media_url", "hashtags", "mentions"))
          << field;
    }
  }
  absl::StatusOr<v1::Post> back = PostFromDocument(doc);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->media_type(), v1::MEDIA_TYPE_VIDEO);
  EXPECT_EQ(back->owner_id(), post.owner_id());
}

TEST(PostIndex, DocumentsThatAreNotPostsAreInternal) {
  for (const char* bad : {R"([1])", R"("x")", R"({"media_type":"VIDEO"})", R"({"media_type":3})",
                          R"({"like_count":"many"})"}) {
    EXPECT_EQ(PostFromDocument(json::parse(bad)).status().code(), absl::StatusCode::kInternal)
        << bad;
  }
}

TEST(Shard, BucketsPartitionAndAgreeWithOwns) {
  for (const char* spec : {"0/1", "1/2", "2/3", "5/8"}) {
    const Shard shard = *Shard::Parse(spec);
    for (const int bucket : shard.Buckets()) EXPECT_TRUE(shard.OwnsBucket(bucket)) << spec;
  }
  std::vector<int> owners(kShardBuckets, 0);
  for (int i = 0; i < 3; ++i) {
    for (const int bucket : Shard::Parse(absl::StrCat(i, "/3"))->Buckets()) ++owners[bucket];
  }
  EXPECT_EQ(std::count(owners.begin(), owners.end(), 1), kShardBuckets);  // Each exactly once.
  for (const std::string id : {"1", "17841400000000001", "ana", ""}) {
    int claimed = 0;
    for (int i = 0; i < 3; ++i) {
      const Shard shard = *Shard::Parse(absl::StrCat(i, "/3"));
      EXPECT_EQ(shard.Owns(id), shard.OwnsBucket(ShardBucket(id))) << id;
      claimed += shard.Owns(id) ? 1 : 0;
    }
    EXPECT_EQ(claimed, 1) << id;
  }
  EXPECT_FALSE(Shard::Parse(absl::StrCat("0/", kShardBuckets + 1)).ok());
  EXPECT_EQ(ShardFilter(Shard()), std::nullopt);
  const json filter = *ShardFilter(*Shard::Parse("1/2"));
  EXPECT_EQ(filter["bool"]["should"][0]["terms"][post_field::kShardBucket].size(),
            static_cast<size_t>(kShardBuckets / 2));
}

// --- Search over a scripted Elasticsearch: what it does with bad answers ---

using scout::testing::CannedHttp;

absl::StatusOr<v1::SearchPostsResponse> SearchWith(CannedHttp& http,
                                                   const SearchPostsRequest& request,
                                                   absl::Duration budget = absl::Seconds(5)) {
  static const std::unique_ptr<Clock> clock = NewFixedClock(kNow);
  Elastic elastic(&http, "http://es.invalid");
  PostSearch search(&elastic, clock.get(), "posts");
  return search.Search(request, absl::Now() + budget);
}

TEST(PostSearchAnswers, AQueryElasticsearchRefusesIsInternalNotTheCallers) {
  CannedHttp http(400, R"({"error":{"type":"search_phase_execution_exception","reason":"x"}})");
  const absl::Status status = SearchWith(http, SearchPostsRequest()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("search_phase_execution_exception"));
}

TEST(PostSearchAnswers, MalformedAnswersAreInternalWithAClearMessage) {
  const std::string post = PostToDocument(v1::Post(), "k");
  for (
      const std::string& body : std::vector<std::string>{
          "[]",
          "{}",
          "5",
          R"({"hits":5})",
          R"({"hits":{}})",
          R"({"hits":{"total":3,"hits":[]}})",
          R"({"hits":{"total":{"value":"3","relation":"eq"},"hits":[]}})",
          R"({"hits":{"total":{"value":3},"hits":[]}})",
          R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":{}}})",
          R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[7]}})",
          R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_id":"1"}]}})",
          R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_source":[]}]}})",
          R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_source":{"media_type":"?"}}]}})",
          // A full page whose last hit has no sort values to page on.
          absl::StrCat(R"({"hits":{"total":{"value":5,"relation":"eq"},"hits":[{"_source":)", post,
                       "}]}}"),
      }) {
    CannedHttp http(200, body);
    SearchPostsRequest request;
    request.set_page_size(1);
    const absl::Status status = SearchWith(http, request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << body << " -> " << status;
    EXPECT_THAT(std::string(status.message()),
                ::testing::AnyOf(HasSubstr("answer"), HasSubstr("document")))
        << body;
  }
  // The well-formed answer passes.
  CannedHttp good(
      200, absl::StrCat(R"({"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_source":)", post,
                        R"(,"sort":[1,"a"]}]}})"));
  EXPECT_TRUE(SearchWith(good, SearchPostsRequest()).ok());
}

TEST(PostSearchAnswers, AsksForTheShardRequestCache) {
  CannedHttp http(200, R"({"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}})");
  ASSERT_TRUE(SearchWith(http, SearchPostsRequest()).ok());
  EXPECT_EQ(http.last_url, "http://es.invalid/posts/_search?request_cache=true");
}

TEST(PostSearchAnswers, UnderAMillisecondLeftNeverCallsElasticsearch) {
  CannedHttp http(200, R"({"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}})");
  for (const absl::Duration budget :
       {absl::Microseconds(900), absl::Microseconds(1), absl::ZeroDuration(), -absl::Seconds(1)}) {
    EXPECT_EQ(SearchWith(http, SearchPostsRequest(), budget).status().code(),
              absl::StatusCode::kDeadlineExceeded)
        << budget;
  }
  EXPECT_EQ(http.calls, 0);
  EXPECT_TRUE(SearchWith(http, SearchPostsRequest(), absl::Seconds(1)).ok());
  EXPECT_EQ(http.calls, 1);
}

TEST_F(SearchQueryTest, APageTokenThatDoesNotFitTheSortIsInvalidArgument) {
  SearchPostsRequest request;
  const uint64_t hash = QueryHash(request);
  for (const json& after : {json::array({"not-a-time", "a"}), json::array({1, 2}), json::array({1}),
                            json::array({1.5, "a"}), json::array({1, "a", 3}),
                            json::array({uint64_t{18446744073709551615u}, "a"})}) {
    request.set_page_token(EncodePageToken({hash, 20, after}));
    const absl::Status status = Build(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << after;
    EXPECT_THAT(std::string(status.message()), HasSubstr("page_token")) << after;
  }
  request.set_page_token(EncodePageToken({hash, 20, json::array({1700000000000, "a"})}));
  EXPECT_TRUE(Build(request).ok());
  // Relevance sorts by a float score first.
  request.set_query("pasta");
  request.set_page_token(
      EncodePageToken({QueryHash(request), 20, json::array({1.25, 1700000000000, "a"})}));
  EXPECT_TRUE(Build(request).ok());
}

}  // namespace
}  // namespace scout::server
