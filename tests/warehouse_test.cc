// Warehouse against the real PostgreSQL (SCOUT_PG_DSN): status codes chosen
// by SQLSTATE, and the column sizes of warehouse.h against the migrated
// schema. A database of its own per test, dropped afterwards (pg_fixture.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/backends/warehouse.h"
#include "tests/pg_fixture.h"

namespace scout {
namespace {

using WarehouseTest = testing::PgTest;

absl::Status Raise(Warehouse& w, const char* sqlstate) {
  return w.Exec(absl::StrCat("DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '", sqlstate,
                             "'; END $$"));
}

TEST_F(WarehouseTest, SerializationFailuresAndDeadlocksAreAborted) {
  EXPECT_TRUE(absl::IsAborted(Raise(*warehouse_, "40001")));
  EXPECT_TRUE(absl::IsAborted(Raise(*warehouse_, "40P01")));
  EXPECT_TRUE(absl::IsInternal(Raise(*warehouse_, "23505")));
  EXPECT_TRUE(absl::IsInternal(warehouse_->Exec("SELECT * FROM no_such_table")));
  EXPECT_TRUE(absl::IsInternal(warehouse_->Query("SELECT CAST($1 AS INTEGER)", {"x"}).status()));
}

TEST_F(WarehouseTest, ColumnSizesMatchTheMigrations) {
  ASSERT_TRUE(Migrate(*warehouse_).ok());
  namespace b = column_bytes;
  const std::vector<std::tuple<const char*, const char*, size_t>> columns = {
      {"creator_daily_stats", "creator_id", b::kCreatorId},
      {"creator_daily_stats", "username", b::kUsername},
      {"creator_daily_stats", "name", b::kName},
      {"creator_daily_stats", "biography", b::kBiography},
      {"creator_daily_stats", "website", b::kWebsite},
      {"creator_daily_stats", "profile_picture_source", b::kPictureUrl},
      {"creator_daily_stats", "source_key", b::kSourceKey},
      {"stats_quarantine", "source_key", b::kSourceKey},
      {"stats_quarantine", "reason", b::kQuarantineReason},
      {"creator_palette", "creator_id", b::kCreatorId},
      {"creator_palette", "colors_json", b::kPaletteJson},
      {"profile_facts", "creator_id", b::kCreatorId},
      {"profile_facts", "username", b::kUsername},
      {"profile_facts", "name", b::kName},
      {"profile_facts", "biography", b::kBiography},
      {"profile_facts", "website", b::kWebsite},
      {"profile_facts", "profile_picture_url", b::kPictureUrl},
      {"profile_facts", "daily_json", b::kDailyJson},
      {"profile_facts", "palette_json", b::kPaletteJson},
      {"profile_facts", "topics_json", b::kTopicsJson},
      {"creator_content", "creator_id", b::kCreatorId},
      {"creator_content", "hashtags_json", b::kContentJson},
      {"creator_content", "mentions_json", b::kContentJson},
      {"creator_content", "captions_json", b::kContentJson},
      {"creator_content", "topics_json", b::kTopicsJson},
  };
  for (const auto& [table, column, bytes] : columns) {
    absl::StatusOr<SqlRows> rows = warehouse_->Query(
        "SELECT character_maximum_length FROM information_schema.columns "
        "WHERE table_name = $1 AND column_name = $2",
        {table, column});
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->rows.size(), 1u) << table << "." << column;
    EXPECT_EQ(rows->rows[0][0], std::to_string(bytes)) << table << "." << column;
  }
}

TEST_F(WarehouseTest, CutTextLoadsIntoTheColumn) {
  ASSERT_TRUE(warehouse_->Exec("CREATE TABLE t (s VARCHAR(8))").ok());
  std::string rows;
  AppendCopyRow(
      {WarehouseText(std::string("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\0x\xff", 13), 8)}, rows);
  ASSERT_TRUE(warehouse_->CopyIn("COPY t (s) FROM STDIN", rows).ok());
  absl::StatusOr<SqlRows> back = warehouse_->Query("SELECT s FROM t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rows[0][0], "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
}

}  // namespace
}  // namespace scout
