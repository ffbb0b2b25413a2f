// Test support: an HttpClient that answers every request with one canned
// response, counts the calls and keeps the last URL: the fault-injection
// seam for answers a real Elasticsearch does not give. Not thread-safe.
#pragma once

#include <string>

#include "common/backends/http.h"

namespace scout::testing {

class CannedHttp final : public HttpClient {
 public:
  CannedHttp(long status, std::string body) {
    response_.status = status;
    response_.body = std::move(body);
  }
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    ++calls;
    last_url = request.url;
    return response_;
  }
  int calls = 0;
  std::string last_url;

 private:
  HttpResponse response_;
};

}  // namespace scout::testing
