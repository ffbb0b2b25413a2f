// ScoutServer on port 0 with a real channel, over the real local
// Elasticsearch: search semantics, paging, errors and outages.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/post_index.h"
#include "common/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/server.h"
#include "tests/es_fixture.h"

namespace scout::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using scout::v1::Post;
using scout::v1::SearchPostsRequest;
using scout::v1::SearchPostsResponse;

const absl::Time kNow = absl::FromUnixSeconds(1795305600);  // 2026-11-22T00:00:00Z

Post MakePost(const std::string& id, const std::string& owner, absl::Duration age,
              const std::string& caption, int64_t likes) {
  Post post;
  post.set_id(id);
  post.set_owner_id(owner);
  post.set_username(absl::StrCat("user", owner));
  post.set_caption(caption);
  post.set_media_type(v1::MEDIA_TYPE_IMAGE);
  *post.mutable_timestamp() = ToTimestamp(kNow - age);
  post.set_like_count(likes);
  post.set_comments_count(1);
  post.set_engagement(likes + 1);
  return post;
}

class ServerTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(elastic_
                    ->Call("PUT", absl::StrCat("_index_template/", prefix_),
                           PostIndexTemplate(prefix_))
                    .ok());
  }

  void Index(std::vector<Post> posts) {
    std::string bulk;
    for (Post& post : posts) {
      for (const std::string& tag : ExtractTagsForTest(post.caption())) post.add_hashtags(tag);
      const nlohmann::json header = {
          {"index",
           {{"_index", MonthlyIndex(prefix_, FromTimestamp(post.timestamp()))},
            {"_id", post.id()}}}};
      absl::StrAppend(&bulk, header.dump(), "\n", PostToDocument(post, "k"), "\n");
    }
    absl::StatusOr<nlohmann::json> answer = elastic_->CallRaw(
        "POST", "_bulk?refresh=true", bulk, "application/x-ndjson", absl::Seconds(30));
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_FALSE((*answer)["errors"].get<bool>()) << answer->dump();
  }

  static std::vector<std::string> ExtractTagsForTest(const std::string& caption) {
    std::vector<std::string> tags;
    for (size_t at = caption.find('#'); at != std::string::npos; at = caption.find('#', at + 1)) {
      const size_t end = caption.find(' ', at);
      tags.push_back(caption.substr(at + 1, end == std::string::npos ? end : end - at - 1));
    }
    return tags;
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

  grpc::Status Search(const SearchPostsRequest& request, SearchPostsResponse& response,
                      absl::Duration timeout = absl::Seconds(10)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return stub_->SearchPosts(&context, request, &response);
  }

  std::vector<std::string> Ids(const SearchPostsRequest& request) {
    SearchPostsResponse response;
    const grpc::Status status = Search(request, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const Post& post : response.posts()) ids.push_back(post.id());
    return ids;
  }

  std::unique_ptr<ScoutServer> server_;
  std::unique_ptr<v1::BrandService::Stub> stub_;
};

TEST_F(ServerTest, FindsTextAndTagsRegardlessOfCaseAndAccents) {
  Index({MakePost("1", "a", absl::Hours(1), "Crème brûlée at the #CAFÉ", 10),
         MakePost("2", "b", absl::Hours(2), "Pasta night #cafe #TravelGram", 20),
         MakePost("3", "c", absl::Hours(3), "Nothing to see", 30)});
  StartServer(es_url_);

  SearchPostsRequest request;
  request.set_query("CREME Brulee");
  SearchPostsResponse response;
  ASSERT_TRUE(Search(request, response).ok());
  ASSERT_EQ(response.posts_size(), 1);
  const Post& hit = response.posts(0);
  EXPECT_EQ(hit.id(), "1");
  EXPECT_EQ(hit.caption(), "Crème brûlée at the #CAFÉ");
  EXPECT_EQ(hit.like_count(), 10);
  EXPECT_EQ(hit.highlight(), "<em>Crème</em> <em>brûlée</em> at the #CAFÉ");
  EXPECT_EQ(response.total_size(), 1);

  for (const char* tag : {"#Café", "cafe", "CAFÉ"}) {
    request.Clear();
    request.add_hashtags(tag);
    EXPECT_THAT(Ids(request), UnorderedElementsAre("1", "2")) << tag;
  }
  request.Clear();
  request.add_hashtags("cafe");
  request.add_hashtags("travelgram");
  EXPECT_THAT(Ids(request), ElementsAre("2"));
}

TEST_F(ServerTest, FiltersSortsAndKeepsTheWindow) {
  Post video = MakePost("v", "b", absl::Hours(5), "clip", 5);
  video.set_media_type(v1::MEDIA_TYPE_VIDEO);
  Index({MakePost("new", "a", absl::Hours(1), "pasta", 1),
         MakePost("popular", "a", absl::Hours(30), "pasta", 900), video,
         MakePost("edge", "a", absl::Hours(24 * 179), "pasta", 2),
         // Indexed, but outside the 180-day window: never returned.
         MakePost("old", "a", absl::Hours(24 * 181), "pasta", 1000)});
  StartServer(es_url_);

  SearchPostsRequest request;
  request.add_owner_ids("a");
  EXPECT_THAT(Ids(request), ElementsAre("new", "popular", "edge"));  // Recent first.
  request.set_sort(v1::SORT_ORDER_ENGAGEMENT);
  EXPECT_THAT(Ids(request), ElementsAre("popular", "edge", "new"));
  *request.mutable_since() = ToTimestamp(kNow - absl::Hours(24 * 400));
  EXPECT_THAT(Ids(request), ElementsAre("popular", "edge", "new"));
  *request.mutable_since() = ToTimestamp(kNow - absl::Hours(2));
  EXPECT_THAT(Ids(request), ElementsAre("new"));

  request.Clear();
  request.add_media_types(v1::MEDIA_TYPE_VIDEO);
  EXPECT_THAT(Ids(request), ElementsAre("v"));
}

TEST_F(ServerTest, PagesThroughEveryHitOnceAndCoercesPageSize) {
  std::vector<Post> posts;
  for (int i = 0; i < 130; ++i) {
    // Equal timestamps in pairs: the id tiebreaker must keep paging exact.
    posts.push_back(MakePost(absl::StrCat("p", i), "a", absl::Minutes(i / 2), "bulk", i));
  }
  Index(posts);
  StartServer(es_url_);

  SearchPostsRequest request;
  request.set_page_size(500);
  SearchPostsResponse first;
  ASSERT_TRUE(Search(request, first).ok());
  EXPECT_EQ(first.posts_size(), kMaxPageSize);
  EXPECT_EQ(first.total_size(), 130);

  std::set<std::string> seen;
  request.set_page_size(40);
  int pages = 0;
  for (;;) {
    SearchPostsResponse page;
    ASSERT_TRUE(Search(request, page).ok());
    ++pages;
    for (const Post& post : page.posts()) EXPECT_TRUE(seen.insert(post.id()).second) << post.id();
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(seen.size(), 130u);
  EXPECT_EQ(pages, 4);

  // A token only works for the query it came from.
  SearchPostsRequest foreign;
  foreign.set_query("bulk");
  foreign.set_page_token(first.next_page_token());
  SearchPostsResponse ignored;
  const grpc::Status status = Search(foreign, ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
}

TEST_F(ServerTest, BadRequestsAreInvalidArgument) {
  StartServer(es_url_);
  SearchPostsRequest request;
  request.set_page_size(-5);
  SearchPostsResponse response;
  const grpc::Status status = Search(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_size"));
}

TEST_F(ServerTest, NothingIndexedYetIsAnEmptyAnswer) {
  StartServer(es_url_);
  SearchPostsResponse response;
  ASSERT_TRUE(Search(SearchPostsRequest(), response).ok());
  EXPECT_EQ(response.posts_size(), 0);
  EXPECT_EQ(response.total_size(), 0);
}

TEST_F(ServerTest, ElasticsearchDownIsUnavailableQuickly) {
  // A loopback port nobody listens on: what a stopped Elasticsearch looks like.
  StartServer("http://127.0.0.1:9");
  SearchPostsResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = Search(SearchPostsRequest(), response, absl::Seconds(5));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("elasticsearch"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(ServerTest, AHangingElasticsearchIsBoundedByTheDeadline) {
  // Listens but never answers: connections are accepted by the kernel and
  // then nothing happens, like an overloaded or wedged node.
  const int sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(sock, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  StartServer(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port)));

  SearchPostsResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = Search(SearchPostsRequest(), response, absl::Milliseconds(800));
  const absl::Duration took = absl::Now() - start;
  close(sock);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(took, absl::Milliseconds(1500));
}

TEST_F(ServerTest, HealthIsServing) {
  StartServer(es_url_);
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace scout::server
