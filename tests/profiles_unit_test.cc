// The server's compact profile facts (server/profiles.h), without a
// database: the daily series round-trips exactly (gaps, repeats, absent
// business metrics, extreme values), and a packed creator gives back the
// very UserProfile and Palette it was made from.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "scout/v1/service.pb.h"
#include "server/arena_messages.h"
#include "server/profiles.h"

namespace scout::server {
namespace {

using ::testing::HasSubstr;

std::vector<DailyPoint> RoundTrip(const std::vector<DailyPoint>& points) {
  std::string bytes;
  EXPECT_TRUE(EncodeSeries(points, bytes).ok());
  absl::StatusOr<std::vector<DailyPoint>> decoded = DecodeSeries(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : std::vector<DailyPoint>{};
}

void ExpectSame(const std::vector<DailyPoint>& got, const std::vector<DailyPoint>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].day, want[i].day);
    EXPECT_EQ(got[i].followers, want[i].followers);
    EXPECT_EQ(got[i].impressions, want[i].impressions);
    EXPECT_EQ(got[i].reach, want[i].reach);
  }
}

// 90 days ending 2026-11-21, like scout-aggregate writes them.
std::vector<DailyPoint> NinetyDays(bool business) {
  std::vector<DailyPoint> points;
  const absl::CivilDay last(2026, 11, 21);
  int64_t followers = 8000;
  for (int back = 89; back >= 0; --back) {
    DailyPoint& p = points.emplace_back();
    p.day = last - back;
    followers += (back * 7919) % 41 - 17;  // Up and down.
    p.followers = followers;
    if (business) {
      p.reach = followers / 10 + (back * 31) % 900;
      p.impressions = *p.reach * 3 / 2;
    }
  }
  return points;
}

TEST(CompactSeries, DenseSeriesRoundTripAndAreSmall) {
  for (const bool business : {false, true}) {
    SCOPED_TRACE(business);
    const std::vector<DailyPoint> points = NinetyDays(business);
    ExpectSame(RoundTrip(points), points);
    std::string bytes;
    ASSERT_TRUE(EncodeSeries(points, bytes).ok());
    // Dates implied, small deltas: about a byte per value (28 bytes a day before).
    EXPECT_LE(bytes.size(), business ? 90u * 6 : 90u * 2) << bytes.size();
  }
}

TEST(CompactSeries, GapsRepeatsAndAbsentMetricsRoundTrip) {
  std::vector<DailyPoint> points = NinetyDays(true);
  points.erase(points.begin() + 10, points.begin() + 13);  // A gap of 3 days.
  points[20].impressions.reset();                          // Reach only.
  points[21].reach.reset();                                // Impressions only.
  points[22].impressions.reset();                          // Neither.
  points[22].reach.reset();
  points[30].impressions = 0;                      // Present as 0: not the same as absent.
  points[31].reach = -1;                           // Present and negative (the old sentinel).
  points.insert(points.begin() + 40, points[40]);  // The same date twice.
  std::swap(points[50], points[51]);               // Out of order.
  ExpectSame(RoundTrip(points), points);

  // A creator that became a business account half-way.
  std::vector<DailyPoint> switched = NinetyDays(false);
  for (size_t i = 45; i < switched.size(); ++i) switched[i].reach = 100 + i;
  ExpectSame(RoundTrip(switched), switched);
}

TEST(CompactSeries, ExtremesRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<DailyPoint> points = {
      {absl::CivilDay(1970, 1, 1), kMax, kMin, kMax},
      {absl::CivilDay(1970, 1, 2), kMin, kMax, kMin},
      {absl::CivilDay(1900, 1, 1), 0, std::nullopt, 0},
      {absl::CivilDay(9999, 12, 31), -5, -5, std::nullopt},
  };
  ExpectSame(RoundTrip(points), points);
  ExpectSame(RoundTrip({}), {});
  ExpectSame(RoundTrip({points[3]}), {points[3]});
}

TEST(CompactSeries, OutOfRangeDateAndForeignBytesAreErrors) {
  std::string bytes;
  const absl::Status far =
      EncodeSeries({{absl::CivilDay(1970, 1, 1) + (int64_t{1} << 32), 1, {}, {}}}, bytes);
  EXPECT_EQ(far.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(far.message(), HasSubstr("out of range"));

  bytes.clear();
  ASSERT_TRUE(EncodeSeries(NinetyDays(true), bytes).ok());
  EXPECT_EQ(DecodeSeries(bytes.substr(0, bytes.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSeries(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
}

// The answer as the server built it before the compact layout: the base
// fields, then `daily` point by point, then the palette.
v1::UserProfile Reference(const v1::UserProfile& base, const std::vector<DailyPoint>& daily,
                          const v1::Palette* palette) {
  v1::UserProfile profile = base;
  for (const DailyPoint& point : daily) {
    v1::DailyStat* stat = profile.add_daily();
    stat->set_date(absl::FormatCivilTime(point.day));
    stat->set_followers(point.followers);
    if (point.impressions) stat->set_impressions(*point.impressions);
    if (point.reach) stat->set_reach(*point.reach);
  }
  if (palette != nullptr) *profile.mutable_palette() = *palette;
  return profile;
}

v1::UserProfile Base() {
  v1::UserProfile p;
  p.set_id("17841400000012345");
  p.set_as_of("2026-11-21");
  p.set_username("ana.cooks");
  p.set_name("Ana — Kochen & Reisen 🍲");
  p.set_biography(std::string(300, 'b'));
  p.set_website("https://example.com/ana");
  p.set_profile_picture_url("media/profile_pictures/17841400000012345.jpg");
  p.set_followers_count(123456);
  p.set_follows_count(0);  // Known 0, not absent.
  p.set_is_business(true);
  p.set_doc_count(12);
  p.set_posts_30d(12);
  p.set_eng_avg(1234.5);
  p.set_engagement_rate(0.01);
  p.set_follower_growth_30d(-0.02);
  p.set_load_version(7);
  p.mutable_updated_at()->set_seconds(1795000000);
  p.mutable_updated_at()->set_nanos(123000);
  p.mutable_last_post_at()->set_seconds(1794990000);
  p.set_avg_reach(0.5);
  p.set_tier(v1::CREATOR_TIER_MID);
  p.set_engagement_percentile(37);
  v1::TopicShare* topic = p.add_topics();
  topic->set_slug("food");
  topic->set_share(0.625);
  return p;
}

v1::Palette SomePalette(const std::string& user_id) {
  v1::Palette palette;
  palette.set_user_id(user_id);
  for (int i = 0; i < 6; ++i) {
    v1::Color* c = palette.add_colors();
    c->set_percentage(0.1 + i / 60.0);
    c->set_red(10 * i);
    c->set_green(255 - i);
    c->set_blue(i);
    c->set_hex(i == 0 ? "#E8D5C4" : "#0aff05");  // As stored, case included.
  }
  palette.mutable_computed_at()->set_seconds(1794900000);
  palette.set_image_count(25);
  palette.set_pixel_count(25 * 4096);
  return palette;
}

TEST(ProfileFacts, ToProtoGivesBackTheProfileItWasMadeFrom) {
  ByteArena arena;
  const v1::UserProfile base = Base();
  const v1::Palette palette = SomePalette(base.id());
  std::vector<DailyPoint> daily = NinetyDays(true);
  daily[5].reach.reset();
  daily.erase(daily.begin() + 60);

  absl::StatusOr<ProfileFacts> facts = ProfileFacts::Pack(base, daily, &palette, arena);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->id(), base.id());
  const v1::UserProfile want = Reference(base, daily, &palette);
  const v1::UserProfile got = facts->ToProto();
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(want, got)) << difference;
  EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString());
  EXPECT_TRUE(got.has_follows_count());
  // The same into a response on the server's arena, over what it held.
  ArenaMessages<v1::GetUserProfileRequest, v1::UserProfile> messages;
  grpc::MessageHolder<v1::GetUserProfileRequest, v1::UserProfile>* holder =
      messages.AllocateMessages();
  holder->response()->set_recent_posts_error("left from before");
  holder->response()->add_daily()->set_date("1999-01-01");
  facts->ToProto(*holder->response());
  EXPECT_NE(holder->response()->GetArena(), nullptr);
  EXPECT_EQ(holder->response()->SerializeAsString(), want.SerializeAsString());
  holder->Release();
  EXPECT_FALSE(got.has_media_count());  // Unknown stays absent.

  ASSERT_TRUE(facts->has_palette());
  const std::optional<v1::Palette> got_palette = facts->palette();
  ASSERT_TRUE(got_palette.has_value());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*got_palette, palette));
  EXPECT_LT(arena.bytes_used(), want.ByteSizeLong() + 64);  // Compact: about its wire size.
}

// Dates are formatted without absl's formatter where they have 4 digits.
TEST(ProfileFacts, DatesReadAsAbslWritesThem) {
  ByteArena arena;
  v1::UserProfile base;
  base.set_id("2");
  std::vector<DailyPoint> daily;
  for (const absl::CivilDay day :
       {absl::CivilDay(-1, 1, 1), absl::CivilDay(0, 1, 1), absl::CivilDay(7, 8, 9),
        absl::CivilDay(999, 12, 31), absl::CivilDay(1000, 1, 1), absl::CivilDay(1969, 12, 31),
        absl::CivilDay(2024, 2, 29), absl::CivilDay(2026, 10, 1), absl::CivilDay(9999, 12, 31),
        absl::CivilDay(10000, 1, 1), absl::CivilDay(123456, 7, 8)}) {
    daily.push_back({day, 1, {}, {}});
  }
  absl::StatusOr<ProfileFacts> facts = ProfileFacts::Pack(base, daily, nullptr, arena);
  ASSERT_TRUE(facts.ok()) << facts.status();
  const v1::UserProfile got = facts->ToProto();
  ASSERT_EQ(got.daily_size(), static_cast<int>(daily.size()));
  for (size_t i = 0; i < daily.size(); ++i) {
    EXPECT_EQ(got.daily(static_cast<int>(i)).date(), absl::FormatCivilTime(daily[i].day));
  }
  EXPECT_EQ(got.daily(7).date(), "2026-10-01");
}

TEST(ProfileFacts, WithoutPaletteOrSeries) {
  ByteArena arena;
  v1::UserProfile base;
  base.set_id("1");
  absl::StatusOr<ProfileFacts> facts = ProfileFacts::Pack(base, {}, nullptr, arena);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_FALSE(facts->has_palette());
  EXPECT_FALSE(facts->palette().has_value());
  const v1::UserProfile got = facts->ToProto();
  EXPECT_FALSE(got.has_palette());
  EXPECT_EQ(got.daily_size(), 0);
  EXPECT_EQ(got.id(), "1");

  // An empty palette is still a palette (GetPalette answers it, not NOT_FOUND).
  v1::Palette empty;
  empty.set_user_id("1");
  facts = ProfileFacts::Pack(base, {}, &empty, arena);
  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_TRUE(facts->palette().has_value());
  EXPECT_EQ(facts->palette()->user_id(), "1");
  EXPECT_TRUE(facts->ToProto().has_palette());
}

TEST(ByteArena, KeepsEveryAllocation) {
  ByteArena arena;
  std::vector<char*> blocks;
  for (int i = 0; i < 1000; ++i) {
    char* bytes = arena.Allocate(100);
    std::fill(bytes, bytes + 100, static_cast<char>(i));
    blocks.push_back(bytes);
  }
  char* big = arena.Allocate(size_t{80} << 20);  // Larger than a block.
  big[0] = 1;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(blocks[i][99], static_cast<char>(i));
  EXPECT_EQ(arena.bytes_used(), 1000 * 100 + (size_t{80} << 20));
}

}  // namespace
}  // namespace scout::server
