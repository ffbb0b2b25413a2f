// ScoutServer on port 0 with a real channel, over the real local
// Elasticsearch: search semantics, paging, errors and outages; then what
// operations rely on: API keys, TLS, limits, metrics, request ids, draining.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/backends/post_index.h"
#include "common/base/sha256.h"
#include "common/base/time.h"
#include "common/io/files.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/server.h"
#include "tests/es_fixture.h"
#include "tests/metric_value.h"

namespace scout::server {
namespace {

using scout::v1::Post;
using scout::v1::SearchPostsRequest;
using scout::v1::SearchPostsResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

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

// A loopback port that accepts connections and never answers, like an
// overloaded or wedged Elasticsearch node. url() is empty if it could not
// be set up.
class HangingEndpoint {
 public:
  HangingEndpoint() : sock_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        listen(sock_, 16) == 0 &&
        getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      url_ = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port));
    }
  }
  ~HangingEndpoint() {
    for (int fd : accepted_) close(fd);
    close(sock_);
  }
  const std::string& url() const { return url_; }

  // Accepts (and then ignores) connections until `n` came or `timeout`
  // passed; returns how many came so far.
  int AcceptUntil(int n, absl::Duration timeout) {
    for (const absl::Time until = absl::Now() + timeout;
         static_cast<int>(accepted_.size()) < n && absl::Now() < until;) {
      pollfd ready{sock_, POLLIN, 0};
      if (poll(&ready, 1, 50) == 1) {
        if (const int fd = accept(sock_, nullptr, nullptr); fd >= 0) accepted_.push_back(fd);
      }
    }
    return static_cast<int>(accepted_.size());
  }

 private:
  int sock_;
  std::string url_;
  std::vector<int> accepted_;
};

class ServerTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    const absl::Status ensured = EnsureIndices(*elastic_, prefix_);
    ASSERT_TRUE(ensured.ok()) << ensured;
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

  scout::v1::Config ServerConfig(const std::string& es_url) const {
    scout::v1::Config config;
    config.set_es_url(es_url);
    config.set_listen("127.0.0.1:0");
    config.set_index_prefix(prefix_);
    config.set_now_unix(absl::ToUnixSeconds(kNow));
    return config;
  }

  void StartServer(
      const std::string& es_url, ServerOptions options = {},
      std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials(),
      const std::string& metrics_listen = "") {
    scout::v1::Config config = ServerConfig(es_url);
    config.set_metrics_listen(metrics_listen);
    absl::StatusOr<std::unique_ptr<ScoutServer>> server =
        ScoutServer::Start(config, std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::BrandService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), credentials));
  }

  // `api_key` empty: no authorization metadata.
  grpc::Status Search(const SearchPostsRequest& request, SearchPostsResponse& response,
                      absl::Duration timeout = absl::Seconds(10), const std::string& api_key = "") {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (!api_key.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
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

TEST_F(ServerTest, HighlightIsEscapedHtmlAndTheCaptionRawText) {
  const std::string caption = R"(<img src=x onerror=alert(1)> pasta & "wine")";
  Index({MakePost("xss", "a", absl::Hours(1), caption, 1)});
  StartServer(es_url_);
  SearchPostsRequest request;
  request.set_query("pasta");
  SearchPostsResponse response;
  const grpc::Status status = Search(request, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.posts_size(), 1);
  EXPECT_EQ(response.posts(0).highlight(),
            "&lt;img src=x onerror=alert(1)&gt; <em>pasta</em> &amp; &quot;wine&quot;");
  EXPECT_EQ(response.posts(0).caption(), caption);
}

TEST_F(ServerTest, AQueryElasticsearchRefusesIsInternal) {
  // A month created by hand with `id` as text: sorting on it (our query
  // always does) is refused with a 400. That is our query not fitting our
  // index, not a bad request.
  const std::string month = MonthlyIndex(prefix_, kNow - absl::Hours(1));
  ASSERT_TRUE(
      elastic_->Call("PUT", month, {{"mappings", {{"properties", {{"id", {{"type", "text"}}}}}}}})
          .ok());
  Index({MakePost("1", "a", absl::Hours(1), "pasta", 1)});
  StartServer(es_url_);
  SearchPostsResponse response;
  const grpc::Status status = Search(SearchPostsRequest(), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("search query refused"));
}

TEST_F(ServerTest, ElasticsearchErrorTypesAreExposed) {
  // EnsureIndices ran in SetUp; again is fine (the quarantine index exists).
  EXPECT_TRUE(EnsureIndices(*elastic_, prefix_).ok());
  const absl::Status again = elastic_->Call("PUT", QuarantineIndex(prefix_)).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ElasticErrorType(again), "resource_already_exists_exception");
  const absl::Status missing =
      elastic_->Call("GET", absl::StrCat(prefix_, "-none/_doc/1")).status();
  EXPECT_EQ(ElasticErrorType(missing), "index_not_found_exception");
  EXPECT_EQ(ElasticErrorType(absl::InternalError("x")), "");
}

TEST_F(ServerTest, HostileTextIsOnlyEverText) {
  Index({MakePost("plain", "a", absl::Hours(1), "sunset over the bay", 1),
         MakePost("sql", "b", absl::Hours(2), "x'; DROP TABLE profile_facts; -- #hack", 2),
         MakePost("dsl", "c", absl::Hours(3),
                  R"({"query":{"match_all":{}}} _exists_:id OR *:* script)", 3),
         MakePost("ctl", "d", absl::Hours(4), "bell\a tab\t nul-free \x1b[31mred", 4)});
  StartServer(es_url_);
  const auto ids = [&](const std::string& query) {
    SearchPostsRequest request;
    request.set_query(query);
    return Ids(request);
  };
  // Query syntax is not interpreted. Without a word it is no text query at
  // all (the newest posts, as for ""); with words, every word must be in the
  // post as a word: no wildcard, field or boolean operator gets through.
  for (const char* wordless : {"*", "*:*", "\"\"", "()"}) {
    EXPECT_THAT(ids(wordless), ElementsAre("plain", "sql", "dsl", "ctl")) << wordless;
  }
  EXPECT_THAT(ids("sunset OR bay OR anything"), ElementsAre());  // Words, all required.
  EXPECT_THAT(ids(R"({"match_all":{}})"), ElementsAre("dsl"));   // Found as its words.
  EXPECT_THAT(ids("_exists_:id"), ElementsAre("dsl"));
  EXPECT_THAT(ids("' OR 1=1 --"), ElementsAre());
  EXPECT_THAT(ids("DROP TABLE profile_facts"), ElementsAre("sql"));
  EXPECT_THAT(ids("\abell\x1b tab\t"), ElementsAre("ctl"));
  EXPECT_THAT(ids(std::string("sunset\0bay", 10)), ElementsAre("plain"));

  SearchPostsRequest tag;
  tag.add_hashtags("hack");
  EXPECT_THAT(Ids(tag), ElementsAre("sql"));
  tag.set_hashtags(0, "*");
  EXPECT_THAT(Ids(tag), ElementsAre());

  // Invalid UTF-8 never reaches Elasticsearch. gRPC's C++ runtime refuses
  // to parse such a request before our code runs (answering UNIMPLEMENTED,
  // its code for an unparsable request); Go clients such as grpcurl cannot
  // even send one. In-process callers get INVALID_ARGUMENT from BuildQuery
  // (search_query_test).
  SearchPostsRequest broken;
  broken.set_query("caf\xc3");
  SearchPostsResponse response;
  const grpc::Status status = Search(broken, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
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

TEST_F(ServerTest, PagesThroughEveryHitOnce) {
  std::vector<Post> posts;
  for (int i = 0; i < 130; ++i) {
    // Equal timestamps in pairs: the id tiebreaker must keep paging exact.
    posts.push_back(MakePost(absl::StrCat("p", i), "a", absl::Minutes(i / 2), "bulk", i));
  }
  Index(posts);
  StartServer(es_url_);

  SearchPostsRequest request;
  request.set_page_size(kMaxPageSize);
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

TEST_F(ServerTest, OverLimitRequestsAreInvalidArgumentNamingTheLimit) {
  ServerOptions options;
  options.service.rpc.max_request_bytes = 4096;
  StartServer(es_url_, options);
  const auto expect_invalid = [&](const SearchPostsRequest& request, const std::string& says) {
    SearchPostsResponse response;
    const grpc::Status status = Search(request, response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << says;
    EXPECT_THAT(status.error_message(), HasSubstr(says));
  };
  SearchPostsRequest request;
  request.set_page_size(-5);
  expect_invalid(request, "page_size: 0 (default 20) to at most 100 (got -5)");
  request.set_page_size(101);
  expect_invalid(request, "page_size: 0 (default 20) to at most 100 (got 101)");

  request.Clear();
  request.set_query(std::string(kMaxQueryBytes + 1, 'a'));
  expect_invalid(request, "query: at most 1024 bytes (got 1025)");
  request.set_query(std::string(5000, 'a'));
  expect_invalid(request, "the limit (max_request_bytes) is 4096");

  request.Clear();
  for (int i = 0; i <= kMaxFilterValues; ++i) request.add_hashtags(absl::StrCat("t", i));
  expect_invalid(request, "hashtags: at most 50 values (got 51)");
  request.Clear();
  for (int i = 0; i <= kMaxFilterValues; ++i) request.add_owner_ids(absl::StrCat(i));
  expect_invalid(request, "owner_ids: at most 50 values (got 51)");

  // At the limits exactly, the same requests are fine.
  request.Clear();
  request.set_query(std::string(kMaxQueryBytes, 'a'));
  request.set_page_size(kMaxPageSize);
  for (int i = 0; i < kMaxFilterValues; ++i) request.add_owner_ids(absl::StrCat(i));
  SearchPostsResponse response;
  const grpc::Status status = Search(request, response);
  EXPECT_TRUE(status.ok()) << status.error_message();
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
  HangingEndpoint hanging;
  ASSERT_FALSE(hanging.url().empty());
  ServerOptions options;
  options.palette_index = false;  // Its calls would hang too, and count.
  StartServer(hanging.url(), options);

  SearchPostsResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = Search(SearchPostsRequest(), response, absl::Milliseconds(800));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(took, absl::Milliseconds(1500));
}

// One backend thread, room for one waiting call, Elasticsearch hanging: the
// call after that is refused at once, and the waiting call whose client gave
// up is answered CANCELLED without running (a server that ran it anyway
// would answer DEADLINE_EXCEEDED from the search, which checks its time).
TEST_F(ServerTest, AnOverloadedServerRefusesAtOnceAndSkipsAbandonedCalls) {
  using scout::testing::MetricValue;
  HangingEndpoint hanging;
  ASSERT_FALSE(hanging.url().empty());
  ServerOptions options;
  options.service.backend_threads = 1;
  options.service.max_queued_calls = 1;
  options.service.max_backend_time = absl::Seconds(2);
  options.palette_index = false;  // Its calls would hang too, and count.
  StartServer(hanging.url(), options);
  const std::map<std::string, std::string> cancelled = {{"method", "SearchPosts"},
                                                        {"code", "CANCELLED"}};
  const double cancelled_before = MetricValue("scout_rpc_requests_total", cancelled);
  const double exhausted_before = MetricValue(
      "scout_rpc_requests_total", {{"method", "SearchPosts"}, {"code", "RESOURCE_EXHAUSTED"}});

  grpc::Status busy;
  std::thread first([&] {
    SearchPostsResponse response;
    busy = Search(SearchPostsRequest(), response, absl::Seconds(10));
  });
  // The only thread now waits on Elasticsearch.
  ASSERT_EQ(hanging.AcceptUntil(1, absl::Seconds(10)), 1);

  // Two more at once: one takes the queue's only place (and its client gives
  // up after 1 s), the other is refused without waiting.
  grpc::Status statuses[2];
  absl::Duration took[2];
  std::thread others[2];
  for (int i = 0; i < 2; ++i) {
    others[i] = std::thread([&, i] {
      SearchPostsResponse response;
      const absl::Time start = absl::Now();
      statuses[i] = Search(SearchPostsRequest(), response, absl::Seconds(1));
      took[i] = absl::Now() - start;
    });
  }
  for (std::thread& other : others) other.join();
  const int refused = statuses[0].error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? 0 : 1;
  EXPECT_EQ(statuses[refused].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << statuses[refused].error_message();
  EXPECT_THAT(statuses[refused].error_message(), HasSubstr("overloaded"));
  EXPECT_LT(took[refused], absl::Milliseconds(900));
  EXPECT_EQ(statuses[1 - refused].error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << statuses[1 - refused].error_message();
  EXPECT_EQ(MetricValue("scout_rpc_requests_total",
                        {{"method", "SearchPosts"}, {"code", "RESOURCE_EXHAUSTED"}}),
            exhausted_before + 1);

  first.join();  // Elasticsearch's 2 s are up: the thread is free again.
  EXPECT_NE(busy.error_code(), grpc::StatusCode::OK);
  double now_cancelled = cancelled_before;
  for (const absl::Time until = absl::Now() + absl::Seconds(5);
       now_cancelled == cancelled_before && absl::Now() < until;
       absl::SleepFor(absl::Milliseconds(50))) {
    now_cancelled = MetricValue("scout_rpc_requests_total", cancelled);
  }
  EXPECT_EQ(now_cancelled, cancelled_before + 1);
  // Nothing else reached Elasticsearch.
  EXPECT_EQ(hanging.AcceptUntil(2, absl::Milliseconds(300)), 1);
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

// --- Operations: keys, TLS, limits, metrics, request ids, draining ---------

// A scratch folder for key files and certificates, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "scout-ops-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string operator/(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::string KeyLine(absl::string_view key, absl::string_view name) {
  return absl::StrCat(Sha256Hex(key), "  ", name, "\n");
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(int port) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

TEST(KeyFileTest, ParsesHashesNamesAndComments) {
  const std::string hash(64, 'a');
  absl::StatusOr<KeyHashes> keys =
      ParseKeyFile(absl::StrCat("# comment\n\n", hash, "  acme\n", std::string(64, 'B'), "\n"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->at(hash), "acme");
  EXPECT_EQ(keys->at(std::string(64, 'b')), "bbbbbbbb");  // Lower-cased; named by its prefix.

  for (const std::string& bad :
       std::vector<std::string>{"plainkey", "abc name", absl::StrCat(hash, " a b")}) {
    absl::StatusOr<KeyHashes> parsed = ParseKeyFile(absl::StrCat("# ok\n", bad, "\n"));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("line 2")) << bad;
  }
}

TEST_F(ServerTest, ApiKeysGuardEveryCallButHealth) {
  Index({MakePost("1", "a", absl::Hours(1), "pasta #cafe", 10)});
  ScratchDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "keys", KeyLine("k-good", "acme")).ok());
  ServerOptions options;
  options.api_keys_file = dir / "keys";
  StartServer(es_url_, options);

  SearchPostsRequest request;
  request.add_hashtags("cafe");
  SearchPostsResponse response;
  grpc::Status status = Search(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("authorization: Bearer <key>"));
  status = Search(request, response, absl::Seconds(10), "k-bad");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(response.posts_size(), 0);

  status = Search(request, response, absl::Seconds(10), "k-good");
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.posts_size(), 1);
  EXPECT_EQ(response.posts(0).id(), "1");

  // Checked before anything else: without a warehouse this would otherwise
  // be FAILED_PRECONDITION.
  for (int call = 0; call < 2; ++call) {
    grpc::ClientContext context;
    v1::GetUserProfileRequest profile_request;
    profile_request.set_user_id("1");
    v1::UserProfile profile;
    v1::GetPaletteRequest palette_request;
    palette_request.set_user_id("1");
    v1::Palette palette;
    status = call == 0 ? stub_->GetUserProfile(&context, profile_request, &profile)
                       : stub_->GetPalette(&context, palette_request, &palette);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << call;
  }
  EXPECT_EQ(Health(server_->port()), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, ApiKeysRotateWithoutARestart) {
  ScratchDir dir;
  const std::string path = dir / "keys";
  ASSERT_TRUE(WriteFileAtomically(path, KeyLine("k-old", "old")).ok());
  ServerOptions options;
  options.api_keys_file = path;
  StartServer(es_url_, options);
  SearchPostsResponse response;
  ASSERT_TRUE(Search({}, response, absl::Seconds(10), "k-old").ok());

  // Step 1: both keys; step 2: the new one only.
  ASSERT_TRUE(WriteFileAtomically(path, KeyLine("k-old", "old") + KeyLine("k-new", "new")).ok());
  const auto accepted = [&](const std::string& key) {
    return Search({}, response, absl::Seconds(10), key).ok();
  };
  const auto eventually = [&](auto condition) {
    for (absl::Time until = absl::Now() + absl::Seconds(10); absl::Now() < until;
         absl::SleepFor(absl::Milliseconds(100))) {
      if (condition()) return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually([&] { return accepted("k-new"); }));
  EXPECT_TRUE(accepted("k-old"));
  ASSERT_TRUE(WriteFileAtomically(path, KeyLine("k-new", "new")).ok());
  EXPECT_TRUE(eventually([&] { return !accepted("k-old"); }));
  EXPECT_TRUE(accepted("k-new"));

  // A broken file keeps the last good keys rather than locking everyone out.
  ASSERT_TRUE(WriteFileAtomically(path, "not a key file\n").ok());
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(accepted("k-new"));
  EXPECT_FALSE(accepted("k-old"));
}

// A self-signed certificate for 127.0.0.1 written to `dir`/<name>.{key,cert}.pem;
// returns the certificate (PEM), "" on failure.
std::string SelfSignedCertificate(const ScratchDir& dir, const std::string& name) {
  const std::string command =
      absl::StrCat("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=", name,
                   " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
                   dir / (name + ".key.pem"), " -out ", dir / (name + ".cert.pem"), " 2>/dev/null");
  if (std::system(command.c_str()) != 0) return "";
  absl::StatusOr<std::string> cert = ReadFile(dir / (name + ".cert.pem"));
  return cert.ok() ? *cert : "";
}

TEST_F(ServerTest, ServesTlsAndPicksUpARenewedCertificate) {
  Index({MakePost("1", "a", absl::Hours(1), "pasta", 10)});
  ScratchDir dir;
  const std::string first = SelfSignedCertificate(dir, "first");
  const std::string renewed = SelfSignedCertificate(dir, "renewed");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(renewed.empty());
  const auto install = [&](const std::string& name) {
    ASSERT_TRUE(WriteFileAtomically(dir / "key.pem", *ReadFile(dir / (name + ".key.pem"))).ok());
    ASSERT_TRUE(WriteFileAtomically(dir / "cert.pem", *ReadFile(dir / (name + ".cert.pem"))).ok());
  };
  install("first");

  ServerOptions options;
  options.tls_cert_file = dir / "cert.pem";
  options.tls_key_file = dir / "key.pem";
  options.tls_reload = absl::Seconds(1);
  StartServer(es_url_, options);
  const std::string address = absl::StrCat("127.0.0.1:", server_->port());
  // A new channel per call: a renewed certificate applies to new connections.
  const auto search = [&](const std::string& trusted,
                          std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr) {
    if (credentials == nullptr) {
      grpc::SslCredentialsOptions trust;
      trust.pem_root_certs = trusted;
      credentials = grpc::SslCredentials(trust);
    }
    stub_ = v1::BrandService::NewStub(grpc::CreateChannel(address, credentials));
    SearchPostsRequest request;
    request.set_query("pasta");
    SearchPostsResponse response;
    const grpc::Status status = Search(request, response, absl::Seconds(3));
    return status.ok() && response.posts_size() == 1 && response.posts(0).id() == "1";
  };
  EXPECT_TRUE(search(first));
  EXPECT_FALSE(search(renewed));
  EXPECT_FALSE(search("", grpc::InsecureChannelCredentials()));  // Plaintext gets nowhere.

  install("renewed");
  bool switched = false;
  for (absl::Time until = absl::Now() + absl::Seconds(15); !switched && absl::Now() < until;
       absl::SleepFor(absl::Milliseconds(250))) {
    switched = search(renewed);
  }
  EXPECT_TRUE(switched) << "the renewed certificate was never served";
  EXPECT_FALSE(search(first));
}

TEST_F(ServerTest, PlaintextAndKeylessServingStayOnLoopback) {
  scout::v1::Config config = ServerConfig(es_url_);
  config.set_listen("0.0.0.0:0");
  absl::StatusOr<std::unique_ptr<ScoutServer>> server = ScoutServer::Start(config);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("--tls_cert"));

  ServerOptions options;
  options.allow_plaintext = true;  // Behind a TLS-terminating proxy ...
  server = ScoutServer::Start(config, options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("--api_keys"));

  ScratchDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "keys", KeyLine("k", "k")).ok());
  options.api_keys_file = dir / "keys";  // ... with keys, it may.
  server = ScoutServer::Start(config, options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);

  EXPECT_TRUE(IsLoopback("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopback("[::1]:50051"));
  EXPECT_TRUE(IsLoopback("localhost:1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopback("[::]:50051"));
  EXPECT_FALSE(IsLoopback("10.0.0.5:50051"));
}

TEST(IsLoopbackTest, ParsesTheAddressInsteadOfMatchingAPrefix) {
  EXPECT_TRUE(IsLoopback("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopback("127.255.3.4:1"));
  EXPECT_TRUE(IsLoopback("[::1]:1"));
  EXPECT_TRUE(IsLoopback("[0:0:0:0:0:0:0:1]:1"));
  EXPECT_TRUE(IsLoopback("localhost:1"));
  // Names resolve wherever their owner likes.
  EXPECT_FALSE(IsLoopback("127.evil.example:1"));
  EXPECT_FALSE(IsLoopback("127.0.0.1.nip.io:1"));
  EXPECT_FALSE(IsLoopback("localhost.evil.example:1"));
  EXPECT_FALSE(IsLoopback("127.1:1"));  // Shorthands are names to a resolver.
  EXPECT_FALSE(IsLoopback("128.0.0.1:1"));
  EXPECT_FALSE(IsLoopback("[::2]:1"));
  EXPECT_FALSE(IsLoopback("[::1"));
  EXPECT_FALSE(IsLoopback("127.0.0.1"));  // No port.
  EXPECT_FALSE(IsLoopback(":1"));
}

// A key file or certificate that is not there is the same mistake: bad
// configuration (main exits 2), naming the flag.
TEST_F(ServerTest, MissingKeyAndCertificateFilesAreConfigurationErrors) {
  ScratchDir dir;
  ServerOptions keys;
  keys.api_keys_file = dir / "no-such-keys";
  absl::StatusOr<std::unique_ptr<ScoutServer>> server =
      ScoutServer::Start(ServerConfig(es_url_), keys);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("--api_keys"));
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("no-such-keys"));

  ServerOptions tls;
  tls.tls_cert_file = dir / "no-such-cert.pem";
  tls.tls_key_file = dir / "no-such-key.pem";
  server = ScoutServer::Start(ServerConfig(es_url_), tls);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("--tls_cert"));
}

// The value of one sample in Prometheus text format, 0 if absent.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      double value = 0;
      EXPECT_TRUE(absl::SimpleAtod(line, &value)) << line;
      return value;
    }
  }
  return 0;
}

TEST_F(ServerTest, MetricsCountCallsAndBackendLatency) {
  Index({MakePost("1", "a", absl::Hours(1), "pasta", 10)});
  StartServer(es_url_, {}, grpc::InsecureChannelCredentials(), "127.0.0.1:0");
  ASSERT_GT(server_->metrics_port(), 0);
  const auto scrape = [&] {
    HttpRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", server_->metrics_port(), "/metrics");
    absl::StatusOr<HttpResponse> answer = http_->Send(request);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? answer->body : std::string();
  };
  const std::string ok = R"(scout_rpc_requests_total{code="OK",method="SearchPosts"})";
  const std::string invalid =
      R"(scout_rpc_requests_total{code="INVALID_ARGUMENT",method="SearchPosts"})";
  const std::string timed = R"(scout_rpc_duration_seconds_count{method="SearchPosts"})";
  const std::string backend = R"(scout_backend_request_seconds_count{backend="elasticsearch"})";
  const std::string before = scrape();

  SearchPostsResponse response;
  ASSERT_TRUE(Search({}, response).ok());
  ASSERT_TRUE(Search({}, response).ok());
  SearchPostsRequest bad;
  bad.set_page_size(-1);
  EXPECT_FALSE(Search(bad, response).ok());

  const std::string after = scrape();
  EXPECT_EQ(Sample(after, ok) - Sample(before, ok), 2) << after;
  EXPECT_EQ(Sample(after, invalid) - Sample(before, invalid), 1);
  EXPECT_EQ(Sample(after, timed) - Sample(before, timed), 3);
  EXPECT_EQ(Sample(after, backend) - Sample(before, backend), 2);  // The bad one never left.
}

TEST_F(ServerTest, EveryAnswerCarriesARequestId) {
  StartServer(es_url_);
  const auto request_id = [&](const std::string& chosen) {
    grpc::ClientContext context;
    if (!chosen.empty()) context.AddMetadata("x-request-id", chosen);
    SearchPostsResponse response;
    EXPECT_TRUE(stub_->SearchPosts(&context, {}, &response).ok());
    const auto& metadata = context.GetServerInitialMetadata();
    const auto it = metadata.find("x-request-id");
    return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
  };
  EXPECT_EQ(request_id("trace-42.a_b"), "trace-42.a_b");
  const std::string generated = request_id("");
  EXPECT_EQ(generated.size(), 16u) << generated;
  EXPECT_NE(generated, request_id(""));
  // One that would garble a log line is replaced.
  EXPECT_EQ(request_id("bad id\"}").size(), 16u);
}

TEST_F(ServerTest, ShutdownDrainsCallsInFlight) {
  // An Elasticsearch that accepts and never answers keeps a call in flight
  // for max_backend_time; the drain must let it end with its own answer.
  HangingEndpoint hanging;
  ASSERT_FALSE(hanging.url().empty());
  ServerOptions options;
  options.service.max_backend_time = absl::Seconds(1);
  options.palette_index = false;  // Its calls would hang too.
  StartServer(hanging.url(), options);
  grpc::Status in_flight;
  std::thread call([&] {
    SearchPostsResponse response;
    in_flight = Search({}, response, absl::Seconds(20));
  });
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Now() + absl::Seconds(10));
  const absl::Duration drained = absl::Now() - start;
  call.join();
  // It ran into its backend deadline (its own answer), not a cancellation,
  // and the drain ended when it did, well before the 10 s allowed.
  EXPECT_EQ(in_flight.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << in_flight.error_message();
  EXPECT_THAT(in_flight.error_message(), HasSubstr("elasticsearch"));
  EXPECT_LT(drained, absl::Seconds(3));

  // Afterwards nothing is taken.
  SearchPostsResponse response;
  EXPECT_EQ(Search({}, response, absl::Seconds(2)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace scout::server
