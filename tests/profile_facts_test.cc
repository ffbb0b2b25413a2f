// The profile_facts contract (common/backends/profile_facts.h) and the warehouse text
// helpers, without a database: rows read by column name, the JSON codecs
// never throw, text cleaned and cut to the column sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/format.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/text.h"

namespace scout {
namespace {

// A SqlRows as libpq would return `columns` (here in a scrambled order).
SqlRows Rows(std::vector<std::pair<std::string, SqlValue>> columns) {
  SqlRows rows;
  rows.rows.emplace_back();
  for (auto& [name, value] : columns) {
    rows.columns.push_back(name);
    rows.rows[0].push_back(value);
  }
  return rows;
}

std::vector<std::pair<std::string, SqlValue>> GoodRow() {
  return {{"topics_json", R"([{"slug":"food","share":0.5}])"},
          {"avg_impressions", std::nullopt},
          {"avg_reach", "10.5"},
          {"last_post_at", "2026-11-20 13:14:15"},
          {"updated_at", "2026-11-21 02:00:00"},
          {"load_version", "7"},
          {"palette_json", std::nullopt},
          {"follower_growth_30d", std::nullopt},
          {"engagement_rate", "0.5"},
          {"eng_avg", "12.25"},
          {"fol_avg", std::nullopt},
          {"doc_count", "3"},
          {"daily_json", R"([{"date":"2026-11-20","followers":10,"reach":4}])"},
          {"is_business", "t"},
          {"media_count", std::nullopt},
          {"follows_count", "12"},
          {"followers_count", "10"},
          {"profile_picture_url", "file:///p.jpg"},
          {"website", std::nullopt},
          {"biography", "bio"},
          {"name", "Name"},
          {"username", "user"},
          {"as_of", "2026-11-20"},
          {"creator_id", "17841400000000001"}};
}

TEST(ReadProfileFacts, ReadsColumnsByNameNotPosition) {
  const absl::StatusOr<ProfileFactsRow> row = ReadProfileFacts(Rows(GoodRow()), 0);
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->creator_id, "17841400000000001");
  EXPECT_EQ(row->as_of, absl::CivilDay(2026, 11, 20));
  EXPECT_EQ(row->username, "user");
  EXPECT_EQ(row->followers_count, 10);
  EXPECT_EQ(row->follows_count, 12);
  EXPECT_EQ(row->media_count, std::nullopt);  // NULL is unknown, not 0.
  EXPECT_TRUE(row->is_business);
  EXPECT_EQ(row->doc_count, 3);
  EXPECT_EQ(row->eng_avg, 12.25);
  EXPECT_EQ(row->fol_avg, std::nullopt);
  EXPECT_EQ(row->load_version, 7);
  EXPECT_EQ(row->palette_json, std::nullopt);
  ASSERT_TRUE(row->updated_at.has_value());
  EXPECT_EQ(row->last_post_at,
            absl::FromCivil(absl::CivilSecond(2026, 11, 20, 13, 14, 15), absl::UTCTimeZone()));
  EXPECT_EQ(row->avg_reach, 10.5);
  EXPECT_EQ(row->avg_impressions, std::nullopt);
  ASSERT_EQ(row->topics.size(), 1u);
  EXPECT_EQ(row->topics[0].slug(), "food");
}

TEST(ReadProfileFacts, MissingColumnIsInternalBadValueIsDataLoss) {
  auto columns = GoodRow();
  columns.pop_back();  // No creator_id.
  EXPECT_TRUE(absl::IsInternal(ReadProfileFacts(Rows(columns), 0).status()));
  columns = GoodRow();
  columns[11].second = "three";  // doc_count.
  const absl::Status bad = ReadProfileFacts(Rows(columns), 0).status();
  EXPECT_TRUE(absl::IsDataLoss(bad)) << bad;
  EXPECT_THAT(bad.message(), ::testing::HasSubstr("doc_count"));
  columns = GoodRow();
  columns[0].second = "[{";  // topics_json.
  const absl::Status topics = ReadProfileFacts(Rows(columns), 0).status();
  EXPECT_TRUE(absl::IsDataLoss(topics)) << topics;
  EXPECT_THAT(topics.message(), ::testing::HasSubstr("topics_json"));
}

TEST(ProfileFactsValues, FollowTheColumnListAndKeepUnknownCountsNull) {
  ProfileFactsRow row;
  row.creator_id = "1";
  row.as_of = absl::CivilDay(2026, 11, 20);
  row.follows_count = 5;
  const std::vector<SqlValue> values = ProfileFactsValues(row);
  ASSERT_EQ(values.size(), 22u);  // The columns of kProfileFactsColumns.
  EXPECT_EQ(values[1], "2026-11-20");
  EXPECT_EQ(values[8], "5");
  EXPECT_EQ(values[9], std::nullopt);
}

TEST(ProfileFactsValues, CleanAndCutTextToTheColumnSizes) {
  ProfileFactsRow row;
  row.creator_id = "1";
  row.biography = std::string(5000, 'b') + "\xff";
  row.name = std::string("a\0b\xff", 4);
  row.username = std::string(255, 'u') + "\xc3\xa9";  // "é" would straddle byte 256.
  const std::vector<SqlValue> values = ProfileFactsValues(row);
  EXPECT_EQ(values[4]->size(), column_bytes::kBiography);
  EXPECT_EQ(*values[3], "ab\xef\xbf\xbd");  // NUL dropped, bad byte -> U+FFFD.
  EXPECT_EQ(*values[2], std::string(255, 'u'));
  for (const SqlValue& value : values) {
    if (value) {
      EXPECT_TRUE(IsValidUtf8(*value));
    }
  }
}

TEST(DailyJson, RoundTripsAndRejectsWithoutThrowing) {
  const std::vector<DailyPoint> points = {{absl::CivilDay(2026, 11, 19), 5, 7, 6},
                                          {absl::CivilDay(2026, 11, 20), 6, {}, {}}};
  const std::string text = DailyJson(points);
  EXPECT_EQ(text, R"([{"date":"2026-11-19","followers":5,"impressions":7,"reach":6},)"
                  R"({"date":"2026-11-20","followers":6}])");
  const absl::StatusOr<std::vector<DailyPoint>> back = ParseDailyJson(text);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].impressions, 7);
  EXPECT_EQ((*back)[1].reach, std::nullopt);
  for (const char* bad : {"{", "{}", "[1]", R"([{"date":"x","followers":1}])",
                          R"([{"date":"2026-11-20","followers":"many"}])"}) {
    EXPECT_TRUE(absl::IsDataLoss(ParseDailyJson(bad).status())) << bad;
  }
}

// ParseDailyJson reads DailyJson's own text on a fast path and any other
// text with the JSON parser: both must read every text the same way.
TEST(DailyJson, EveryWayOfWritingAPointReadsTheSame) {
  const auto one = [](absl::string_view text) -> std::optional<DailyPoint> {
    const absl::StatusOr<std::vector<DailyPoint>> points = ParseDailyJson(text);
    if (!points.ok() || points->size() != 1) return std::nullopt;
    return (*points)[0];
  };
  const absl::CivilDay day(2026, 11, 19);
  for (const char* text : {R"([{"date":"2026-11-19","followers":5,"impressions":7,"reach":6}])",
                           R"([ {"date": "2026-11-19", "followers": 5, "impressions": 7,
                                 "reach": 6} ] )",
                           R"([{"reach":6,"impressions":7,"followers":5,"date":"2026-11-19"}])",
                           R"([{"date":"2026-11-19","followers":5,"impressions":7,"reach":6,
                                "other":1}])"}) {
    SCOPED_TRACE(text);
    const std::optional<DailyPoint> point = one(text);
    ASSERT_TRUE(point.has_value());
    EXPECT_EQ(point->day, day);
    EXPECT_EQ(point->followers, 5);
    EXPECT_EQ(point->impressions, 7);
    EXPECT_EQ(point->reach, 6);
  }
  // Numbers at the edges of the fast path.
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":-0}])")->followers, 0);
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":-12}])")->followers, -12);
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":999999999999999999}])")->followers,
            999999999999999999);
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":9223372036854775807}])")->followers,
            9223372036854775807);
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":1,"reach":1.5}])")->reach, std::nullopt);
  EXPECT_EQ(one(R"([{"date":"2026-11-19","followers":1,"reach":1e3}])")->reach, std::nullopt);
  EXPECT_EQ(one(R"([{"date":"0001-01-01","followers":1}])")->day, absl::CivilDay(1, 1, 1));
  EXPECT_EQ(ParseDailyJson("[]")->size(), 0u);
  for (const char* bad :
       {R"([{"date":"2026-11-19","followers":5.0}])", R"([{"date":"2026-11-19","followers":05}])",
        R"([{"date":"2026-11-19","followers":1}]x)", R"([{"date":"2026-11-19","followers":1},])",
        R"([{"date":"2026-13-19","followers":1}])", R"([{"date":"2026-11-19","followers":1})",
        "[]]"}) {
    EXPECT_TRUE(absl::IsDataLoss(ParseDailyJson(bad).status())) << bad;
  }
}

TEST(PaletteJson, RoundTripsAndRejectsWithoutThrowing) {
  const absl::StatusOr<std::string> text =
      PaletteJson(R"([{"percentage":1.0,"red":1,"green":2,"blue":3,"hex":"#010203"}])",
                  absl::FromUnixSeconds(1700000000), 2, 300);
  ASSERT_TRUE(text.ok());
  const absl::StatusOr<v1::Palette> palette = ParsePaletteJson(*text, "9");
  ASSERT_TRUE(palette.ok()) << palette.status();
  EXPECT_EQ(palette->user_id(), "9");
  ASSERT_EQ(palette->colors_size(), 1);
  EXPECT_EQ(palette->colors(0).hex(), "#010203");
  EXPECT_EQ(palette->colors(0).blue(), 3);
  EXPECT_EQ(palette->image_count(), 2);
  EXPECT_EQ(palette->pixel_count(), 300);
  EXPECT_EQ(palette->computed_at().seconds(), 1700000000);
  EXPECT_FALSE(PaletteJson("{}", absl::UnixEpoch(), 0, 0).ok());
  // Wrong types where nlohmann's value() would throw.
  EXPECT_FALSE(ParsePaletteJson(R"({"colors":[1]})", "9").ok());
  const absl::StatusOr<v1::Palette> odd =
      ParsePaletteJson(R"({"colors":[{"red":"x","hex":5}],"image_count":"y"})", "9");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->colors(0).red(), 0);
}

TEST(SqlRows, ColumnIndexFindsColumnsByName) {
  const SqlRows rows = Rows({{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(rows.ColumnIndex("b"), 1u);
  EXPECT_EQ(rows.ColumnIndex("c"), std::nullopt);
}

TEST(FormatProfile, LeavesUnknownCountsOut) {
  v1::UserProfile profile;
  profile.set_followers_count(10);
  profile.set_media_count(0);  // Known zero: shown.
  const std::string text = client::FormatProfile(profile);
  EXPECT_THAT(text, ::testing::HasSubstr("10 followers · 0 posts · facts as of"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("following")));
}

}  // namespace
}  // namespace scout
