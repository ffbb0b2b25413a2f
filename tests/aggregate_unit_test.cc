// The pure parts of scout-aggregate: stats file normalization and fact
// building. The warehouse round trip is in aggregate_test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "workers/aggregate/facts.h"
#include "workers/aggregate/stats.h"

namespace scout::aggregate {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const absl::CivilDay kDay(2026, 11, 20);

json Basic() {
  return {{"created_at", "2026-11-20"},
          {"biography", "bio"},
          {"id", "17841400036094485"},
          {"ig_id", 287041203},
          {"followers_count", 5333},
          {"follows_count", 18},
          {"media_count", 93},
          {"name", "Printed Name"},
          {"profile_picture_url", "https://cdn/p.jpg"},
          {"username", "udacity"}};
}

json Business() {
  json stats = Basic();
  stats.update({{"website", "https://bit.ly/3bIJCO3"},
                {"impressions", 3759},
                {"reach", 1301},
                {"follower_count", 3},
                {"email_contacts", 0},
                {"phone_call_clicks", 0},
                {"text_message_clicks", 0},
                {"get_directions_clicks", 0},
                {"website_clicks", 1},
                {"profile_views", 31}});
  return stats;
}

absl::StatusOr<DailyStats> Normalize(const json& stats) {
  return NormalizeStats(stats.dump(), "17841400036094485", kDay, "k");
}

TEST(NormalizeStats, BasicHasNoBusinessMetrics) {
  absl::StatusOr<DailyStats> s = Normalize(Basic());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->followers_count, 5333);
  EXPECT_EQ(s->follows_count, 18);
  EXPECT_EQ(s->username, "udacity");
  EXPECT_FALSE(s->is_business);
  EXPECT_FALSE(s->impressions.has_value());
  EXPECT_FALSE(s->follower_count.has_value());
  EXPECT_FALSE(s->profile_views.has_value());
}

TEST(NormalizeStats, BusinessKeepsEveryMetric) {
  absl::StatusOr<DailyStats> s = Normalize(Business());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->is_business);
  EXPECT_EQ(s->impressions, 3759);
  EXPECT_EQ(s->reach, 1301);
  EXPECT_EQ(s->follower_count, 3);
  EXPECT_EQ(s->profile_views, 31);
  EXPECT_EQ(s->website_clicks, 1);
  EXPECT_EQ(s->email_contacts, 0);  // Present zero stays zero.
  EXPECT_EQ(s->website, "https://bit.ly/3bIJCO3");
}

TEST(NormalizeStats, InconsistentFilesNameTheProblem) {
  json stats = Basic();
  stats["id"] = "999";
  EXPECT_THAT(Normalize(stats).status().message(), HasSubstr("not the creator of this folder"));
  stats = Basic();
  stats["created_at"] = "2026-11-19";
  EXPECT_THAT(Normalize(stats).status().message(), HasSubstr("created_at"));
  stats = Basic();
  stats.erase("followers_count");
  EXPECT_EQ(Normalize(stats).status().message(), "followers_count: missing");
  stats = Basic();
  stats["followers_count"] = "many";
  EXPECT_THAT(Normalize(stats).status().message(), HasSubstr("expected an integer"));
  stats = Business();
  stats.erase("reach");
  EXPECT_THAT(Normalize(stats).status().message(), HasSubstr("business insights incomplete"));
  EXPECT_THAT(NormalizeStats("{\"id\":", "1", kDay, "k").status().message(),
              HasSubstr("not valid JSON"));
}

DailyStats Current(int64_t followers) {
  DailyStats s;
  s.creator_id = "1";
  s.day = kDay;
  s.followers_count = followers;
  return s;
}

TEST(NormalizeStats, BasicFileWithBusinessInsightsIsRefused) {
  // Accepted before, it failed the day's quality check for every shard.
  for (const char* field : {"profile_views", "follower_count", "website_clicks", "email_contacts",
                            "get_directions_clicks"}) {
    json stats = Basic();
    stats[field] = 4;
    const absl::Status status = Normalize(stats).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << field;
    EXPECT_THAT(status.message(), HasSubstr(field));
    EXPECT_THAT(status.message(), HasSubstr("basic connection"));
  }
}

TEST(NormalizeStats, FolderNameMustBeAnId) {
  const std::string long_id(40, '7');
  json stats = Basic();
  stats["id"] = long_id;
  EXPECT_THAT(NormalizeStats(stats.dump(), long_id, kDay, "k").status().message(),
              HasSubstr("not a creator id"));
}

TEST(DailyStatsValues, TextIsCleanedAndCutToTheColumns) {
  json stats = Basic();
  stats["biography"] = std::string(5000, 'b');
  absl::StatusOr<DailyStats> s = Normalize(stats);
  ASSERT_TRUE(s.ok()) << s.status();
  s->name = std::string("nul\0here\xff", 9);
  const std::vector<SqlValue> values = DailyStatsValues(*s, "2026-11-21T00:00:00Z");
  EXPECT_EQ(values[4]->size(), column_bytes::kBiography);
  EXPECT_EQ(*values[3], "nulhere\xef\xbf\xbd");
}

TEST(BuildFact, SeriesIsOrderedOnePointADayWithinNinetyDays) {
  const DailyStats today = Current(200);
  std::vector<SeriesPoint> history = {{kDay - 1, 190, 5, 4},
                                      {kDay - 3, 170, std::nullopt, std::nullopt},
                                      {kDay - 1, 195, 6, 5},  // Reloaded day: last wins.
                                      {kDay - 90, 1, 1, 1},   // Outside the 90 days.
                                      {kDay, 1, 1, 1}};       // Today's file wins.
  const Fact fact = BuildFact(today, history, nullptr, std::nullopt, "");
  const json daily = json::parse(fact.daily_json);
  ASSERT_EQ(daily.size(), 3u);
  EXPECT_EQ(daily[0], json::parse(R"({"date":"2026-11-17","followers":170})"));
  EXPECT_EQ(daily[1],
            json::parse(R"({"date":"2026-11-19","followers":195,"impressions":6,"reach":5})"));
  EXPECT_EQ(daily[2], json::parse(R"({"date":"2026-11-20","followers":200})"));
}

TEST(BuildFact, AveragesRatesAndGrowth) {
  const DailyStats today = Current(1000);
  PostAggregate posts{
      .posts = 5, .feed_posts = 4, .likes = 300, .comments = 100, .followers_avg = 950.5};
  const Fact fact = BuildFact(
      today, {{kDay - 40, 100, {}, {}}, {kDay - 30, 800, {}, {}}, {kDay - 10, 900, {}, {}}}, &posts,
      R"({"colors":[]})", "file:///m/1/p.jpg");
  EXPECT_EQ(fact.doc_count, 5);
  EXPECT_DOUBLE_EQ(*fact.eng_avg, 100.0);  // (300 + 100) / 4 feed posts.
  EXPECT_DOUBLE_EQ(*fact.engagement_rate, 0.1);
  EXPECT_DOUBLE_EQ(*fact.fol_avg, 950.5);
  EXPECT_DOUBLE_EQ(*fact.follower_growth_30d, 0.25);  // 800 -> 1000, not the day-40 point.
  EXPECT_EQ(fact.palette_json, R"({"colors":[]})");
  EXPECT_EQ(fact.profile_picture_url, "file:///m/1/p.jpg");
}

TEST(BuildFact, NoPostsNoAveragesButZeroDocCount) {
  const Fact fact = BuildFact(Current(10), {}, nullptr, std::nullopt, "");
  EXPECT_EQ(fact.doc_count, 0);
  EXPECT_FALSE(fact.eng_avg.has_value());
  EXPECT_FALSE(fact.fol_avg.has_value());
  EXPECT_FALSE(fact.engagement_rate.has_value());
  EXPECT_FALSE(fact.follower_growth_30d.has_value());
}

TEST(FactValues, KeepFullDoublePrecisionAndNulls) {
  Fact fact = BuildFact(Current(3), {}, nullptr, std::nullopt, "");
  fact.eng_avg = 123456.789012345;
  const std::vector<SqlValue> values = FactValues(fact);
  EXPECT_EQ(values[14], "123456.789012345");
  EXPECT_EQ(values[13], std::nullopt);  // fol_avg absent -> NULL.
}

TEST(AppendCopyRow, EscapesTabsNewlinesBackslashesAndNulls) {
  std::string out;
  AppendCopyRow({"a\tb", "c\nd\\e", std::nullopt, ""}, out);
  EXPECT_EQ(out, "a\\tb\tc\\nd\\\\e\t\\N\t\n");
}

}  // namespace
}  // namespace scout::aggregate
