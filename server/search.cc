#include "server/search.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/post_index.h"
#include "common/status.h"
#include "common/text.h"
#include "common/time.h"
#include "server/page_token.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::SearchPostsRequest;

int64_t Millis(absl::Time t) { return absl::ToUnixMillis(t); }

absl::Status CheckCount(int count, absl::string_view field) {
  if (count > kMaxFilterValues) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kMaxFilterValues,
                                                   " values (got ", count, ")"));
  }
  return absl::OkStatus();
}

// gRPC refuses invalid UTF-8 in string fields, but in-process callers do
// not, and such text could not be written as the JSON request body.
absl::Status CheckUtf8(const std::string& text, absl::string_view field, int index = -1) {
  if (IsValidUtf8(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, index >= 0 ? absl::StrCat("[", index, "]") : "", ": not valid UTF-8"));
}

absl::Status CheckUtf8(const google::protobuf::RepeatedPtrField<std::string>& values,
                       absl::string_view field) {
  for (int i = 0; i < values.size(); ++i) SCOUT_RETURN_IF_ERROR(CheckUtf8(values[i], field, i));
  return absl::OkStatus();
}

// One `term` filter per tag: a post must carry every listed tag.
absl::Status AddTagFilters(const google::protobuf::RepeatedPtrField<std::string>& tags,
                           absl::string_view field, absl::string_view es_field,
                           json& filters) {
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

json SortFor(const SearchPostsRequest& request) {
  const json by_id = {{"id", "asc"}};  // Unique tiebreaker for search_after.
  const json recent = {{"timestamp", "desc"}};
  switch (request.sort()) {
    case v1::SORT_ORDER_RECENT:
      return {recent, by_id};
    case v1::SORT_ORDER_ENGAGEMENT:
      return {{{"engagement", "desc"}}, recent, by_id};
    case v1::SORT_ORDER_RELEVANCE:
    case v1::SORT_ORDER_UNSPECIFIED:
    default:
      if (request.query().empty()) return {recent, by_id};
      return {{{"_score", "desc"}}, recent, by_id};
  }
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
  json range = {{"gte", Millis(since)}, {"format", "epoch_millis"}};
  if (request.has_until()) {
    const absl::Time until = FromTimestamp(request.until());
    if (request.has_since() && until < FromTimestamp(request.since())) {
      return absl::InvalidArgumentError("until: must not be before since");
    }
    range["lte"] = Millis(until);
  }
  filters.push_back({{"range", {{"timestamp", range}}}});

  SCOUT_RETURN_IF_ERROR(AddTagFilters(request.hashtags(), "hashtags", "hashtag_keys", filters));
  SCOUT_RETURN_IF_ERROR(AddTagFilters(request.mentions(), "mentions", "mention_keys", filters));
  SCOUT_RETURN_IF_ERROR(CheckCount(request.owner_ids_size(), "owner_ids"));
  if (request.owner_ids_size() > 0) {
    json ids = json::array();
    for (const std::string& id : request.owner_ids()) ids.push_back(id);
    filters.push_back({{"terms", {{"owner_id", ids}}}});
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
      types.push_back(v1::MediaType_Name(static_cast<v1::MediaType>(type)));
    }
    filters.push_back({{"terms", {{"media_type", types}}}});
  }

  json must = json::array();
  const std::string folded = FoldForSearch(request.query());
  if (!Words(folded).empty()) {
    must.push_back({{"match", {{"text_folded", {{"query", folded}, {"operator", "and"}}}}}});
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  json body = {{"size", page_size},
               // Exact counts past this cost every query a full scan of its
               // matches (and disable early termination); the API says
               // "10,000 or more" instead.
               {"track_total_hits", kMaxCountedHits},
               {"query", {{"bool", {{"must", must}, {"filter", filters}}}}},
               {"sort", SortFor(request)}};
  Query query{std::move(body)};
  if (!request.page_token().empty()) {
    SCOUT_ASSIGN_OR_RETURN(const PageCursor cursor,
                           DecodePageToken(request.page_token(), QueryHash(request)));
    query.body["search_after"] = cursor.search_after;
    query.returned_before = cursor.returned;
  }
  return query;
}

absl::StatusOr<v1::SearchPostsResponse> PostSearch::Search(const SearchPostsRequest& request,
                                                           absl::Time deadline) const {
  SCOUT_ASSIGN_OR_RETURN(const Query query, BuildQuery(request));
  const absl::Duration budget = deadline - absl::Now();
  if (budget <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("deadline passed before searching");
  }
  absl::StatusOr<json> answer =
      elastic_->Call("POST", absl::StrCat(alias_, "/_search"), query.body, budget);
  if (absl::IsNotFound(answer.status())) {
    return v1::SearchPostsResponse();  // Nothing indexed yet: no alias.
  }
  if (absl::IsInvalidArgument(answer.status())) {
    // Our DSL is structured, so a 400 means a request value ES cannot use
    // (a forged search_after, say): the caller's problem, said plainly.
    return absl::InvalidArgumentError(answer.status().message());
  }
  if (!answer.ok()) return answer.status();

  v1::SearchPostsResponse response;
  const json& hits = (*answer)["hits"];
  response.set_total_size(hits["total"].value("value", int64_t{0}));
  response.set_total_size_is_lower_bound(hits["total"].value("relation", "eq") == "gte");
  const std::vector<std::string> terms = HighlightTerms(request);
  for (const json& hit : hits["hits"]) {
    SCOUT_ASSIGN_OR_RETURN(v1::Post post, PostFromDocument(hit["_source"]));
    post.set_highlight(Highlight(post.caption(), terms));
    *response.add_posts() = std::move(post);
  }
  const int64_t returned = query.returned_before + response.posts_size();
  if (response.posts_size() == query.body["size"].get<int>() &&
      (returned < response.total_size() || response.total_size_is_lower_bound())) {
    response.set_next_page_token(
        EncodePageToken({QueryHash(request), returned, hits["hits"].back()["sort"]}));
  }
  return response;
}

}  // namespace scout::server
