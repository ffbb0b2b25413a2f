// Prometheus metrics: the process-wide registry every component adds its
// families to (as Prometheus' own client libraries have a default one), the
// HTTP endpoint serving it, and the backend-call instruments every binary
// shares. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/http.h"

namespace prometheus {
class Exposer;
}

namespace scout {

// Never destroyed, so metrics may be touched during static destruction.
prometheus::Registry& Metrics();

// Serves Metrics() at http://<listen>/metrics; "127.0.0.1:0" picks a port.
class MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen);
  ~MetricsEndpoint();
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// Latency buckets for calls in the 0.5 ms to 10 s range.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// One outbound call to `backend` ("elasticsearch", "warehouse", "media"):
// scout_backend_request_seconds{backend} and, when `failed`,
// scout_backend_errors_total{backend}.
void RecordBackendCall(absl::string_view backend, absl::Duration elapsed, bool failed);

// Wraps `inner` so every request is recorded as a call to `backend`;
// transport failures, 429 and 5xx answers count as errors.
std::unique_ptr<HttpClient> NewMeteredHttpClient(std::unique_ptr<HttpClient> inner,
                                                 std::string backend);

}  // namespace scout
