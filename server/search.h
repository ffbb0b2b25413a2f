// PostSearch: SearchPosts over Elasticsearch. Validates the request, builds
// structured query DSL (user text is only ever a match query's value, never
// query syntax), enforces the 180-day window and pages with search_after.
// Thread-safe: holds only immutable state and thread-safe dependencies.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/base/clock.h"
#include "scout/v1/service.pb.h"
#include "server/es_search.h"

namespace scout::server {

class PostSearch {
 public:
  PostSearch(Elastic* elastic, const Clock* clock, std::string read_alias)
      : elastic_(elastic), clock_(clock), alias_(std::move(read_alias)) {}

  // `deadline` bounds the Elasticsearch call; under a millisecond left is
  // DEADLINE_EXCEEDED without calling it. Errors: INVALID_ARGUMENT for the
  // request, UNAVAILABLE / DEADLINE_EXCEEDED for the backend, INTERNAL for a
  // query Elasticsearch refuses (our bug) or an answer that is not a search
  // answer.
  absl::StatusOr<scout::v1::SearchPostsResponse> Search(
      const scout::v1::SearchPostsRequest& request, absl::Time deadline) const;

  // The Elasticsearch request for `request` (exposed for tests).
  struct Query {
    nlohmann::json body;
    int64_t returned_before = 0;  // Hits served on earlier pages.
  };
  absl::StatusOr<Query> BuildQuery(const scout::v1::SearchPostsRequest& request) const;

 private:
  absl::StatusOr<scout::v1::SearchPostsResponse> ReadAnswer(
      const scout::v1::SearchPostsRequest& request, const Query& query,
      const nlohmann::json& answer) const;

  Elastic* const elastic_;
  const Clock* const clock_;
  const std::string alias_;
};

}  // namespace scout::server
