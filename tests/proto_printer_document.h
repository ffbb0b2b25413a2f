// The post document as PostToDocument wrote it until issue 13 §5: the Post
// through protobuf's JSON printer, our search fields appended with nlohmann.
// Kept only as the reference the direct writer is held to
// (post_document_test) and as micro_bench's baseline; nothing else may use
// it. Header-only; thread-safe (pure).
#pragma once

#include <string>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/backends/post_index.h"
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

}  // namespace scout::testing
