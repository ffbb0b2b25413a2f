// The pure parts of SearchPosts: request validation, the query DSL it
// builds, page tokens and index naming. The Elasticsearch round trip is in
// server_test.
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/post_index.h"
#include "common/text.h"
#include "common/time.h"
#include "server/page_token.h"
#include "server/search.h"

namespace scout::server {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using scout::v1::SearchPostsRequest;

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
    EXPECT_THAT(std::string(status.message()), HasSubstr("page_size: 0 (default 20) to at most 100"));
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
  const absl::Time post = absl::FromCivil(absl::CivilSecond(2026, 5, 31, 23, 0, 0),
                                          absl::UTCTimeZone());
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

}  // namespace
}  // namespace scout::server
