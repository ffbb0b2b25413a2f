// libFuzzer target: arbitrary bytes as a lake post file through NormalizePost.
// Nothing may crash (ASan/UBSan), and what comes out must be safe to store:
// ids usable as path segments, text that JSON and protobuf accept, and a
// document that reads back as the same post. Violations abort.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/backends/media_fetch.h"
#include "common/backends/post_index.h"
#include "common/base/text.h"
#include "common/base/time.h"
#include "workers/ingest/normalize.h"

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Prints the broken invariant so a crash report says which one.
void Require(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "invariant broken: %s\n", what);
  abort();
}

// Whatever URL a post carries, the media fetch policy lets through only what
// its rules allow: with the default, http(s) on the Instagram/Facebook CDNs,
// public addresses only; with a file directory, files under it, no "..".
void RequireFetchPolicy(const std::string& url) {
  static const scout::MediaFetchPolicy* const kDefault = new scout::MediaFetchPolicy();
  static const scout::MediaFetchPolicy* const kFiles =
      new scout::MediaFetchPolicy(*scout::MediaFetchPolicy::Parse("file:///lake/cdn/", 1 << 20));
  if (absl::StatusOr<scout::MediaFetchPolicy::Target> target = kDefault->Check(url); target.ok()) {
    // What is fetched is the canonical URL (curl also reads "HTTPS:/host/p").
    const std::string fetched = absl::AsciiStrToLower(target->url);
    Require(absl::StartsWith(fetched, "http://") || absl::StartsWith(fetched, "https://"),
            "default policy: http(s) only");
    Require(!target->is_file && !target->allow_private, "default policy: public addresses only");
    const size_t host_start = fetched.find("://") + 3;
    const absl::string_view host = absl::string_view(fetched).substr(
        host_start, fetched.find_first_of(":/?#", host_start) - host_start);
    Require(absl::EndsWith(host, ".cdninstagram.com") || host == "cdninstagram.com" ||
                absl::EndsWith(host, ".fbcdn.net") || host == "fbcdn.net",
            "default policy: the CDN hosts only");
  } else {
    Require(absl::IsPermissionDenied(target.status()), "a refusal is PERMISSION_DENIED");
  }
  if (absl::StatusOr<scout::MediaFetchPolicy::Target> target = kFiles->Check(url); target.ok()) {
    Require(target->is_file && absl::StartsWith(target->file_path, "/lake/cdn/"),
            "file policy: under the directory");
    Require(!absl::StrContains(target->file_path, "/../") &&
                !absl::StrContains(target->file_path, "/./") &&
                !absl::EndsWith(target->file_path, "/.."),
            "file policy: no dot segments");
  }
}

// Every string field, nested ones included, is valid UTF-8 (protobuf only
// logs when it serializes one that is not; Elasticsearch would reject it).
void RequireUtf8Strings(const Message& message) {
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < message.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* field = message.GetDescriptor()->field(i);
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          Require(scout::IsValidUtf8(reflection->GetRepeatedString(message, field, j)),
                  "repeated string field is valid UTF-8");
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          RequireUtf8Strings(reflection->GetRepeatedMessage(message, field, j));
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      Require(scout::IsValidUtf8(reflection->GetString(message, field)),
              "string field is valid UTF-8");
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(message, field)) {
      RequireUtf8Strings(reflection->GetMessage(message, field));
    }
  }
}

// A post or owner id becomes a media store folder: no path syntax.
bool IsPlainId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

void RequireTags(const google::protobuf::RepeatedPtrField<std::string>& tags) {
  absl::flat_hash_set<std::string> keys;
  for (const std::string& tag : tags) {
    Require(!tag.empty() && tag[0] != '#' && tag[0] != '@', "tags are bare");
    const std::string key = scout::TagKey(tag);
    Require(!key.empty(), "tags have a key");
    Require(keys.insert(key).second, "tags are unique by key");
  }
}

void CheckPost(const scout::v1::Post& post) {
  RequireUtf8Strings(post);
  Require(IsPlainId(post.id()), "post id is a plain id");
  Require(IsPlainId(post.owner_id()), "owner id is a plain id");
  using google::protobuf::util::TimeUtil;
  Require(post.timestamp().seconds() >= TimeUtil::kTimestampMinSeconds &&
              post.timestamp().seconds() <= TimeUtil::kTimestampMaxSeconds,
          "timestamp is within years 1..9999");
  for (const int64_t count :
       {post.like_count(), post.comments_count(), post.engagement(), post.impressions(),
        post.reach(), post.saved(), post.video_views(), post.followers_at_post(),
        post.business_engagement(), post.sticker_taps(), post.tap_backs(), post.swipe_ups()}) {
    Require(count >= 0, "counts are non-negative");
  }
  RequireTags(post.hashtags());
  RequireTags(post.mentions());
  for (const scout::v1::MediaItem& item : post.media()) {
    Require(!item.source_url().empty() && item.url().empty(), "media: source_url, no url yet");
    RequireFetchPolicy(item.source_url());
  }

  // What scout-ingest writes: the index name and the document.
  // (Posts before 1970 are past the search window and never indexed.)
  const absl::Time time = scout::FromTimestamp(post.timestamp());
  if (time >= absl::UnixEpoch()) {
    Require(scout::MonthOfIndex("p", scout::MonthlyIndex("p", time)).has_value(),
            "monthly index is p-YYYY.MM");
  }
  std::string proto_json;
  Require(google::protobuf::util::MessageToJsonString(post, &proto_json).ok(),
          "post prints as proto JSON");
  const std::string document = scout::PostToDocument(post, "lake/key.json");
  const nlohmann::json parsed = nlohmann::json::parse(document, nullptr, false);
  Require(parsed.is_object(), "document is a JSON object");
  absl::StatusOr<scout::v1::Post> back = scout::PostFromDocument(parsed);
  Require(back.ok(), "document reads back");
  Require(google::protobuf::util::MessageDifferencer::Equals(post, *back),
          "document reads back as the same post");

  // The server highlights captions with the folded words of a query.
  const std::string highlight =
      scout::Highlight(post.caption(), scout::Words(scout::FoldForSearch(post.caption())));
  Require(scout::IsValidUtf8(highlight), "highlight is valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<scout::v1::Post> post =
      scout::ingest::NormalizePost(text, "178410000000001");
  if (post.ok()) {
    CheckPost(*post);
  } else {
    // Reasons go into JSON reports and quarantine records.
    Require(post.status().code() == absl::StatusCode::kInvalidArgument,
            "errors are INVALID_ARGUMENT");
    Require(scout::IsValidUtf8(post.status().message()), "reason is valid UTF-8");
  }
  return 0;
}
