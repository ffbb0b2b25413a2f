// HttpClient: the one way Scout talks HTTP (Elasticsearch, media fetches,
// file:// URLs included), behind an interface so tests can inject faults.
// Implementations are thread-safe; the curl one reuses connections.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace scout {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  absl::Duration timeout = absl::Seconds(30);
};

struct HttpResponse {
  long status = 0;  // 0 for file:// URLs that were read.
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Transport failures are UNAVAILABLE (connection refused, reset) or
  // DEADLINE_EXCEEDED (timeout); any HTTP status is a successful response.
  // For file:// URLs a missing file is NOT_FOUND.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> NewCurlHttpClient();

}  // namespace scout
