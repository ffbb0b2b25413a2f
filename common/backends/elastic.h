// Elastic: a thin JSON-over-HTTP client for Elasticsearch that turns its
// answers into absl::Status codes once, for every caller. It may be given
// several nodes of one cluster and moves to the next when one refuses
// connections, or, for a read, loses it. Thread-safe (its only state, the
// node in use, is atomic).
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/http.h"

namespace scout {

// The replicas of every Scout index (index.auto_expand_replicas): none on a
// single node, which then stays green, and one as soon as the cluster has a
// second node, so that losing any one node loses no shard and searches keep
// answering. Indices created before this setting keep their 0 replicas
// until `PUT <index>/_settings {"index.auto_expand_replicas": "0-1"}`.
inline constexpr char kAutoExpandReplicas[] = "0-1";

// Elasticsearch's `error.type` of a failed call ("resource_already_exists_exception",
// "index_not_found_exception"...), or "" when the status did not come from
// an Elasticsearch error answer. Match on this, never on message text.
std::string ElasticErrorType(const absl::Status& status);

class Elastic {
 public:
  // `base_url`: one node's URL, or the URLs of several nodes of the same
  // cluster, comma-separated ("http://a:9200,http://b:9200"). Requests go to
  // one node until it refuses a connection, then to the next that accepts
  // (within the call's timeout). A write that was sent and then failed is
  // never resent here: it may have been applied, and whether to retry is the
  // caller's call. A read (GET, HEAD, or Read's POST) is: it changes
  // nothing, and a node killed under a search must not fail the search.
  Elastic(HttpClient* http, std::string base_url);

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
  // A POST to an API that only reads (`<index>/_search`, `_count`): resent
  // to the next node, like a GET, when its connection is lost after sending.
  absl::StatusOr<nlohmann::json> Read(absl::string_view path, const nlohmann::json& body,
                                      absl::Duration timeout);

  const std::string& base_url() const { return base_url_; }

 private:
  absl::StatusOr<nlohmann::json> Send(absl::string_view method, absl::string_view path,
                                      std::string body, absl::string_view content_type,
                                      absl::Duration timeout, bool reads_only);

  HttpClient* const http_;
  const std::string base_url_;
  const std::vector<std::string> nodes_;  // base_url_'s URLs, never empty.
  std::atomic<size_t> node_{0};           // Into nodes_: the one in use.
};

}  // namespace scout
