// Elastic: a thin JSON-over-HTTP client for Elasticsearch that turns its
// answers into absl::Status codes once, for every caller. Thread-safe (it
// holds no state beyond the shared HttpClient).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/http.h"

namespace scout {

// Elasticsearch's `error.type` of a failed call ("resource_already_exists_exception",
// "index_not_found_exception"...), or "" when the status did not come from
// an Elasticsearch error answer. Match on this, never on message text.
std::string ElasticErrorType(const absl::Status& status);

class Elastic {
 public:
  Elastic(HttpClient* http, std::string base_url) : http_(http), base_url_(std::move(base_url)) {}

  // Sends `body` (omitted when null) and parses the JSON answer.
  // Transport failures, 429 and 5xx are UNAVAILABLE (retryable); 400 is
  // INVALID_ARGUMENT and 404 NOT_FOUND, each with Elasticsearch's reason
  // (and its error type, see ElasticErrorType). Whether a 400 is the
  // caller's fault or ours is for the caller to say.
  absl::StatusOr<nlohmann::json> Call(absl::string_view method, absl::string_view path,
                                      const nlohmann::json& body = nullptr,
                                      absl::Duration timeout = absl::Seconds(30));
  // The same with a pre-serialized body (the _bulk API's NDJSON).
  absl::StatusOr<nlohmann::json> CallRaw(absl::string_view method, absl::string_view path,
                                         std::string body, absl::string_view content_type,
                                         absl::Duration timeout);

  const std::string& base_url() const { return base_url_; }

 private:
  HttpClient* const http_;
  const std::string base_url_;
};

}  // namespace scout
