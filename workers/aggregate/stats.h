// One lake stats file (instagram_graph/stats/<user_id>/<YYYY-MM-DD>.json,
// basic or business connection) as a row of creator_daily_stats, or a
// reason to quarantine it. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/backends/warehouse.h"

namespace scout::aggregate {

struct DailyStats {
  std::string creator_id;
  absl::CivilDay day;
  std::string username, name, biography, website, profile_picture_source;
  int64_t followers_count = 0;
  std::optional<int64_t> follows_count, media_count;
  // Business connections only: present exactly when is_business.
  bool is_business = false;
  std::optional<int64_t> impressions, reach, follower_count, profile_views, website_clicks,
      email_contacts, phone_call_clicks, text_message_clicks, get_directions_clicks;
  std::string source_key;
};

// `creator_id` and `day` come from the file's path; the file must agree.
absl::StatusOr<DailyStats> NormalizeStats(absl::string_view json_text, absl::string_view creator_id,
                                          absl::CivilDay day, absl::string_view source_key);

// The creator_daily_stats columns, in table order (for COPY).
inline constexpr const char* kDailyStatsColumns =
    "creator_id, day, username, name, biography, website, profile_picture_source, "
    "followers_count, follows_count, media_count, is_business, impressions, reach, "
    "follower_count, profile_views, website_clicks, email_contacts, phone_call_clicks, "
    "text_message_clicks, get_directions_clicks, source_key, loaded_at";
std::vector<SqlValue> DailyStatsValues(const DailyStats& stats, absl::string_view loaded_at);

}  // namespace scout::aggregate
