#include "workers/ingest/normalize.h"

#include <limits>
#include <optional>

#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/json_fields.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/time.h"

namespace scout::ingest {
namespace {

using nlohmann::json;
using scout::v1::MediaType;
using scout::v1::Post;

constexpr size_t kMaxIdLength = 64;

// Post and owner ids name media store folders (PostMediaKey) and
// Elasticsearch documents, so a hostile file must not smuggle in "../" or
// other path syntax: ids are short runs of letters, digits, '_' and '-'
// (Instagram's are digits).
absl::Status CheckId(absl::string_view field, absl::string_view id) {
  if (id.size() > kMaxIdLength) {
    return FieldError(field, absl::StrCat("longer than ", kMaxIdLength, " characters"));
  }
  for (const char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return FieldError(field, absl::StrCat("not an id: \"", id.substr(0, 40), "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ValidId(const json& object, const char* field, bool required,
                                    absl::string_view name) {
  SCOUT_ASSIGN_OR_RETURN(std::string id, IdField(object, field, required));
  SCOUT_RETURN_IF_ERROR(CheckId(name, id));
  return id;
}

// Both spellings real clients produce: "STORY_IMAGE", or
// media_product_type "STORY" with media_type "IMAGE".
absl::StatusOr<MediaType> ResolveMediaType(const json& object) {
  SCOUT_ASSIGN_OR_RETURN(const std::string type, StringField(object, "media_type"));
  SCOUT_ASSIGN_OR_RETURN(const std::string product, StringField(object, "media_product_type"));
  const bool story = product == "STORY";
  if (type == "IMAGE") return story ? v1::MEDIA_TYPE_STORY_IMAGE : v1::MEDIA_TYPE_IMAGE;
  if (type == "VIDEO") return story ? v1::MEDIA_TYPE_STORY_VIDEO : v1::MEDIA_TYPE_VIDEO;
  if (type == "CAROUSEL_ALBUM") return v1::MEDIA_TYPE_CAROUSEL_ALBUM;
  if (type == "STORY_IMAGE") return v1::MEDIA_TYPE_STORY_IMAGE;
  if (type == "STORY_VIDEO") return v1::MEDIA_TYPE_STORY_VIDEO;
  if (type.empty()) return FieldError("media_type", "missing");
  return FieldError("media_type", absl::StrCat("unknown \"", type.substr(0, 40), "\""));
}

// Source URLs are kept as the file has them, whatever their scheme: they
// are hostile input, judged where they would be fetched (MediaFetchPolicy,
// by the configured allowlist), so a refused one is reported against its
// post while the post itself is still indexed.
void AddMedia(Post& post, std::string id, MediaType type, std::string source_url) {
  if (source_url.empty()) return;
  v1::MediaItem* item = post.add_media();
  item->set_id(std::move(id));
  item->set_media_type(type);
  item->set_source_url(std::move(source_url));
}

// The still pictures of a post: videos and stories by their thumbnails.
absl::Status CollectMedia(const json& object, Post& post) {
  SCOUT_ASSIGN_OR_RETURN(const std::string media_url, StringField(object, "media_url"));
  SCOUT_ASSIGN_OR_RETURN(const std::string thumbnail, StringField(object, "thumbnail_url"));
  switch (post.media_type()) {
    case v1::MEDIA_TYPE_IMAGE:
    case v1::MEDIA_TYPE_STORY_IMAGE:
      AddMedia(post, post.id(), post.media_type(), media_url);
      break;
    case v1::MEDIA_TYPE_VIDEO:
    case v1::MEDIA_TYPE_STORY_VIDEO:
      AddMedia(post, post.id(), post.media_type(), thumbnail);
      break;
    case v1::MEDIA_TYPE_CAROUSEL_ALBUM: {
      const auto children = object.find("children");
      if (children == object.end() || !children->is_object() || !children->contains("data") ||
          !(*children)["data"].is_array()) {
        AddMedia(post, post.id(), v1::MEDIA_TYPE_IMAGE, media_url);
        break;
      }
      for (const json& child : (*children)["data"]) {
        if (!child.is_object()) return FieldError("children.data[]", "expected an object");
        SCOUT_ASSIGN_OR_RETURN(std::string id, ValidId(child, "id", false, "children.data[].id"));
        SCOUT_ASSIGN_OR_RETURN(const std::string type, StringField(child, "media_type"));
        SCOUT_ASSIGN_OR_RETURN(std::string url, StringField(child, "media_url"));
        if (type == "VIDEO") {
          SCOUT_ASSIGN_OR_RETURN(url, StringField(child, "thumbnail_url"));
        }
        AddMedia(post, std::move(id), type == "VIDEO" ? v1::MEDIA_TYPE_VIDEO : v1::MEDIA_TYPE_IMAGE,
                 std::move(url));
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

// Tags from the comma-separated field and from the caption, deduplicated by
// their folded key, first spelling kept.
void AddTags(const std::vector<std::string>& found, absl::flat_hash_set<std::string>& seen,
             google::protobuf::RepeatedPtrField<std::string>& out) {
  for (const std::string& tag : found) {
    std::string key = TagKey(tag);
    if (key.empty() || !seen.insert(std::move(key)).second) continue;
    absl::string_view spelled = tag;
    while (!spelled.empty() && (spelled.front() == '#' || spelled.front() == '@')) {
      spelled.remove_prefix(1);
    }
    out.Add(std::string(spelled));
  }
}

absl::Status FillMetrics(const json& object, Post& post) {
  struct Metric {
    const char* field;
    void (Post::*set)(int64_t);
  };
  static constexpr Metric kMetrics[] = {
      {"like_count", &Post::set_like_count},
      {"comments_count", &Post::set_comments_count},
      {"impressions", &Post::set_impressions},
      {"reach", &Post::set_reach},
      {"saved", &Post::set_saved},
      {"video_views", &Post::set_video_views},
      {"engagement", &Post::set_business_engagement},
      {"sticker_taps", &Post::set_sticker_taps},
      {"tap_backs", &Post::set_tap_backs},
      {"swipe_ups", &Post::set_swipe_ups},
  };
  for (const Metric& metric : kMetrics) {
    SCOUT_ASSIGN_OR_RETURN(const std::optional<int64_t> value, CountField(object, metric.field));
    if (value) (post.*metric.set)(*value);
  }
  // Saturating: two counts near INT64_MAX must not overflow the sum.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  post.set_engagement(post.has_business_engagement() ? post.business_engagement()
                      : post.like_count() > kMax - post.comments_count()
                          ? kMax
                          : post.like_count() + post.comments_count());
  return absl::OkStatus();
}

absl::StatusOr<Post> NormalizeObject(const json& object, absl::string_view owner_hint) {
  Post post;
  SCOUT_ASSIGN_OR_RETURN(*post.mutable_id(), ValidId(object, "id", true, "id"));
  SCOUT_ASSIGN_OR_RETURN(const MediaType type, ResolveMediaType(object));
  post.set_media_type(type);

  SCOUT_ASSIGN_OR_RETURN(const std::string timestamp, StringField(object, "timestamp"));
  if (timestamp.empty()) return FieldError("timestamp", "missing");
  absl::StatusOr<absl::Time> time = ParseTime(timestamp);
  if (!time.ok()) return FieldError("timestamp", time.status().message());
  // Years 1..9999 only: a Post outside them cannot be written as JSON, so it
  // could never be indexed.
  const int64_t seconds = absl::ToUnixSeconds(*time);
  if (seconds < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
      seconds > google::protobuf::util::TimeUtil::kTimestampMaxSeconds) {
    return FieldError("timestamp", absl::StrCat("out of range: \"", timestamp.substr(0, 40), "\""));
  }
  *post.mutable_timestamp() = ToTimestamp(*time);

  std::string owner_id(owner_hint);
  if (const auto owner = object.find("owner"); owner != object.end() && !owner->is_null()) {
    if (!owner->is_object()) return FieldError("owner", "expected an object");
    SCOUT_ASSIGN_OR_RETURN(std::string id, ValidId(*owner, "id", false, "owner.id"));
    if (!id.empty()) owner_id = std::move(id);
    SCOUT_ASSIGN_OR_RETURN(const std::optional<int64_t> followers,
                           CountField(*owner, "followers_count"));
    if (followers) post.set_followers_at_post(*followers);
    SCOUT_ASSIGN_OR_RETURN(const std::string owner_name, StringField(*owner, "username"));
    post.set_username(owner_name);
  }
  if (owner_id.empty()) return FieldError("owner.id", "missing");
  SCOUT_RETURN_IF_ERROR(CheckId("owner.id", owner_id));
  post.set_owner_id(std::move(owner_id));
  SCOUT_ASSIGN_OR_RETURN(const std::string username, StringField(object, "username"));
  if (!username.empty()) post.set_username(username);

  SCOUT_ASSIGN_OR_RETURN(*post.mutable_caption(), StringField(object, "caption"));
  SCOUT_ASSIGN_OR_RETURN(*post.mutable_permalink(), StringField(object, "permalink"));
  SCOUT_ASSIGN_OR_RETURN(*post.mutable_shortcode(), StringField(object, "shortcode"));
  SCOUT_RETURN_IF_ERROR(FillMetrics(object, post));

  SCOUT_ASSIGN_OR_RETURN(const std::string hashtags, StringField(object, "hashtags"));
  SCOUT_ASSIGN_OR_RETURN(const std::string mentions, StringField(object, "mentioned_users"));
  absl::flat_hash_set<std::string> seen;
  AddTags(SplitList(hashtags), seen, *post.mutable_hashtags());
  AddTags(ExtractHashtags(post.caption()), seen, *post.mutable_hashtags());
  seen.clear();
  AddTags(SplitList(mentions), seen, *post.mutable_mentions());
  AddTags(ExtractMentions(post.caption()), seen, *post.mutable_mentions());

  SCOUT_RETURN_IF_ERROR(CollectMedia(object, post));
  return post;
}

}  // namespace

absl::StatusOr<Post> NormalizePost(absl::string_view json_text, absl::string_view owner_hint) {
  absl::StatusOr<Post> post = [&]() -> absl::StatusOr<Post> {
    SCOUT_ASSIGN_OR_RETURN(const json object, ParseObject(json_text));
    return NormalizeObject(object, owner_hint);
  }();
  // Reasons quote the file (parser context, 40-byte excerpts that may end
  // mid-character) and end up in JSON reports and quarantine records.
  if (!post.ok() && !IsValidUtf8(post.status().message())) {
    return absl::Status(post.status().code(), ToValidUtf8(post.status().message()));
  }
  return post;
}

}  // namespace scout::ingest
