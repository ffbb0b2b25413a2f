#include "server/es_search.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "server/page_token.h"

namespace scout::server {
namespace {

using nlohmann::json;

// Below this, no Elasticsearch answer can arrive in time (and the HTTP
// client's timeout has millisecond resolution).
constexpr absl::Duration kMinBudget = absl::Milliseconds(1);

}  // namespace

absl::StatusOr<int> CheckPageSize(int page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: 0 (default ", kDefaultPageSize,
                                                   ") to at most ", kMaxPageSize, " (got ",
                                                   page_size, ")"));
  }
  return page_size == 0 ? kDefaultPageSize : page_size;
}

absl::Status CheckCount(int count, absl::string_view field) {
  if (count > kMaxFilterValues) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxFilterValues, " values (got ", count, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckUtf8(const std::string& text, absl::string_view field, int index) {
  if (IsValidUtf8(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, index >= 0 ? absl::StrCat("[", index, "]") : "", ": not valid UTF-8"));
}

absl::Status CheckUtf8(const google::protobuf::RepeatedPtrField<std::string>& values,
                       absl::string_view field) {
  for (int i = 0; i < values.size(); ++i) {
    if (absl::Status status = CheckUtf8(values[i], field, i); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckQueryText(const std::string& query) {
  if (query.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: at most ", kMaxQueryBytes, " bytes (got ", query.size(), ")"));
  }
  return CheckUtf8(query, "query");
}

json SortJson(const std::vector<SortKey>& keys) {
  json sort = json::array();
  for (const SortKey& key : keys) {
    const char* order = key.ascending ? "asc" : "desc";
    if (key.missing) {
      sort.push_back({{key.field, {{"order", order}, {"missing", *key.missing}}}});
    } else {
      sort.push_back({{key.field, order}});
    }
  }
  return sort;
}

bool SearchAfterFits(const json& search_after, const std::vector<SortKey>& keys) {
  if (!search_after.is_array() || search_after.size() != keys.size()) return false;
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& value = search_after[i];
    switch (keys[i].kind) {
      case SortKey::kKeyword:
        if (!value.is_string()) return false;
        break;
      case SortKey::kNumber:
        if (!value.is_number()) return false;
        break;
      case SortKey::kLong:
        if (!value.is_number_integer() ||
            (value.is_number_unsigned() &&
             value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
          return false;
        }
        break;
    }
  }
  return true;
}

absl::StatusOr<std::optional<json>> CallSearch(Elastic& elastic, absl::string_view index,
                                               const json& body, absl::Time deadline,
                                               ShardCache cache) {
  const absl::Duration budget = deadline - absl::Now();
  if (budget < kMinBudget) {
    return absl::DeadlineExceededError(
        absl::StrCat("deadline passed before searching (", absl::FormatDuration(budget), " left)"));
  }
  // By default the shard request cache takes only size-0 searches.
  const absl::string_view params = cache == ShardCache::kUse ? "?request_cache=true" : "";
  absl::StatusOr<json> answer = elastic.Read(absl::StrCat(index, "/_search", params), body, budget);
  if (absl::IsNotFound(answer.status())) return std::nullopt;
  if (absl::IsInvalidArgument(answer.status())) {
    return absl::InternalError(absl::StrCat("search query refused: ", answer.status().message()));
  }
  if (!answer.ok()) return answer.status();
  return std::optional<json>(*std::move(answer));
}

const json* HitFields(const json& hit) {
  const auto it = hit.is_object() ? hit.find("fields") : hit.end();
  return hit.is_object() && it != hit.end() && it->is_object() ? &*it : nullptr;
}

const json* FirstValue(const json& fields, const char* field) {
  const auto it = fields.find(field);
  if (it == fields.end() || !it->is_array() || it->empty()) return nullptr;
  return &it->front();
}

std::optional<double> FirstNumber(const json& fields, const char* field) {
  const json* value = FirstValue(fields, field);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

absl::Status MalformedAnswer(absl::string_view what) {
  return absl::InternalError(absl::StrCat("elasticsearch search answer: ", what));
}

absl::StatusOr<SearchHits> ReadHits(const json& answer) {
  const auto hits = answer.is_object() ? answer.find("hits") : answer.end();
  if (!answer.is_object() || hits == answer.end() || !hits->is_object()) {
    return MalformedAnswer("no \"hits\" object");
  }
  const auto total = hits->find("total");
  const auto list = hits->find("hits");
  if (total == hits->end() || !total->is_object() || list == hits->end() || !list->is_array()) {
    return MalformedAnswer("no hits.total object or hits.hits array");
  }
  const auto value = total->find("value");
  const auto relation = total->find("relation");
  if (value == total->end() || !value->is_number_integer() || relation == total->end() ||
      !relation->is_string()) {
    return MalformedAnswer("hits.total lacks an integer value or a relation");
  }
  return SearchHits{value->get<int64_t>(), relation->get_ref<const std::string&>() == "gte",
                    &*list};
}

absl::StatusOr<const json*> HitSource(const json& hit) {
  const auto source = hit.is_object() ? hit.find("_source") : hit.end();
  if (!hit.is_object() || source == hit.end()) return MalformedAnswer("a hit without _source");
  return &*source;
}

absl::StatusOr<std::string> NextPageToken(const SearchHits& hits, int page_size,
                                          int64_t returned_before, uint64_t query_hash) {
  const int64_t served = static_cast<int64_t>(hits.hits->size());
  const int64_t returned = returned_before + served;
  const bool more = returned < hits.total || hits.total_is_lower_bound;
  if (served == 0 || served != page_size || !more) return std::string();
  const json& last = hits.hits->back();
  const auto sort = last.is_object() ? last.find("sort") : last.end();
  if (sort == last.end() || !sort->is_array()) {
    return MalformedAnswer("the last hit has no sort values");
  }
  return EncodePageToken({query_hash, returned, *sort});
}

}  // namespace scout::server
