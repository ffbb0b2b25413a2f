// Test support: an HttpClient that answers every request with one canned
// response and counts the calls, the fault-injection seam for answers a real
// Elasticsearch does not give. Not thread-safe.
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
  absl::StatusOr<HttpResponse> Send(const HttpRequest&) override {
    ++calls;
    return response_;
  }
  int calls = 0;

 private:
  HttpResponse response_;
};

}  // namespace scout::testing
