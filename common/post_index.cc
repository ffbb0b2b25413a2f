#include "common/post_index.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/text.h"

namespace scout {

std::string MonthlyIndex(absl::string_view prefix, absl::Time post_time) {
  return absl::StrCat(prefix, "-", absl::FormatTime("%Y.%m", post_time, absl::UTCTimeZone()));
}

std::optional<absl::Time> MonthOfIndex(absl::string_view prefix, absl::string_view index) {
  const std::string head = absl::StrCat(prefix, "-");
  if (index.size() != head.size() + 7 || index.substr(0, head.size()) != head) {
    return std::nullopt;
  }
  absl::Time month;
  std::string error;
  if (!absl::ParseTime("%Y.%m", std::string(index.substr(head.size())), absl::UTCTimeZone(),
                       &month, &error)) {
    return std::nullopt;
  }
  return month;
}

bool IndexIsExpired(absl::string_view prefix, absl::string_view index, absl::Time now) {
  const std::optional<absl::Time> month = MonthOfIndex(prefix, index);
  if (!month) return false;
  const absl::CivilMonth next =
      absl::ToCivilMonth(*month, absl::UTCTimeZone()) + 1;
  return absl::FromCivil(next, absl::UTCTimeZone()) <= now - kSearchWindow;
}

nlohmann::json PostIndexTemplate(absl::string_view prefix) {
  using nlohmann::json;
  const json keyword = {{"type", "keyword"}};
  const json number = {{"type", "long"}};
  return {
      {"index_patterns", {absl::StrCat(prefix, "-*")}},
      {"priority", 100},
      {"template",
       {{"settings",
         {{"number_of_shards", 1},
          {"number_of_replicas", 0},
          // Ingest writes in large bulks; a second of staleness is fine.
          {"refresh_interval", "1s"}}},
        {"aliases", {{std::string(prefix), json::object()}}},
        {"mappings",
         {// Everything else in the Post stays in _source, unindexed.
          {"dynamic", false},
          {"_source", {{"excludes", {"text_folded"}}}},
          {"properties",
           {{"id", keyword},
            {"owner_id", keyword},
            {"username", keyword},
            {"media_type", keyword},
            {"timestamp", {{"type", "date"}}},
            {"engagement", number},
            {"like_count", number},
            {"comments_count", number},
            // Aggregated per creator by scout-aggregate (fol_avg).
            {"followers_at_post", number},
            {"text_folded", {{"type", "text"}}},
            {"hashtag_keys", keyword},
            {"mention_keys", keyword},
            {"lake_key", keyword}}}}}}}};
}

std::string PostToDocument(const scout::v1::Post& post, absl::string_view lake_key) {
  std::string doc;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Cannot fail: Post has no Any fields. Always a non-empty object "{...}".
  (void)google::protobuf::util::MessageToJsonString(post, &doc, options);
  doc.pop_back();  // Reopen the object to append the search fields.

  nlohmann::json hashtag_keys = nlohmann::json::array();
  nlohmann::json mention_keys = nlohmann::json::array();
  for (const std::string& tag : post.hashtags()) hashtag_keys.push_back(TagKey(tag));
  for (const std::string& user : post.mentions()) mention_keys.push_back(TagKey(user));
  // Free text finds words of the caption, tags and mentions alike.
  const nlohmann::json text_folded = FoldForSearch(absl::StrCat(
      post.caption(), "\n", absl::StrJoin(post.hashtags(), " "), "\n",
      absl::StrJoin(post.mentions(), " "), "\n", post.username()));
  absl::StrAppend(&doc, doc.size() > 1 ? "," : "", "\"hashtag_keys\":", hashtag_keys.dump(),
                  ",\"mention_keys\":", mention_keys.dump(),
                  ",\"text_folded\":", text_folded.dump(),
                  ",\"lake_key\":", nlohmann::json(lake_key).dump(), "}");
  return doc;
}

absl::StatusOr<scout::v1::Post> PostFromDocument(const nlohmann::json& source) {
  scout::v1::Post post;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status =
      google::protobuf::util::JsonStringToMessage(source.dump(), &post, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("stored post document does not parse: ", status.ToString()));
  }
  return post;
}

}  // namespace scout
