#include "workers/aggregate/content.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/post_index.h"
#include "common/backends/warehouse.h"
#include "common/base/text.h"
#include "common/base/time.h"

namespace scout::aggregate {
namespace {

using nlohmann::json;
namespace f = post_field;

// Strings of a _source array; anything else in it is skipped (lake text is
// hostile, and a post indexed by an older version may lack the field).
std::vector<std::string> Strings(const json& source, const char* field) {
  std::vector<std::string> out;
  const auto it = source.find(field);
  if (it == source.end() || !it->is_array()) return out;
  for (const json& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<int64_t> OptionalInt(const json& source, const char* field) {
  const auto it = source.find(field);
  if (it == source.end()) return std::nullopt;
  // Proto JSON prints int64 as a string.
  if (it->is_number_integer()) return it->get<int64_t>();
  int64_t n;
  if (it->is_string() && absl::SimpleAtoi(it->get_ref<const std::string&>(), &n)) return n;
  return std::nullopt;
}

}  // namespace

ContentBuilder::ContentBuilder(std::string creator_id, absl::Time recent_from)
    : recent_from_(recent_from) {
  content_.row.creator_id = std::move(creator_id);
}

void ContentBuilder::Count(const std::vector<std::string>& tags,
                           absl::flat_hash_map<std::string, Tally>& tally) {
  // A post counts once per tag, however often it repeats it; its first
  // spelling stands for it. Posts arrive newest first, so the spelling kept
  // in the end is the oldest post's: the tag as first written.
  absl::flat_hash_set<std::string> seen;
  for (const std::string& tag : tags) {
    std::string key = TagKey(tag);
    if (key.empty() || !seen.insert(key).second) continue;
    Tally& t = tally[key];
    ++t.count;
    t.shown = tag;
  }
}

void ContentBuilder::AddPost(absl::Time timestamp, absl::string_view caption,
                             const std::vector<std::string>& hashtags,
                             const std::vector<std::string>& mentions, std::optional<int64_t> reach,
                             std::optional<int64_t> impressions) {
  ++content_.row.posts_90d;
  if (!content_.last_post_at) content_.last_post_at = timestamp;
  Count(hashtags, hashtags_);
  Count(mentions, mentions_);
  topics_.AddPost(caption, hashtags);
  // The newest captions, cut (at a character) to the sample's byte budget.
  if (!caption.empty() && content_.row.captions.size() < static_cast<size_t>(kMaxSampleCaptions) &&
      caption_bytes_ < static_cast<size_t>(kMaxSampleCaptionBytes)) {
    std::string kept = WarehouseText(caption, kMaxSampleCaptionBytes - caption_bytes_);
    if (!kept.empty()) {
      caption_bytes_ += kept.size();
      content_.row.captions.push_back(std::move(kept));
    }
  }
  if (timestamp >= recent_from_) {
    if (reach) {
      reach_sum_ += static_cast<double>(*reach);
      ++reach_posts_;
    }
    if (impressions) {
      impressions_sum_ += static_cast<double>(*impressions);
      ++impressions_posts_;
    }
  }
}

std::vector<v1::TagCount> ContentBuilder::Top(
    const absl::flat_hash_map<std::string, Tally>& tally) {
  std::vector<std::pair<std::string, const Tally*>> sorted;
  sorted.reserve(tally.size());
  for (const auto& [key, t] : tally) sorted.emplace_back(key, &t);
  // Most used first; ties by folded key so a rerun gives the same list.
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second->count != b.second->count) return a.second->count > b.second->count;
    return a.first < b.first;
  });
  if (sorted.size() > static_cast<size_t>(kMaxContentTags)) sorted.resize(kMaxContentTags);
  std::vector<v1::TagCount> top;
  top.reserve(sorted.size());
  for (const auto& [key, t] : sorted) {
    v1::TagCount& tag = top.emplace_back();
    tag.set_tag(t->shown);
    tag.set_count(t->count);
  }
  return top;
}

CreatorContent ContentBuilder::Finish() && {
  content_.row.hashtags = Top(hashtags_);
  content_.row.mentions = Top(mentions_);
  for (const TopicShareOf& topic : topics_.Top(3)) {
    v1::TopicShare& share = content_.row.topics.emplace_back();
    share.set_slug(topic.slug);
    share.set_share(topic.share);
  }
  if (reach_posts_ > 0) content_.avg_reach = reach_sum_ / static_cast<double>(reach_posts_);
  if (impressions_posts_ > 0) {
    content_.avg_impressions = impressions_sum_ / static_cast<double>(impressions_posts_);
  }
  return std::move(content_);
}

absl::StatusOr<absl::flat_hash_map<std::string, CreatorContent>> ReadCreatorContents(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time recent_from,
    absl::Time to, const Shard& shard, ContentReadStats* stats, int page_size) {
  json filters = json::array({TimestampRange(from, to, /*until_inclusive=*/false)});
  if (std::optional<json> mine = ShardFilter(shard)) filters.push_back(*std::move(mine));
  json request = {
      {"size", page_size},
      {"track_total_hits", false},
      {"_source",
       {f::kOwnerId, f::kTimestamp, "caption", "hashtags", "mentions", "reach", "impressions"}},
      {"query", {{"bool", {{"filter", std::move(filters)}}}}},
      // Owner first so a creator is complete when the owner changes; the id
      // breaks ties so pages never skip or repeat a post.
      {"sort", {{{f::kOwnerId, "asc"}}, {{f::kTimestamp, "desc"}}, {{f::kId, "asc"}}}}};
  absl::flat_hash_map<std::string, CreatorContent> result;
  std::optional<ContentBuilder> current;
  std::string current_owner;
  bool owned = false;
  ContentReadStats local;
  for (;;) {
    absl::StatusOr<json> answer =
        elastic.Call("POST", absl::StrCat(alias, "/_search"), request, absl::Seconds(120));
    if (absl::IsNotFound(answer.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the posts alias \"", alias, "\" does not exist: ", answer.status().message()));
    }
    if (!answer.ok()) return answer.status();
    ++local.pages;
    const json* hits = nullptr;
    if (const auto outer = answer->find("hits");
        answer->is_object() && outer != answer->end() && outer->is_object()) {
      if (const auto inner = outer->find("hits"); inner != outer->end() && inner->is_array()) {
        hits = &*inner;
      }
    }
    if (hits == nullptr)
      return absl::InternalError("elasticsearch search answer without hits.hits");
    if (hits->empty()) break;
    for (const json& hit : *hits) {
      ++local.posts_read;
      if (!hit.is_object() || !hit.contains("_source") || !hit["_source"].is_object()) {
        return absl::InternalError("elasticsearch search answer: a hit without _source");
      }
      const json& source = hit["_source"];
      const auto owner_field = source.find(f::kOwnerId);
      const auto time_field = source.find(f::kTimestamp);
      if (owner_field == source.end() || !owner_field->is_string() || time_field == source.end() ||
          !time_field->is_string()) {
        continue;  // Not a post document of ours: nothing to count.
      }
      const absl::StatusOr<absl::Time> timestamp = ParseTime(time_field->get<std::string>());
      if (!timestamp.ok()) continue;
      const std::string& owner = owner_field->get_ref<const std::string&>();
      if (!current || owner != current_owner) {
        if (current && owned) result.emplace(current_owner, std::move(*current).Finish());
        current_owner = owner;
        current.emplace(owner, recent_from);
        // Posts indexed before shard_bucket existed reach every shard.
        owned = shard.Owns(owner);
      }
      if (!owned) continue;
      const auto caption = source.find("caption");
      current->AddPost(*timestamp,
                       caption != source.end() && caption->is_string()
                           ? caption->get_ref<const std::string&>()
                           : absl::string_view(),
                       Strings(source, "hashtags"), Strings(source, "mentions"),
                       OptionalInt(source, "reach"), OptionalInt(source, "impressions"));
    }
    const json& last = hits->back();
    if (!last.is_object() || !last.contains("sort")) {
      return absl::InternalError("elasticsearch search answer: a hit without sort values");
    }
    request["search_after"] = last["sort"];
  }
  if (current && owned) result.emplace(current_owner, std::move(*current).Finish());
  if (stats != nullptr) *stats = local;
  return result;
}

}  // namespace scout::aggregate
