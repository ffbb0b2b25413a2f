// The creator_content contract (common/backends/creator_content.h) and the
// profile_facts columns of issue 11: values cleaned and cut to the column
// sizes, JSON codecs that never throw, and a round trip of both rows through
// the migrated tables of a real PostgreSQL (SCOUT_PG_DSN; a database of its
// own per test, dropped afterwards).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/backends/creator_content.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/text.h"
#include "tests/pg_fixture.h"

namespace scout {
namespace {

v1::TagCount Tag(std::string tag, int64_t count) {
  v1::TagCount t;
  t.set_tag(std::move(tag));
  t.set_count(count);
  return t;
}
v1::TopicShare Topic(std::string slug, double share) {
  v1::TopicShare t;
  t.set_slug(std::move(slug));
  t.set_share(share);
  return t;
}

TEST(TopicsJson, RoundTripsAndRejectsWithoutThrowing) {
  const std::string text = TopicsJson({Topic("food", 0.5), Topic("travel", 0.25)});
  EXPECT_EQ(text, R"([{"share":0.5,"slug":"food"},{"share":0.25,"slug":"travel"}])");
  const absl::StatusOr<std::vector<v1::TopicShare>> back = ParseTopicsJson(text);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].slug(), "travel");
  EXPECT_EQ((*back)[1].share(), 0.25);
  EXPECT_EQ(TopicsJson({}), "[]");
  for (const char* bad : {"", "{", "{}", "[1]", R"([{"slug":"food"}])",
                          R"([{"slug":5,"share":0.1}])", R"([{"slug":"food","share":"x"}])"}) {
    EXPECT_TRUE(absl::IsDataLoss(ParseTopicsJson(bad).status())) << bad;
  }
}

TEST(CreatorContentValues, CleanAndCutHostileText) {
  CreatorContentRow row;
  row.creator_id = std::string(40, '7');
  row.as_of = absl::CivilDay(2026, 11, 20);
  row.posts_90d = 4;
  for (int i = 0; i < 80; ++i) {
    // Control characters escape to six bytes each: the JSON must still fit.
    row.hashtags.push_back(Tag(std::string(2000, '\x01') + "\xff", 80 - i));
  }
  row.mentions = {Tag(std::string("a\0b", 3), 2)};
  for (int i = 0; i < 30; ++i) row.captions.push_back(std::string(1000, 'c') + "\xc3");
  const std::vector<SqlValue> values = CreatorContentValues(row);
  ASSERT_EQ(values.size(), 7u);  // The columns of kCreatorContentColumns.
  EXPECT_EQ(values[0]->size(), column_bytes::kCreatorId);
  EXPECT_EQ(values[1], "2026-11-20");
  EXPECT_EQ(values[2], "4");
  for (size_t i = 3; i < 6; ++i) {
    ASSERT_TRUE(values[i].has_value());
    EXPECT_LE(values[i]->size(), column_bytes::kContentJson) << i;
    EXPECT_TRUE(IsValidUtf8(*values[i])) << i;
  }
  EXPECT_EQ(*values[4], R"([{"count":2,"tag":"ab"}])");  // NUL dropped.
  // The caption sample keeps its byte budget, newest first.
  CreatorContentRow back_row;
  SqlRows rows;
  const std::vector<std::string> columns = absl::StrSplit(kCreatorContentColumns, ", ");
  rows.columns = columns;
  rows.rows.push_back(values);
  const absl::StatusOr<CreatorContentRow> back = ReadCreatorContent(rows, 0);
  ASSERT_TRUE(back.ok()) << back.status();
  size_t bytes = 0;
  for (const std::string& caption : back->captions) bytes += caption.size();
  EXPECT_LE(bytes, static_cast<size_t>(kMaxSampleCaptionBytes));
  EXPECT_LE(back->captions.size(), static_cast<size_t>(kMaxSampleCaptions));
  EXPECT_EQ(back->captions[0], std::string(1000, 'c') + "\xef\xbf\xbd");
  EXPECT_FALSE(back->hashtags.empty());
  EXPECT_LE(back->hashtags.size(), static_cast<size_t>(kMaxContentTags));
  EXPECT_EQ(back->hashtags[0].count(), 80);
}

TEST(ReadCreatorContent, MissingColumnIsInternalBadJsonIsDataLoss) {
  SqlRows rows;
  rows.columns = {"creator_id",    "as_of",         "posts_90d",
                  "hashtags_json", "mentions_json", "captions_json"};
  rows.rows.push_back({"1", "2026-11-20", "3", "[]", "[]", "[]"});
  EXPECT_TRUE(absl::IsInternal(ReadCreatorContent(rows, 0).status()));
  rows.columns.push_back("topics_json");
  rows.rows[0].push_back("[]");
  EXPECT_TRUE(ReadCreatorContent(rows, 0).ok());
  for (const char* bad : {"{", R"([{"tag":"x"}])", R"([{"tag":"x","count":-1}])", "[1]"}) {
    rows.rows[0][3] = bad;
    const absl::Status status = ReadCreatorContent(rows, 0).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << bad << " " << status;
    EXPECT_THAT(status.message(), ::testing::HasSubstr("hashtags_json")) << bad;
  }
  rows.rows[0][3] = "[]";
  rows.rows[0][5] = "[1]";
  EXPECT_TRUE(absl::IsDataLoss(ReadCreatorContent(rows, 0).status()));
}

class CreatorContentDbTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(Migrate(*warehouse_).ok());
  }
};

TEST_F(CreatorContentDbTest, ProfileFactsNewColumnsRoundTrip) {
  ProfileFactsRow row;
  row.creator_id = "17841400000000001";
  row.as_of = absl::CivilDay(2026, 11, 20);
  row.followers_count = 1000;
  row.last_post_at = absl::FromUnixSeconds(1763600000);
  row.avg_reach = 123.456789012345;
  row.topics = {Topic("food", 0.5), Topic("travel", 1.0 / 3)};
  ProfileFactsRow basic;  // No posts: every new column absent (NULL).
  basic.creator_id = "17841400000000002";
  basic.as_of = row.as_of;
  std::string copy;
  AppendCopyRow(ProfileFactsValues(row), copy);
  AppendCopyRow(ProfileFactsValues(basic), copy);
  ASSERT_TRUE(warehouse_->Exec("BEGIN").ok());
  ASSERT_TRUE(warehouse_
                  ->CopyIn(absl::StrCat("COPY profile_facts (", kProfileFactsColumns, ", ",
                                        kProfileFactsLoadColumns, ") FROM STDIN"),
                           [&] {
                             std::string rows;
                             for (const ProfileFactsRow* r : {&row, &basic}) {
                               std::vector<SqlValue> values = ProfileFactsValues(*r);
                               values.push_back("1");
                               values.push_back("2026-11-21T02:00:00Z");
                               AppendCopyRow(values, rows);
                             }
                             return rows;
                           }())
                  .ok());
  ASSERT_TRUE(warehouse_->Exec("COMMIT").ok());
  const absl::StatusOr<SqlRows> rows =
      warehouse_->Query(absl::StrCat(SelectProfileFacts(), " ORDER BY creator_id"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  const absl::StatusOr<ProfileFactsRow> back = ReadProfileFacts(*rows, 0);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->last_post_at, row.last_post_at);
  EXPECT_EQ(back->avg_reach, row.avg_reach);  // Exactly: shortest round-trip text.
  EXPECT_EQ(back->avg_impressions, std::nullopt);
  ASSERT_EQ(back->topics.size(), 2u);
  EXPECT_EQ(back->topics[1].slug(), "travel");
  EXPECT_EQ(back->topics[1].share(), 1.0 / 3);
  const absl::StatusOr<ProfileFactsRow> none = ReadProfileFacts(*rows, 1);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->last_post_at, std::nullopt);
  EXPECT_EQ(none->avg_reach, std::nullopt);
  EXPECT_TRUE(none->topics.empty());
  const absl::StatusOr<SqlRows> raw = warehouse_->Query(
      "SELECT topics_json FROM profile_facts WHERE creator_id = $1", {basic.creator_id});
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->rows[0][0], std::nullopt);  // Absent, not "[]".
}

TEST_F(CreatorContentDbTest, CreatorContentRoundTrips) {
  CreatorContentRow row;
  row.creator_id = "17841400000000001";
  row.as_of = absl::CivilDay(2026, 11, 20);
  row.posts_90d = 12;
  row.hashtags = {Tag("Café", 5), Tag("travel\t\"tab\"", 2)};
  row.mentions = {Tag("someone", 1)};
  row.captions = {"newest\nline two \\ back", "older \xf0\x9f\x8d\x95"};
  row.topics = {Topic("food", 0.75)};
  std::string copy;
  std::vector<SqlValue> values = CreatorContentValues(row);
  values.push_back("3");
  values.push_back("2026-11-21T02:00:00Z");
  AppendCopyRow(values, copy);
  ASSERT_TRUE(warehouse_
                  ->CopyIn(absl::StrCat("COPY creator_content (", kCreatorContentColumns, ", ",
                                        kCreatorContentLoadColumns, ") FROM STDIN"),
                           copy)
                  .ok());
  const absl::StatusOr<SqlRows> rows = warehouse_->Query(SelectCreatorContent());
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 1u);
  const absl::StatusOr<CreatorContentRow> back = ReadCreatorContent(*rows, 0);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->creator_id, row.creator_id);
  EXPECT_EQ(back->as_of, row.as_of);
  EXPECT_EQ(back->posts_90d, 12);
  ASSERT_EQ(back->hashtags.size(), 2u);
  EXPECT_EQ(back->hashtags[0].tag(), "Café");
  EXPECT_EQ(back->hashtags[0].count(), 5);
  EXPECT_EQ(back->hashtags[1].tag(), "travel\t\"tab\"");
  ASSERT_EQ(back->mentions.size(), 1u);
  EXPECT_EQ(back->mentions[0].tag(), "someone");
  EXPECT_EQ(back->captions, row.captions);
  ASSERT_EQ(back->topics.size(), 1u);
  EXPECT_EQ(back->topics[0].slug(), "food");
  EXPECT_EQ(back->topics[0].share(), 0.75);
}

}  // namespace
}  // namespace scout
