#include "workers/aggregate/facts.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace scout::aggregate {
namespace {

// Shortest text that reads back as the same double (StrCat keeps only 6 digits).
SqlValue Number(const std::optional<double>& value) {
  if (!value) return std::nullopt;
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, *value).ptr;
  return std::string(buffer, end);
}
SqlValue Count(const std::optional<int64_t>& value) {
  return value ? SqlValue(std::to_string(*value)) : std::nullopt;
}

}  // namespace

Fact BuildFact(const DailyStats& current, std::vector<SeriesPoint> history,
               const PostAggregate* posts, std::optional<std::string> palette_json,
               std::string profile_picture_url) {
  Fact fact;
  fact.creator_id = current.creator_id;
  fact.as_of = current.day;
  fact.current = &current;
  fact.profile_picture_url = std::move(profile_picture_url);
  fact.palette_json = std::move(palette_json);

  // Today's file wins over whatever the history holds for the same day.
  history.push_back({current.day, current.followers_count, current.impressions, current.reach});
  std::stable_sort(history.begin(), history.end(),
                   [](const SeriesPoint& a, const SeriesPoint& b) { return a.day < b.day; });
  std::vector<SeriesPoint> series;
  for (const SeriesPoint& point : history) {
    if (point.day > current.day || point.day <= current.day - kSeriesDays) continue;
    if (!series.empty() && series.back().day == point.day) {
      series.back() = point;
    } else {
      series.push_back(point);
    }
  }
  nlohmann::json daily = nlohmann::json::array();
  for (const SeriesPoint& point : series) {
    nlohmann::json entry = {{"date", absl::FormatCivilTime(point.day)},
                            {"followers", point.followers}};
    if (point.impressions) entry["impressions"] = *point.impressions;
    if (point.reach) entry["reach"] = *point.reach;
    daily.push_back(std::move(entry));
  }
  fact.daily_json = daily.dump();

  // Growth against the oldest point of the last 30 days (a creator may
  // lack the exact day).
  const auto base = std::find_if(series.begin(), series.end(), [&](const SeriesPoint& p) {
    return p.day >= current.day - kRecentDays;
  });
  if (base != series.end() && base->day < current.day && base->followers > 0) {
    fact.follower_growth_30d =
        static_cast<double>(current.followers_count - base->followers) / base->followers;
  }

  if (posts != nullptr) {
    fact.doc_count = posts->posts;
    fact.fol_avg = posts->followers_avg;
    if (posts->feed_posts > 0) {
      fact.eng_avg = static_cast<double>(posts->likes + posts->comments) / posts->feed_posts;
    }
  }
  if (fact.eng_avg && current.followers_count > 0) {
    fact.engagement_rate = *fact.eng_avg / current.followers_count;
  }
  return fact;
}

std::vector<SqlValue> FactValues(const Fact& f) {
  const DailyStats& s = *f.current;
  return {f.creator_id,
          absl::FormatCivilTime(f.as_of),
          s.username,
          s.name,
          s.biography,
          s.website,
          f.profile_picture_url,
          std::to_string(s.followers_count),
          Count(s.follows_count),
          Count(s.media_count),
          s.is_business ? "true" : "false",
          f.daily_json,
          std::to_string(f.doc_count),
          Number(f.fol_avg),
          Number(f.eng_avg),
          Number(f.engagement_rate),
          Number(f.follower_growth_30d),
          f.palette_json};
}

}  // namespace scout::aggregate
