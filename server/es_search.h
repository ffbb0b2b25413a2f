// What the searches over Elasticsearch (PostSearch, CreatorSearch) share:
// request checks that name the field, search_after positions that must fit
// the sort they are replayed with, the one way a search call's outcome maps
// to a status, reading the hits envelope of an answer, and the next page's
// token. Pure functions over their arguments (Elastic is thread-safe),
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"

namespace scout::server {

inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;
inline constexpr size_t kMaxQueryBytes = 1024;
inline constexpr int kMaxFilterValues = 50;
inline constexpr int kMaxCountedHits = 10000;

// The page size a request asks for (0 is the default), or INVALID_ARGUMENT.
absl::StatusOr<int> CheckPageSize(int page_size);
// INVALID_ARGUMENT "<field>: at most 50 values" past kMaxFilterValues.
absl::Status CheckCount(int count, absl::string_view field);
// gRPC refuses invalid UTF-8 in string fields, but in-process callers do
// not, and such text could not be written as the JSON request body.
absl::Status CheckUtf8(const std::string& text, absl::string_view field, int index = -1);
absl::Status CheckUtf8(const google::protobuf::RepeatedPtrField<std::string>& values,
                       absl::string_view field);
// The query text: at most kMaxQueryBytes of valid UTF-8.
absl::Status CheckQueryText(const std::string& query);

// One key of a sort, as search_after must repeat it.
struct SortKey {
  enum Kind { kKeyword, kLong, kNumber };
  SortKey(std::string field, Kind kind, bool ascending = false,
          std::optional<double> missing = std::nullopt)
      : field(std::move(field)), kind(kind), ascending(ascending), missing(missing) {}
  std::string field;
  Kind kind;
  bool ascending;
  // Sort value of documents without the field (numbers only; finite, so a
  // page token can carry it). Unset: Elasticsearch's default.
  std::optional<double> missing;
};
nlohmann::json SortJson(const std::vector<SortKey>& keys);
// A page token's search_after must fit the sort it is sent with; otherwise
// Elasticsearch would refuse the query with a 400 that, once we sent it, is
// our bug. So a forged token is the caller's INVALID_ARGUMENT.
bool SearchAfterFits(const nlohmann::json& search_after, const std::vector<SortKey>& keys);

// Whether Elasticsearch may answer a shard's part of a search from its
// shard request cache. The cache keys on the request's bytes and is dropped
// at the shard's next refresh that changed it, so it pays where the same
// query recurs over shards that rarely change: the past months of posts.
enum class ShardCache { kDefault, kUse };

// POST <index>/_search with `body`, within `deadline`. nullopt when the
// index or alias does not exist (nothing indexed yet). DEADLINE_EXCEEDED
// without calling under a millisecond left; INTERNAL when Elasticsearch
// refuses the query (every request value was checked before, so a refused
// query is one we built wrong); UNAVAILABLE / DEADLINE_EXCEEDED as the
// backend answers.
absl::StatusOr<std::optional<nlohmann::json>> CallSearch(Elastic& elastic, absl::string_view index,
                                                         const nlohmann::json& body,
                                                         absl::Time deadline,
                                                         ShardCache cache = ShardCache::kDefault);

// An answer's hits envelope; INTERNAL "elasticsearch search answer: ..."
// when it is not one. `hits` points into the answer.
struct SearchHits {
  int64_t total = 0;
  bool total_is_lower_bound = false;
  const nlohmann::json* hits = nullptr;  // An array.
};
absl::StatusOr<SearchHits> ReadHits(const nlohmann::json& answer);
// A hit's _source, or INTERNAL.
absl::StatusOr<const nlohmann::json*> HitSource(const nlohmann::json& hit);
// The token of the page after `hits` (search_after paging): "" when this
// page was the last (fewer hits than `page_size`, or every counted hit
// served, `returned_before` counting earlier pages'); otherwise the last
// hit's sort values with the hits served so far. INTERNAL when that hit has
// no sort values.
absl::StatusOr<std::string> NextPageToken(const SearchHits& hits, int page_size,
                                          int64_t returned_before, uint64_t query_hash);
absl::Status MalformedAnswer(absl::string_view what);
// A hit's doc values (`fields`: each field an array), or null.
const nlohmann::json* HitFields(const nlohmann::json& hit);
// The first value of a doc-values field, or null.
const nlohmann::json* FirstValue(const nlohmann::json& fields, const char* field);
// The first value of a doc-values field when it is a number.
std::optional<double> FirstNumber(const nlohmann::json& fields, const char* field);

}  // namespace scout::server
