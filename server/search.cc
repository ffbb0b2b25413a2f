#include "server/search.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/backends/post_index.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/time.h"
#include "server/page_token.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::SearchPostsRequest;
namespace f = post_field;

// Below this, no Elasticsearch answer can arrive in time (and the HTTP
// client's timeout has millisecond resolution).
constexpr absl::Duration kMinBudget = absl::Milliseconds(1);

absl::Status CheckCount(int count, absl::string_view field) {
  if (count > kMaxFilterValues) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxFilterValues, " values (got ", count, ")"));
  }
  return absl::OkStatus();
}

// gRPC refuses invalid UTF-8 in string fields, but in-process callers do
// not, and such text could not be written as the JSON request body.
absl::Status CheckUtf8(const std::string& text, absl::string_view field, int index = -1) {
  if (IsValidUtf8(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, index >= 0 ? absl::StrCat("[", index, "]") : "", ": not valid UTF-8"));
}

absl::Status CheckUtf8(const google::protobuf::RepeatedPtrField<std::string>& values,
                       absl::string_view field) {
  for (int i = 0; i < values.size(); ++i) SCOUT_RETURN_IF_ERROR(CheckUtf8(values[i], field, i));
  return absl::OkStatus();
}

// One `term` filter per tag: a post must carry every listed tag.
absl::Status AddTagFilters(const google::protobuf::RepeatedPtrField<std::string>& tags,
                           absl::string_view field, absl::string_view es_field, json& filters) {
  SCOUT_RETURN_IF_ERROR(CheckCount(tags.size(), field));
  for (int i = 0; i < tags.size(); ++i) {
    const std::string key = TagKey(tags[i]);
    if (key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "] is empty"));
    }
    filters.push_back({{"term", {{std::string(es_field), key}}}});
  }
  return absl::OkStatus();
}

// The sort keys of a request, in order. All but `id` (a keyword) and
// `_score` (a float) sort by a long (timestamps as epoch millis).
std::vector<const char*> SortKeys(const SearchPostsRequest& request) {
  switch (request.sort()) {
    case v1::SORT_ORDER_RECENT:
      return {f::kTimestamp, f::kId};
    case v1::SORT_ORDER_ENGAGEMENT:
      return {f::kEngagement, f::kTimestamp, f::kId};
    case v1::SORT_ORDER_RELEVANCE:
    case v1::SORT_ORDER_UNSPECIFIED:
    default:
      // The id is a unique tiebreaker for search_after.
      if (request.query().empty()) return {f::kTimestamp, f::kId};
      return {"_score", f::kTimestamp, f::kId};
  }
}

json SortFor(const std::vector<const char*>& keys) {
  json sort = json::array();
  for (const char* key : keys) {
    sort.push_back({{key, absl::string_view(key) == f::kId ? "asc" : "desc"}});
  }
  return sort;
}

// A page token's search_after must fit the sort it is sent with; otherwise
// Elasticsearch would refuse the query with a 400 that, once we sent it, is
// our bug. So a forged token is the caller's INVALID_ARGUMENT here.
bool SearchAfterFits(const json& search_after, const std::vector<const char*>& keys) {
  if (!search_after.is_array() || search_after.size() != keys.size()) return false;
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& value = search_after[i];
    const absl::string_view key = keys[i];
    if (key == f::kId) {
      if (!value.is_string()) return false;
    } else if (key == "_score") {
      if (!value.is_number()) return false;
    } else if (!value.is_number_integer() ||
               (value.is_number_unsigned() &&
                value.get<uint64_t>() >
                    static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return false;
    }
  }
  return true;
}

// The words to mark in captions: query words and filtered tags, folded.
std::vector<std::string> HighlightTerms(const SearchPostsRequest& request) {
  std::vector<std::string> terms = Words(FoldForSearch(request.query()));
  for (const std::string& tag : request.hashtags()) terms.push_back(TagKey(tag));
  return terms;
}

}  // namespace

absl::StatusOr<PostSearch::Query> PostSearch::BuildQuery(const SearchPostsRequest& request) const {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: 0 (default ", kDefaultPageSize,
                                                   ") to at most ", kMaxPageSize, " (got ",
                                                   request.page_size(), ")"));
  }
  if (request.query().size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(absl::StrCat("query: at most ", kMaxQueryBytes,
                                                   " bytes (got ", request.query().size(), ")"));
  }
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.query(), "query"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.hashtags(), "hashtags"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.mentions(), "mentions"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.owner_ids(), "owner_ids"));
  if (!v1::SortOrder_IsValid(request.sort())) {
    return absl::InvalidArgumentError(absl::StrCat("sort: unknown value ", request.sort()));
  }
  json filters = json::array();

  // The window is enforced whatever `since` says.
  const absl::Time window_start = clock_->Now() - kSearchWindow;
  absl::Time since = window_start;
  if (request.has_since()) since = std::max(since, FromTimestamp(request.since()));
  std::optional<absl::Time> until;
  if (request.has_until()) {
    until = FromTimestamp(request.until());
    if (request.has_since() && *until < FromTimestamp(request.since())) {
      return absl::InvalidArgumentError("until: must not be before since");
    }
  }
  filters.push_back(TimestampRange(since, until));

  SCOUT_RETURN_IF_ERROR(AddTagFilters(request.hashtags(), "hashtags", f::kHashtagKeys, filters));
  SCOUT_RETURN_IF_ERROR(AddTagFilters(request.mentions(), "mentions", f::kMentionKeys, filters));
  SCOUT_RETURN_IF_ERROR(CheckCount(request.owner_ids_size(), "owner_ids"));
  if (request.owner_ids_size() > 0) {
    json ids = json::array();
    for (const std::string& id : request.owner_ids()) ids.push_back(id);
    filters.push_back({{"terms", {{f::kOwnerId, ids}}}});
  }
  SCOUT_RETURN_IF_ERROR(CheckCount(request.media_types_size(), "media_types"));
  if (request.media_types_size() > 0) {
    json types = json::array();
    for (int i = 0; i < request.media_types_size(); ++i) {
      const int type = request.media_types(i);
      if (type == v1::MEDIA_TYPE_UNSPECIFIED || !v1::MediaType_IsValid(type)) {
        return absl::InvalidArgumentError(
            absl::StrCat("media_types[", i, "]: not a media type (", type, ")"));
      }
      types.push_back(std::string(MediaTypeKeyword(static_cast<v1::MediaType>(type))));
    }
    filters.push_back({{"terms", {{f::kMediaType, types}}}});
  }

  json must = json::array();
  const std::string folded = FoldForSearch(request.query());
  if (!Words(folded).empty()) {
    must.push_back({{"match", {{f::kTextFolded, {{"query", folded}, {"operator", "and"}}}}}});
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  json body = {{"size", page_size},
               // Exact counts past this cost every query a full scan of its
               // matches (and disable early termination); the API says
               // "10,000 or more" instead.
               {"track_total_hits", kMaxCountedHits},
               {"query", {{"bool", {{"must", must}, {"filter", filters}}}}},
               {"sort", SortFor(SortKeys(request))}};
  Query query{std::move(body)};
  if (!request.page_token().empty()) {
    SCOUT_ASSIGN_OR_RETURN(const PageCursor cursor,
                           DecodePageToken(request.page_token(), QueryHash(request)));
    if (!SearchAfterFits(cursor.search_after, SortKeys(request))) {
      return absl::InvalidArgumentError(
          "page_token: its position does not fit this query's sort (not a token we issued)");
    }
    query.body["search_after"] = cursor.search_after;
    query.returned_before = cursor.returned;
  }
  return query;
}

absl::StatusOr<v1::SearchPostsResponse> PostSearch::Search(const SearchPostsRequest& request,
                                                           absl::Time deadline) const {
  SCOUT_ASSIGN_OR_RETURN(const Query query, BuildQuery(request));
  const absl::Duration budget = deadline - absl::Now();
  if (budget < kMinBudget) {
    return absl::DeadlineExceededError(
        absl::StrCat("deadline passed before searching (", absl::FormatDuration(budget), " left)"));
  }
  absl::StatusOr<json> answer =
      elastic_->Call("POST", absl::StrCat(alias_, "/_search"), query.body, budget);
  if (absl::IsNotFound(answer.status())) {
    return v1::SearchPostsResponse();  // Nothing indexed yet: no alias.
  }
  if (absl::IsInvalidArgument(answer.status())) {
    // BuildQuery checked every request value (page tokens included), so a
    // query Elasticsearch refuses is one we built wrong: our bug.
    return absl::InternalError(absl::StrCat("search query refused: ", answer.status().message()));
  }
  if (!answer.ok()) return answer.status();
  return ReadAnswer(request, query, *answer);
}

absl::StatusOr<v1::SearchPostsResponse> PostSearch::ReadAnswer(const SearchPostsRequest& request,
                                                               const Query& query,
                                                               const json& answer) const {
  const auto malformed = [](absl::string_view what) {
    return absl::InternalError(absl::StrCat("elasticsearch search answer: ", what));
  };
  const auto hits = answer.is_object() ? answer.find("hits") : answer.end();
  if (!answer.is_object() || hits == answer.end() || !hits->is_object()) {
    return malformed("no \"hits\" object");
  }
  const auto total = hits->find("total");
  const auto list = hits->find("hits");
  if (total == hits->end() || !total->is_object() || list == hits->end() || !list->is_array()) {
    return malformed("no hits.total object or hits.hits array");
  }
  const auto value = total->find("value");
  const auto relation = total->find("relation");
  if (value == total->end() || !value->is_number_integer() || relation == total->end() ||
      !relation->is_string()) {
    return malformed("hits.total lacks an integer value or a relation");
  }
  v1::SearchPostsResponse response;
  response.set_total_size(value->get<int64_t>());
  response.set_total_size_is_lower_bound(relation->get_ref<const std::string&>() == "gte");
  const std::vector<std::string> terms = HighlightTerms(request);
  for (const json& hit : *list) {
    const auto source = hit.is_object() ? hit.find("_source") : hit.end();
    if (!hit.is_object() || source == hit.end()) return malformed("a hit without _source");
    SCOUT_ASSIGN_OR_RETURN(v1::Post post, PostFromDocument(*source));
    post.set_highlight(Highlight(post.caption(), terms));
    *response.add_posts() = std::move(post);
  }
  const int64_t returned = query.returned_before + response.posts_size();
  if (response.posts_size() == query.body["size"].get<int>() &&
      (returned < response.total_size() || response.total_size_is_lower_bound())) {
    const json& last = list->back();
    const auto sort = last.find("sort");
    if (sort == last.end() || !sort->is_array())
      return malformed("the last hit has no sort values");
    response.set_next_page_token(EncodePageToken({QueryHash(request), returned, *sort}));
  }
  return response;
}

}  // namespace scout::server
