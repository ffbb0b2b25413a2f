#include "common/backends/metrics.h"

#include <exception>

#include <prometheus/exposer.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace scout {
namespace {

std::shared_ptr<prometheus::Registry>& SharedRegistry() {
  static auto* registry =
      new std::shared_ptr<prometheus::Registry>(std::make_shared<prometheus::Registry>());
  return *registry;
}

struct BackendFamilies {
  prometheus::Family<prometheus::Histogram>& seconds =
      prometheus::BuildHistogram()
          .Name("scout_backend_request_seconds")
          .Help("Time of one call to a backend (Elasticsearch, warehouse, media)")
          .Register(Metrics());
  prometheus::Family<prometheus::Counter>& errors =
      prometheus::BuildCounter()
          .Name("scout_backend_errors_total")
          .Help("Backend calls that failed: transport errors, 429 and 5xx answers")
          .Register(Metrics());
};

BackendFamilies& Backend() {
  static auto* families = new BackendFamilies();
  return *families;
}

class MeteredHttpClient final : public HttpClient {
 public:
  MeteredHttpClient(std::unique_ptr<HttpClient> inner, std::string backend)
      : inner_(std::move(inner)), backend_(std::move(backend)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    const absl::Time start = absl::Now();
    absl::StatusOr<HttpResponse> response = inner_->Send(request);
    const bool failed = !response.ok() || response->status == 429 || response->status >= 500;
    RecordBackendCall(backend_, absl::Now() - start, failed);
    return response;
  }

 private:
  const std::unique_ptr<HttpClient> inner_;
  const std::string backend_;
};

}  // namespace

prometheus::Registry& Metrics() { return *SharedRegistry(); }

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    // civetweb's syntax for a loopback-only port is "127.0.0.1:PORT" too.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint: cannot listen on ", listen, ": ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(SharedRegistry());
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat("metrics endpoint: no port for ", listen));
  }
  endpoint->port_ = ports.front();
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

void RecordBackendCall(absl::string_view backend, absl::Duration elapsed, bool failed) {
  BackendFamilies& families = Backend();
  const prometheus::Labels labels = {{"backend", std::string(backend)}};
  families.seconds.Add(labels, LatencyBuckets()).Observe(absl::ToDoubleSeconds(elapsed));
  if (failed) families.errors.Add(labels).Increment();
}

std::unique_ptr<HttpClient> NewMeteredHttpClient(std::unique_ptr<HttpClient> inner,
                                                 std::string backend) {
  return std::make_unique<MeteredHttpClient>(std::move(inner), std::move(backend));
}

}  // namespace scout
