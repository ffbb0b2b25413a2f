#include "workers/aggregate/facts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace scout::aggregate {

Fact BuildFact(const DailyStats& current, std::vector<SeriesPoint> history,
               const PostAggregate* posts, std::optional<std::string> palette_json,
               std::string profile_picture_url) {
  Fact fact;
  fact.creator_id = current.creator_id;
  fact.as_of = current.day;
  fact.username = current.username;
  fact.name = current.name;
  fact.biography = current.biography;
  fact.website = current.website;
  fact.followers_count = current.followers_count;
  fact.follows_count = current.follows_count;
  fact.media_count = current.media_count;
  fact.is_business = current.is_business;
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
  fact.daily_json = DailyJson(series);

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

}  // namespace scout::aggregate
