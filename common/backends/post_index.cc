#include "common/backends/post_index.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/time.h"

namespace scout {

using nlohmann::json;
namespace f = post_field;

namespace {

struct MediaTypeName {
  v1::MediaType type;
  absl::string_view keyword;
};
constexpr MediaTypeName kMediaTypeNames[] = {
    {v1::MEDIA_TYPE_IMAGE, "MEDIA_TYPE_IMAGE"},
    {v1::MEDIA_TYPE_CAROUSEL_ALBUM, "MEDIA_TYPE_CAROUSEL_ALBUM"},
    {v1::MEDIA_TYPE_VIDEO, "MEDIA_TYPE_VIDEO"},
    {v1::MEDIA_TYPE_STORY_IMAGE, "MEDIA_TYPE_STORY_IMAGE"},
    {v1::MEDIA_TYPE_STORY_VIDEO, "MEDIA_TYPE_STORY_VIDEO"},
};

}  // namespace

absl::string_view MediaTypeKeyword(v1::MediaType type) {
  for (const MediaTypeName& name : kMediaTypeNames) {
    if (name.type == type) return name.keyword;
  }
  return "";
}

std::optional<v1::MediaType> MediaTypeFromKeyword(absl::string_view keyword) {
  for (const MediaTypeName& name : kMediaTypeNames) {
    if (name.keyword == keyword) return name.type;
  }
  return std::nullopt;
}

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
  if (!absl::ParseTime("%Y.%m", std::string(index.substr(head.size())), absl::UTCTimeZone(), &month,
                       &error)) {
    return std::nullopt;
  }
  return month;
}

bool IndexIsExpired(absl::string_view prefix, absl::string_view index, absl::Time now) {
  const std::optional<absl::Time> month = MonthOfIndex(prefix, index);
  if (!month) return false;
  const absl::CivilMonth next = absl::ToCivilMonth(*month, absl::UTCTimeZone()) + 1;
  return absl::FromCivil(next, absl::UTCTimeZone()) <= now - kSearchWindow;
}

nlohmann::json PostIndexTemplate(absl::string_view prefix) {
  const json keyword = {{"type", "keyword"}};
  const json number = {{"type", "long"}};
  return {{"index_patterns", {absl::StrCat(prefix, "-*")}},
          {"priority", 100},
          {"template",
           {{"settings",
             {{"number_of_shards", 1},
              {"auto_expand_replicas", kAutoExpandReplicas},
              // Ingest writes in large bulks; a second of staleness is fine.
              {"refresh_interval", "1s"}}},
            {"aliases", {{std::string(prefix), json::object()}}},
            {"mappings",
             {// Everything else in the Post stays in _source, unindexed.
              {"dynamic", false},
              {"_source", {{"excludes", {f::kTextFolded}}}},
              {"properties",
               {{f::kId, keyword},
                {f::kOwnerId, keyword},
                {f::kUsername, keyword},
                {f::kMediaType, keyword},
                {f::kTimestamp, {{"type", "date"}}},
                {f::kEngagement, number},
                {f::kLikeCount, number},
                {f::kCommentsCount, number},
                // Aggregated per creator by scout-aggregate (fol_avg).
                {f::kFollowersAtPost, number},
                {f::kTextFolded, {{"type", "text"}}},
                {f::kHashtagKeys, keyword},
                {f::kMentionKeys, keyword},
                {f::kLakeKey, keyword},
                {f::kShardBucket, {{"type", "integer"}}}}}}}}}};
}

std::string QuarantineIndex(absl::string_view prefix) {
  return absl::StrCat(prefix, ".quarantine");
}

std::string QuarantineDocument(absl::string_view key, absl::string_view reason, int64_t size,
                               uint64_t content_hash, absl::Time quarantined_at) {
  return json{{"key", key},
              {"reason", reason},
              {"size", size},
              {"content_hash", absl::StrCat(absl::Hex(content_hash))},
              {"quarantined_at", FormatRfc3339(quarantined_at)}}
      .dump();
}

absl::Status EnsureIndices(Elastic& elastic, absl::string_view prefix) {
  const json index_template = PostIndexTemplate(prefix);
  SCOUT_RETURN_IF_ERROR(
      elastic.Call("PUT", absl::StrCat("_index_template/", prefix), index_template).status());
  // Existing months learn fields added since they were created (documents
  // written from now on get them indexed). None yet is fine.
  const absl::Status mapped =
      elastic
          .Call("PUT", absl::StrCat(prefix, "-*/_mapping"),
                {{"properties", index_template["template"]["mappings"]["properties"]}})
          .status();
  if (!mapped.ok() && !absl::IsNotFound(mapped)) return mapped;
  const json quarantine = {
      {"mappings",
       {{"properties",
         {{"key", {{"type", "keyword"}}},
          {"reason", {{"type", "text"}}},
          {"quarantined_at", {{"type", "date"}}}}}}},
      {"settings", {{"number_of_shards", 1}, {"auto_expand_replicas", kAutoExpandReplicas}}}};
  const absl::Status created = elastic.Call("PUT", QuarantineIndex(prefix), quarantine).status();
  if (!created.ok() && ElasticErrorType(created) != "resource_already_exists_exception") {
    return created;
  }
  return absl::OkStatus();
}

std::string PostToDocument(const scout::v1::Post& post, absl::string_view lake_key) {
  std::string doc;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // media_type is written below in our own spelling, not protobuf's.
  v1::Post printed = post;
  printed.clear_media_type();
  // Cannot fail: Post has no Any fields. Always a non-empty object "{...}".
  (void)google::protobuf::util::MessageToJsonString(printed, &doc, options);
  doc.pop_back();  // Reopen the object to append the search fields.
  if (const absl::string_view type = MediaTypeKeyword(post.media_type()); !type.empty()) {
    absl::StrAppend(&doc, doc.size() > 1 ? "," : "", "\"", f::kMediaType, "\":", json(type).dump());
  }

  nlohmann::json hashtag_keys = nlohmann::json::array();
  nlohmann::json mention_keys = nlohmann::json::array();
  for (const std::string& tag : post.hashtags()) hashtag_keys.push_back(TagKey(tag));
  for (const std::string& user : post.mentions()) mention_keys.push_back(TagKey(user));
  // Free text finds words of the caption, tags and mentions alike.
  const nlohmann::json text_folded =
      FoldForSearch(absl::StrCat(post.caption(), "\n", absl::StrJoin(post.hashtags(), " "), "\n",
                                 absl::StrJoin(post.mentions(), " "), "\n", post.username()));
  absl::StrAppend(&doc, doc.size() > 1 ? "," : "", "\"", f::kHashtagKeys,
                  "\":", hashtag_keys.dump(), ",\"", f::kMentionKeys, "\":", mention_keys.dump(),
                  ",\"", f::kTextFolded, "\":", text_folded.dump(), ",\"", f::kShardBucket,
                  "\":", ShardBucket(post.owner_id()), ",\"", f::kLakeKey,
                  "\":", json(lake_key).dump(), "}");
  return doc;
}

absl::StatusOr<scout::v1::Post> PostFromDocument(const nlohmann::json& source) {
  if (!source.is_object()) {
    return absl::InternalError("stored post document is not a JSON object");
  }
  v1::MediaType media_type = v1::MEDIA_TYPE_UNSPECIFIED;
  json fields = source;
  if (const auto type = fields.find(f::kMediaType); type != fields.end()) {
    const std::optional<v1::MediaType> known =
        type->is_string() ? MediaTypeFromKeyword(type->get_ref<const std::string&>())
                          : std::nullopt;
    if (!known) {
      return absl::InternalError(
          absl::StrCat("stored post document has an unknown ", f::kMediaType, ": ",
                       type->dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    media_type = *known;
    fields.erase(type);
  }
  v1::Post post;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  // Replacement characters, never an exception, for a hostile _source.
  const std::string text = fields.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto status = google::protobuf::util::JsonStringToMessage(text, &post, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("stored post document does not parse: ", status.ToString()));
  }
  post.set_media_type(media_type);
  return post;
}

json TimestampRange(absl::Time from, std::optional<absl::Time> until, bool until_inclusive) {
  json range = {{"gte", absl::ToUnixMillis(from)}, {"format", "epoch_millis"}};
  if (until) range[until_inclusive ? "lte" : "lt"] = absl::ToUnixMillis(*until);
  return {{"range", {{f::kTimestamp, std::move(range)}}}};
}

std::optional<json> ShardFilter(const Shard& shard) {
  if (shard.IsWhole()) return std::nullopt;
  return json{{"bool",
               {{"should",
                 {{{"terms", {{f::kShardBucket, shard.Buckets()}}}},
                  // Documents from before the field existed (see the header).
                  {{"bool", {{"must_not", {{"exists", {{"field", f::kShardBucket}}}}}}}}}},
                {"minimum_should_match", 1}}}};
}

}  // namespace scout
