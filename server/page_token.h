// Page tokens for SearchPosts and SearchCreators: opaque to clients, bound to the query they
// came from (a token replayed with other filters is rejected) and carrying
// Elasticsearch's search_after sort values. Pure functions, thread-safe.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scout/v1/service.pb.h"

namespace scout::server {

struct PageCursor {
  uint64_t query_hash = 0;
  int64_t returned = 0;  // Hits served before this page.
  // The last hit's sort values; SearchCreators' palette pages, which are
  // cut from a ranked pool, carry [offset] instead.
  nlohmann::json search_after;
};

// A fingerprint of everything that shapes the result set (not page_size,
// not page_token).
uint64_t QueryHash(const scout::v1::SearchPostsRequest& request);
// Salted with the request type, so a SearchPosts token is never taken for a
// SearchCreators one.
uint64_t QueryHash(const scout::v1::SearchCreatorsRequest& request);

std::string EncodePageToken(const PageCursor& cursor);
// INVALID_ARGUMENT for anything that is not a token of this query.
absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token, uint64_t query_hash);

}  // namespace scout::server
