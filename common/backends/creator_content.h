// The creator_content row: what a creator posted about in the last 90 days
// (hashtags and mentions with counts, a bounded sample of recent captions,
// topics), written by scout-aggregate in the same transaction as the
// creator's profile_facts row and read when the creators index is written or
// rebuilt. The one owner of the table's columns and JSON codecs (the table is
// created by the migrations in warehouse.cc). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/backends/warehouse.h"
#include "scout/v1/types.pb.h"

namespace scout {

inline constexpr int kContentDays = 90;
inline constexpr int kMaxContentTags = 50;           // Per creator, most used first.
inline constexpr int kMaxSampleCaptions = 20;        // Newest first...
inline constexpr int kMaxSampleCaptionBytes = 8192;  // ...and at most this much text.

// The columns a load writes, in table order (for COPY and INSERT ... SELECT);
// the load columns are filled in when the load is swapped in.
inline constexpr const char* kCreatorContentColumns =
    "creator_id, as_of, posts_90d, hashtags_json, mentions_json, captions_json, topics_json";
inline constexpr const char* kCreatorContentLoadColumns = "load_version, updated_at";

struct CreatorContentRow {
  std::string creator_id;
  absl::CivilDay as_of;
  int64_t posts_90d = 0;
  std::vector<scout::v1::TagCount> hashtags, mentions;  // Most used first.
  std::vector<std::string> captions;                    // Newest first.
  std::vector<scout::v1::TopicShare> topics;            // Up to 3.
};

// The values of kCreatorContentColumns for COPY, text cleaned and cut to the
// column sizes so hostile lake text cannot fail the load.
std::vector<SqlValue> CreatorContentValues(const CreatorContentRow& row);
// `SELECT <every column> FROM creator_content` (add WHERE / ORDER BY / LIMIT).
std::string SelectCreatorContent();
// As ReadProfileFacts: INTERNAL for a missing column, DATA_LOSS for a bad value.
absl::StatusOr<CreatorContentRow> ReadCreatorContent(const SqlRows& rows, size_t index);

// topics_json (also a profile_facts column): [{"slug": "food", "share": 0.4}, ...].
std::string TopicsJson(const std::vector<scout::v1::TopicShare>& topics);
absl::StatusOr<std::vector<scout::v1::TopicShare>> ParseTopicsJson(absl::string_view json);

}  // namespace scout
