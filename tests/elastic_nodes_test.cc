// Elastic over several nodes of one cluster (SCOUT_ES_URL="a,b,c"): a node
// that refuses connections is skipped and the next one kept; a write that
// was sent and then failed is not resent elsewhere, a read is (no services).
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/backends/elastic.h"
#include "common/backends/http.h"

namespace scout {
namespace {

// Answers by node (the URL's authority): "down" refuses the connection,
// "reset" loses it after sending, anything else answers 200 with its name.
class NodesHttp final : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    urls.push_back(request.url);
    methods.push_back(request.method);
    for (const auto& [node, state] : states) {
      if (!absl::StartsWith(request.url, node)) continue;
      if (state == "down") return MarkNeverSent(absl::UnavailableError("connection refused"));
      if (state == "reset") return absl::UnavailableError("connection reset by peer");
      HttpResponse response;
      response.status = 200;
      response.body = R"({"node":")" + node + R"("})";
      return response;
    }
    return absl::InternalError("unknown node " + request.url);
  }
  std::map<std::string, std::string> states;
  std::vector<std::string> urls;
  std::vector<std::string> methods;
};

TEST(ElasticNodesTest, OneUrlAsBefore) {
  NodesHttp http;
  http.states["http://a/"] = "up";
  Elastic elastic(&http, "http://a/");
  absl::StatusOr<nlohmann::json> answer = elastic.Call("GET", "_cluster/health");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(http.urls, std::vector<std::string>{"http://a/_cluster/health"});
}

TEST(ElasticNodesTest, RefusedNodeIsSkippedAndTheNextKept) {
  NodesHttp http;
  http.states = {{"http://a:1", "down"}, {"http://b:2", "up"}, {"http://c:3", "up"}};
  Elastic elastic(&http, "http://a:1/, http://b:2 ,http://c:3");
  absl::StatusOr<nlohmann::json> answer = elastic.Call("GET", "x/_search");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["node"], "http://b:2");
  EXPECT_EQ(http.urls, (std::vector<std::string>{"http://a:1/x/_search", "http://b:2/x/_search"}));
  // The next call starts at the node that answered.
  http.urls.clear();
  ASSERT_TRUE(elastic.Call("GET", "y").ok());
  EXPECT_EQ(http.urls, std::vector<std::string>{"http://b:2/y"});
  // When that one goes, the one after it; the list wraps around.
  http.states = {{"http://a:1", "up"}, {"http://b:2", "down"}, {"http://c:3", "down"}};
  http.urls.clear();
  answer = elastic.Call("GET", "z");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["node"], "http://a:1");
  EXPECT_EQ(http.urls, (std::vector<std::string>{"http://b:2/z", "http://c:3/z", "http://a:1/z"}));
}

TEST(ElasticNodesTest, EveryNodeDownIsUnavailableAfterOneTryEach) {
  NodesHttp http;
  http.states = {{"http://a", "down"}, {"http://b", "down"}};
  Elastic elastic(&http, "http://a,http://b");
  absl::StatusOr<nlohmann::json> answer = elastic.Call("GET", "x");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(answer.status().message(), "elasticsearch"));
  EXPECT_EQ(http.urls.size(), 2u);
}

TEST(ElasticNodesTest, ARequestThatLeftIsNotResentElsewhere) {
  NodesHttp http;
  http.states = {{"http://a", "reset"}, {"http://b", "up"}};
  Elastic elastic(&http, "http://a,http://b");
  absl::StatusOr<nlohmann::json> answer = elastic.Call("POST", "_bulk");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http.urls, std::vector<std::string>{"http://a/_bulk"});
}

TEST(ElasticNodesTest, ASearchWhoseNodeDiesUnderItIsAnsweredByTheNext) {
  NodesHttp http;
  http.states = {{"http://a", "reset"}, {"http://b", "up"}};
  Elastic elastic(&http, "http://a,http://b");
  absl::StatusOr<nlohmann::json> answer =
      elastic.Read("posts/_search", {{"size", 0}}, absl::Seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["node"], "http://b");
  EXPECT_EQ(http.urls,
            (std::vector<std::string>{"http://a/posts/_search", "http://b/posts/_search"}));
  EXPECT_EQ(http.methods, (std::vector<std::string>{"POST", "POST"}));
  // The node that answered is kept.
  http.urls.clear();
  ASSERT_TRUE(elastic.Read("posts/_search", {{"size", 0}}, absl::Seconds(5)).ok());
  EXPECT_EQ(http.urls, std::vector<std::string>{"http://b/posts/_search"});
}

TEST(ElasticNodesTest, AGetIsAReadAndAPostThroughCallIsNot) {
  NodesHttp http;
  http.states = {{"http://a", "reset"}, {"http://b", "up"}};
  Elastic elastic(&http, "http://a,http://b");
  absl::StatusOr<nlohmann::json> answer = elastic.Call("GET", "posts/_doc/1");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["node"], "http://b");
  // Call's POST may write (_update, _doc): sent once, wherever it failed.
  http.states = {{"http://a", "up"}, {"http://b", "reset"}};
  http.urls.clear();
  answer = elastic.Call("POST", "posts/_doc/1", {{"x", 1}});
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http.urls, std::vector<std::string>{"http://b/posts/_doc/1"});
}

TEST(ElasticNodesTest, AReadThatLosesEveryNodeIsUnavailableAfterOneTryEach) {
  NodesHttp http;
  http.states = {{"http://a", "reset"}, {"http://b", "down"}, {"http://c", "reset"}};
  Elastic elastic(&http, "http://a,http://b,http://c");
  absl::StatusOr<nlohmann::json> answer = elastic.Read("x/_search", {}, absl::Seconds(5));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http.urls.size(), 3u);
}

}  // namespace
}  // namespace scout
