// Builds a creator's profile fact (the row the server serves) from their
// daily stats history, the aggregates of their recent posts and their latest
// palette. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/warehouse.h"
#include "workers/aggregate/post_aggregates.h"
#include "workers/aggregate/stats.h"

namespace scout::aggregate {

inline constexpr int kSeriesDays = 90;   // Daily series length.
inline constexpr int kRecentDays = 30;   // doc_count, fol_avg, eng_avg, growth.

struct SeriesPoint {
  absl::CivilDay day;
  int64_t followers = 0;
  std::optional<int64_t> impressions, reach;
};

struct Fact {
  std::string creator_id;
  absl::CivilDay as_of;
  const DailyStats* current = nullptr;  // The as_of day's stats.
  std::string profile_picture_url;      // Our media store's copy.
  std::string daily_json;               // [{"date","followers","impressions","reach"}], by date.
  int64_t doc_count = 0;
  std::optional<double> fol_avg, eng_avg, engagement_rate, follower_growth_30d;
  std::optional<std::string> palette_json;
};

// `history` may be unordered and hold duplicates (a backfill reloads days);
// the series comes out ordered by date, one point a day, last 90 days.
Fact BuildFact(const DailyStats& current, std::vector<SeriesPoint> history,
               const PostAggregate* posts, std::optional<std::string> palette_json,
               std::string profile_picture_url);

// The profile_facts columns, in table order (for COPY), but load_version and
// updated_at, which the load fills in.
inline constexpr const char* kFactColumns =
    "creator_id, as_of, username, name, biography, website, profile_picture_url, "
    "followers_count, follows_count, media_count, is_business, daily_json, doc_count, fol_avg, "
    "eng_avg, engagement_rate, follower_growth_30d, palette_json";
std::vector<SqlValue> FactValues(const Fact& fact);

}  // namespace scout::aggregate
