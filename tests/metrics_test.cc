// The instruments every binary shares: worker progress as metrics, and
// backend calls counted and timed through the metered HTTP client (with an
// in-memory HttpClient standing in for the network).
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "common/backends/metrics.h"
#include "common/backends/progress.h"
#include "tests/metric_value.h"

namespace scout {
namespace {

using scout::testing::MetricValue;

TEST(MetricsTest, ProgressCountsWorkerItemsByStage) {
  const double before = MetricValue("scout_worker_items_done_total", {{"stage", "ingest"}});
  {
    Progress progress("ingest", 10);
    EXPECT_EQ(MetricValue("scout_worker_items_expected", {{"stage", "ingest"}}), 10);
    progress.Add(3);
    progress.Add();
    progress.SetTotal(12);
    EXPECT_EQ(MetricValue("scout_worker_items_expected", {{"stage", "ingest"}}), 12);
  }
  EXPECT_EQ(MetricValue("scout_worker_items_done_total", {{"stage", "ingest"}}) - before, 4);
  // The stage is the label's first word: one series for every date.
  Progress("aggregate 2026-11-20", 0).Add(2);
  Progress("aggregate 2026-11-21", 0).Add(5);
  EXPECT_EQ(MetricValue("scout_worker_items_done_total", {{"stage", "aggregate"}}), 7);
}

class ScriptedHttp final : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (request.url == "down") return absl::UnavailableError("connection refused");
    HttpResponse response;
    response.status = request.url == "busy" ? 429 : request.url == "broken" ? 503 : 200;
    return response;
  }
};

TEST(MetricsTest, MeteredClientTimesEveryCallAndCountsFailures) {
  std::unique_ptr<HttpClient> http = NewMeteredHttpClient(std::make_unique<ScriptedHttp>(), "es-t");
  for (const char* url : {"ok", "ok", "busy", "broken", "down", "ok"}) {
    HttpRequest request;
    request.url = url;
    (void)http->Send(request);
  }
  EXPECT_EQ(MetricValue("scout_backend_request_seconds", {{"backend", "es-t"}}), 6);
  EXPECT_EQ(MetricValue("scout_backend_errors_total", {{"backend", "es-t"}}), 3);
}

TEST(MetricsTest, EndpointServesTheRegistry) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_GT((*endpoint)->port(), 0);
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> taken =
      MetricsEndpoint::Start(absl::StrCat("127.0.0.1:", (*endpoint)->port()));
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(taken.status().message().find("cannot listen"), std::string::npos) << taken.status();
}

}  // namespace
}  // namespace scout
