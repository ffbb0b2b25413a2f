// libFuzzer target: hostile SearchPosts requests through PostSearch::BuildQuery,
// and forged page tokens through DecodePageToken. The first input byte picks
// the mode (its value mod 3, so seeds can start with '0', '1' or '2'):
//   0  the rest is a serialized SearchPostsRequest (what gRPC would accept);
//   1  the rest is text, line by line: the query, then hashtags, mentions and
//      owner ids in turn (in-process callers, invalid UTF-8 included);
//   2  the rest is a page token's JSON body (encoded here, so the checks past
//      base64 are reached) or, when it does not parse, a raw token.
// Nothing may crash; an accepted request must become a body that serializes
// strictly and whose every key is one BuildQuery writes itself, so user text
// is only ever a value. Violations abort.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "common/base/clock.h"
#include "server/page_token.h"
#include "server/search.h"

namespace {

using nlohmann::json;
using scout::v1::SearchPostsRequest;

void Require(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "invariant broken: %s\n", what);
  abort();
}

// Every object key BuildQuery may emit. Anything else (query_string,
// script, wildcard, a user's word...) means user input shaped the DSL.
const absl::flat_hash_set<std::string>& AllowedKeys() {
  static const auto* keys = new absl::flat_hash_set<std::string>{
      "size",        "track_total_hits", "query",        "bool",     "must",       "filter",
      "range",       "timestamp",        "gte",          "lte",      "format",     "term",
      "terms",       "hashtag_keys",     "mention_keys", "owner_id", "media_type", "match",
      "text_folded", "operator",         "sort",         "id",       "engagement", "_score",
      "search_after"};
  return *keys;
}

void RequireOwnKeys(const json& value) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      Require(AllowedKeys().contains(key), "body keys are BuildQuery's own");
      RequireOwnKeys(child);
    }
  } else if (value.is_array()) {
    for (const json& child : value) RequireOwnKeys(child);
  }
}

void RequireStrictDump(const json& value) {
  try {
    (void)value.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception&) {
    Require(false, "body serializes (valid UTF-8)");
  }
}

void CheckBuild(const SearchPostsRequest& request) {
  static const std::unique_ptr<scout::Clock> clock =
      scout::NewFixedClock(absl::FromUnixSeconds(1795305600));
  static const scout::server::PostSearch search(nullptr, clock.get(), "posts");
  const absl::StatusOr<scout::server::PostSearch::Query> query = search.BuildQuery(request);
  if (!query.ok()) {
    Require(query.status().code() == absl::StatusCode::kInvalidArgument,
            "rejections are INVALID_ARGUMENT");
    return;
  }
  RequireStrictDump(query->body);
  RequireOwnKeys(query->body);
  const json& size = query->body["size"];
  Require(size.is_number_integer() && size.get<int>() >= 1 &&
              size.get<int>() <= scout::server::kMaxPageSize,
          "size is 1..kMaxPageSize");
  Require(query->returned_before >= 0, "returned_before is non-negative");
}

void CheckToken(absl::string_view token, uint64_t query_hash) {
  const absl::StatusOr<scout::server::PageCursor> cursor =
      scout::server::DecodePageToken(token, query_hash);
  if (!cursor.ok()) {
    Require(cursor.status().code() == absl::StatusCode::kInvalidArgument,
            "bad tokens are INVALID_ARGUMENT");
    return;
  }
  Require(cursor->query_hash == query_hash, "token is bound to its query");
  // Search adds a page to it: must not overflow.
  Require(cursor->returned >= 0 && cursor->returned <= std::numeric_limits<int64_t>::max() / 2,
          "returned is sane");
  Require(cursor->search_after.is_array() && !cursor->search_after.empty(),
          "search_after is a non-empty array");
  for (const json& value : cursor->search_after) {
    Require(value.is_primitive() && !value.is_null(), "search_after holds plain values");
  }
  RequireStrictDump(cursor->search_after);
  // Re-encoding gives a token that decodes the same.
  const absl::StatusOr<scout::server::PageCursor> again =
      scout::server::DecodePageToken(scout::server::EncodePageToken(*cursor), query_hash);
  Require(again.ok() && again->returned == cursor->returned &&
              again->search_after == cursor->search_after,
          "tokens round-trip");
}

}  // namespace

// Protobuf logs every string with invalid UTF-8 it refuses; that is expected
// here and would drown libFuzzer's output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const absl::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode) {
    case 0: {
      SearchPostsRequest request;
      if (!request.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) return 0;
      CheckBuild(request);
      break;
    }
    case 1: {
      SearchPostsRequest request;
      int line = 0;
      for (absl::string_view part : absl::StrSplit(rest, '\n')) {
        switch (line++ % 4) {
          case 0:
            // The first line is the query; later "query" slots go to page_token.
            if (line == 1)
              request.set_query(std::string(part));
            else
              request.set_page_token(std::string(part));
            break;
          case 1:
            request.add_hashtags(std::string(part));
            break;
          case 2:
            request.add_mentions(std::string(part));
            break;
          case 3:
            request.add_owner_ids(std::string(part));
            break;
        }
      }
      CheckBuild(request);
      break;
    }
    case 2: {
      const json body = json::parse(rest, nullptr, false);
      if (body.is_object() && body.contains("q") && body["q"].is_number_unsigned()) {
        CheckToken(absl::WebSafeBase64Escape(rest), body["q"].get<uint64_t>());
      } else {
        CheckToken(rest, 0);
        CheckToken(absl::WebSafeBase64Escape(rest), 0);
      }
      break;
    }
  }
  return 0;
}
