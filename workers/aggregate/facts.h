// Builds a creator's profile fact (the row the server serves) from their
// daily stats history, the aggregates of their recent posts and their latest
// palette. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "workers/aggregate/post_aggregates.h"
#include "workers/aggregate/stats.h"

namespace scout::aggregate {

inline constexpr int kSeriesDays = 90;  // Daily series length.
inline constexpr int kRecentDays = 30;  // doc_count, fol_avg, eng_avg, growth.

using SeriesPoint = DailyPoint;

// A creator's profile_facts row (common/backends/profile_facts.h owns its columns).
struct Fact : ProfileFactsRow {};

// `history` may be unordered and hold duplicates (a backfill reloads days);
// the series comes out ordered by date, one point a day, last 90 days.
Fact BuildFact(const DailyStats& current, std::vector<SeriesPoint> history,
               const PostAggregate* posts, std::optional<std::string> palette_json,
               std::string profile_picture_url);

// The profile_facts columns a load writes, in table order (for COPY).
inline constexpr const char* kFactColumns = kProfileFactsColumns;
inline std::vector<SqlValue> FactValues(const Fact& fact) { return ProfileFactsValues(fact); }

}  // namespace scout::aggregate
