#include "common/backends/creator_content.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/backends/row_reader.h"
#include "common/base/json_fields.h"
#include "common/base/status.h"

namespace scout {
namespace {

using nlohmann::json;

// A tag longer than this is not a tag anyone searches for; cut so that 50 of
// them always fit the column.
constexpr size_t kMaxTagBytes = 256;

// Serializes `items` (each already valid UTF-8), dropping entries from the
// end until the array fits `max_bytes`: escaping can make short text long,
// and the column must take whatever the lake held. Never throws: invalid
// UTF-8 (none should reach here) is replaced rather than raised.
std::string DumpFitting(json items, size_t max_bytes) {
  for (;;) {
    std::string text = DumpJson(items);
    if (text.size() <= max_bytes || items.empty()) return text;
    items.erase(items.size() - 1);
  }
}

std::string TagsJson(const std::vector<v1::TagCount>& tags) {
  json items = json::array();
  for (const v1::TagCount& tag : tags) {
    if (items.size() >= static_cast<size_t>(kMaxContentTags)) break;
    items.push_back({{"tag", WarehouseText(tag.tag(), kMaxTagBytes)}, {"count", tag.count()}});
  }
  return DumpFitting(std::move(items), column_bytes::kContentJson);
}

std::string CaptionsJson(const std::vector<std::string>& captions) {
  json items = json::array();
  size_t bytes = 0;
  for (const std::string& caption : captions) {
    if (items.size() >= static_cast<size_t>(kMaxSampleCaptions)) break;
    std::string clean = WarehouseText(caption, kMaxSampleCaptionBytes - bytes);
    if (clean.empty()) break;
    bytes += clean.size();
    items.push_back(std::move(clean));
  }
  return DumpFitting(std::move(items), column_bytes::kContentJson);
}

absl::StatusOr<json> ParseArray(absl::string_view text, const char* column) {
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) {
    return absl::DataLossError(absl::StrCat(column, " is not a JSON array"));
  }
  return parsed;
}

absl::StatusOr<std::vector<v1::TagCount>> ParseTagsJson(absl::string_view text,
                                                        const char* column) {
  SCOUT_ASSIGN_OR_RETURN(const json items, ParseArray(text, column));
  std::vector<v1::TagCount> tags;
  for (const json& item : items) {
    const absl::StatusOr<std::string> tag =
        item.is_object() ? StringField(item, "tag") : absl::StatusOr<std::string>("");
    const absl::StatusOr<std::optional<int64_t>> count =
        item.is_object() ? CountField(item, "count") : std::optional<int64_t>();
    if (!tag.ok() || tag->empty() || !count.ok() || !count->has_value()) {
      return absl::DataLossError(
          absl::StrCat(column, " entry ", tags.size(), " wants a tag and a count"));
    }
    v1::TagCount& out = tags.emplace_back();
    out.set_tag(*tag);
    out.set_count(**count);
  }
  return tags;
}

}  // namespace

std::string TopicsJson(const std::vector<v1::TopicShare>& topics) {
  json items = json::array();
  for (const v1::TopicShare& topic : topics) {
    items.push_back({{"slug", WarehouseText(topic.slug(), 64)}, {"share", topic.share()}});
  }
  return DumpFitting(std::move(items), column_bytes::kTopicsJson);
}

absl::StatusOr<std::vector<v1::TopicShare>> ParseTopicsJson(absl::string_view text) {
  SCOUT_ASSIGN_OR_RETURN(const json items, ParseArray(text, "topics_json"));
  std::vector<v1::TopicShare> topics;
  for (const json& item : items) {
    const absl::StatusOr<std::string> slug =
        item.is_object() ? StringField(item, "slug") : absl::StatusOr<std::string>("");
    const auto share = item.is_object() ? item.find("share") : item.end();
    if (!slug.ok() || slug->empty() || share == item.end() || !share->is_number()) {
      return absl::DataLossError(
          absl::StrCat("topics_json entry ", topics.size(), " wants a slug and a share"));
    }
    v1::TopicShare& out = topics.emplace_back();
    out.set_slug(*slug);
    out.set_share(share->get<double>());
  }
  return topics;
}

std::vector<SqlValue> CreatorContentValues(const CreatorContentRow& row) {
  return {WarehouseText(row.creator_id, column_bytes::kCreatorId),
          absl::FormatCivilTime(row.as_of),
          std::to_string(row.posts_90d),
          TagsJson(row.hashtags),
          TagsJson(row.mentions),
          CaptionsJson(row.captions),
          TopicsJson(row.topics)};
}

std::string SelectCreatorContent() {
  return absl::StrCat("SELECT ", kCreatorContentColumns, " FROM creator_content");
}

absl::StatusOr<CreatorContentRow> ReadCreatorContent(const SqlRows& rows, size_t index) {
  RowReader r(rows, index, "creator_content");
  CreatorContentRow c;
  c.creator_id = r.Text("creator_id");
  const std::string as_of = r.Text("as_of");
  if (!absl::ParseCivilTime(as_of, &c.as_of)) r.Bad("as_of", as_of);
  c.posts_90d = r.Count("posts_90d");
  const std::string hashtags = r.Text("hashtags_json");
  const std::string mentions = r.Text("mentions_json");
  const std::string captions = r.Text("captions_json");
  const std::string topics = r.Text("topics_json");
  SCOUT_RETURN_IF_ERROR(r.Status(c.creator_id));
  const auto context = [&](const absl::Status& status) {
    return absl::DataLossError(
        absl::StrCat("creator_content row of ", c.creator_id, ": ", status.message()));
  };
  absl::StatusOr<std::vector<v1::TagCount>> tags = ParseTagsJson(hashtags, "hashtags_json");
  if (!tags.ok()) return context(tags.status());
  c.hashtags = *std::move(tags);
  tags = ParseTagsJson(mentions, "mentions_json");
  if (!tags.ok()) return context(tags.status());
  c.mentions = *std::move(tags);
  absl::StatusOr<json> sample = ParseArray(captions, "captions_json");
  if (!sample.ok()) return context(sample.status());
  for (const json& caption : *sample) {
    if (!caption.is_string()) return context(absl::DataLossError("a caption is not a string"));
    c.captions.push_back(caption.get<std::string>());
  }
  absl::StatusOr<std::vector<v1::TopicShare>> shares = ParseTopicsJson(topics);
  if (!shares.ok()) return context(shares.status());
  c.topics = *std::move(shares);
  return c;
}

}  // namespace scout
