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

// The sort keys of a request, in order; the id is a unique tiebreaker for
// search_after.
std::vector<SortKey> SortKeys(const SearchPostsRequest& request) {
  const SortKey timestamp{f::kTimestamp, SortKey::kLong};
  const SortKey id{f::kId, SortKey::kKeyword, /*ascending=*/true};
  switch (request.sort()) {
    case v1::SORT_ORDER_RECENT:
      return {timestamp, id};
    case v1::SORT_ORDER_ENGAGEMENT:
      return {{f::kEngagement, SortKey::kLong}, timestamp, id};
    case v1::SORT_ORDER_RELEVANCE:
    case v1::SORT_ORDER_UNSPECIFIED:
    default:
      if (request.query().empty()) return {timestamp, id};
      return {{"_score", SortKey::kNumber}, timestamp, id};
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
  SCOUT_ASSIGN_OR_RETURN(const int page_size, CheckPageSize(request.page_size()));
  SCOUT_RETURN_IF_ERROR(CheckQueryText(request.query()));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.hashtags(), "hashtags"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.mentions(), "mentions"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.owner_ids(), "owner_ids"));
  if (!v1::SortOrder_IsValid(request.sort())) {
    return absl::InvalidArgumentError(absl::StrCat("sort: unknown value ", request.sort()));
  }
  json filters = json::array();

  // The window is enforced whatever `since` says.
  // To the next whole minute, so that for a minute every query carries the
  // same time filter: Elasticsearch reuses a filter, or a shard's whole
  // answer, only when its bytes repeat. The window is 180 days less up to a
  // minute.
  const absl::Time window_start =
      absl::UnixEpoch() +
      absl::Ceil(clock_->Now() - kSearchWindow - absl::UnixEpoch(), absl::Minutes(1));
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
  json body = {{"size", page_size},
               // Exact counts past this cost every query a full scan of its
               // matches (and disable early termination); the API says
               // "10,000 or more" instead.
               {"track_total_hits", kMaxCountedHits},
               {"query", {{"bool", {{"must", must}, {"filter", filters}}}}},
               {"sort", SortJson(SortKeys(request))}};
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
  SCOUT_ASSIGN_OR_RETURN(const std::optional<json> answer,
                         CallSearch(*elastic_, alias_, query.body, deadline, ShardCache::kUse));
  if (!answer) return v1::SearchPostsResponse();  // Nothing indexed yet: no alias.
  return ReadAnswer(request, query, *answer);
}

absl::StatusOr<v1::SearchPostsResponse> PostSearch::ReadAnswer(const SearchPostsRequest& request,
                                                               const Query& query,
                                                               const json& answer) const {
  SCOUT_ASSIGN_OR_RETURN(const SearchHits hits, ReadHits(answer));
  const json& list = *hits.hits;
  v1::SearchPostsResponse response;
  response.set_total_size(hits.total);
  response.set_total_size_is_lower_bound(hits.total_is_lower_bound);
  const std::vector<std::string> terms = HighlightTerms(request);
  for (const json& hit : list) {
    SCOUT_ASSIGN_OR_RETURN(const json* source, HitSource(hit));
    SCOUT_ASSIGN_OR_RETURN(v1::Post post, PostFromDocument(*source));
    post.set_highlight(Highlight(post.caption(), terms));
    *response.add_posts() = std::move(post);
  }
  SCOUT_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                         NextPageToken(hits, query.body["size"].get<int>(), query.returned_before,
                                       QueryHash(request)));
  return response;
}

}  // namespace scout::server
