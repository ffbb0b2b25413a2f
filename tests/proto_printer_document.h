// The post document as PostToDocument wrote it until issue 13 §5 (the Post
// through protobuf's JSON printer, our search fields appended with
// nlohmann), and as PostFromDocument read it until issue 13 §2 (the
// document dumped back to text for protobuf's JSON parser). Kept only as the
// references the direct writer and reader are held to (post_document_test)
// and as micro_bench's baselines; nothing else may use them. Header-only;
// thread-safe (pure).
#pragma once

#include <optional>
#include <string>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/backends/post_index.h"
#include "common/base/json_fields.h"
#include "common/base/shard.h"
#include "common/base/text.h"
#include "scout/v1/types.pb.h"

namespace scout::testing {

// Verbatim the former PostToDocument (commit 861c034), field names included.
inline std::string ProtoPrinterPostDocument(const v1::Post& post, absl::string_view lake_key) {
  using nlohmann::json;
  namespace f = post_field;
  std::string doc;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  v1::Post printed = post;
  printed.clear_media_type();
  (void)google::protobuf::util::MessageToJsonString(printed, &doc, options);
  doc.pop_back();
  if (const absl::string_view type = MediaTypeKeyword(post.media_type()); !type.empty()) {
    absl::StrAppend(&doc, doc.size() > 1 ? "," : "", "\"", f::kMediaType, "\":", json(type).dump());
  }
  json hashtag_keys = json::array();
  json mention_keys = json::array();
  for (const std::string& tag : post.hashtags()) hashtag_keys.push_back(TagKey(tag));
  for (const std::string& user : post.mentions()) mention_keys.push_back(TagKey(user));
  const json text_folded =
      FoldForSearch(absl::StrCat(post.caption(), "\n", absl::StrJoin(post.hashtags(), " "), "\n",
                                 absl::StrJoin(post.mentions(), " "), "\n", post.username()));
  absl::StrAppend(&doc, doc.size() > 1 ? "," : "", "\"", f::kHashtagKeys,
                  "\":", hashtag_keys.dump(), ",\"", f::kMentionKeys, "\":", mention_keys.dump(),
                  ",\"", f::kTextFolded, "\":", text_folded.dump(), ",\"", f::kShardBucket,
                  "\":", ShardBucket(post.owner_id()), ",\"", f::kLakeKey,
                  "\":", json(lake_key).dump(), "}");
  return doc;
}

// Verbatim the former PostFromDocument (commit bad1cb3).
inline absl::StatusOr<v1::Post> ProtoParserPostFromDocument(const nlohmann::json& source) {
  using nlohmann::json;
  namespace f = post_field;
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
      return absl::InternalError(absl::StrCat("stored post document has an unknown ", f::kMediaType,
                                              ": ", DumpJson(*type)));
    }
    media_type = *known;
    fields.erase(type);
  }
  v1::Post post;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const std::string text = DumpJson(fields);
  const auto status = google::protobuf::util::JsonStringToMessage(text, &post, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("stored post document does not parse: ", status.ToString()));
  }
  post.set_media_type(media_type);
  return post;
}

}  // namespace scout::testing
