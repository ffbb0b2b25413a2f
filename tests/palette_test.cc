// scout-palette end to end against the real Elasticsearch and PostgreSQL:
// genlake -> scout-ingest (pictures into the media store) -> scout-aggregate
// (profile facts) -> scout-palette -> warehouse rows, profile facts and a
// load version -> scout-server's GetPalette.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/post_index.h"
#include "common/base/time.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/server.h"
#include "tests/lake_fixture.h"
#include "tests/services_fixture.h"
#include "tools/genlake/genlake.h"
#include "workers/aggregate/aggregate.h"
#include "workers/ingest/ingest.h"
#include "workers/palette/palette.h"

namespace scout::palette {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);

class PaletteTest : public scout::testing::ServicesTest {
 protected:
  void SetUp() override {
    ServicesTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 6;
    options.days = 30;
    options.seed = 31;
    options.image_size = 96;
    ASSERT_TRUE(genlake::Generate(options, 2).ok());
    for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/stats")) {
      creators_.push_back(entry.path().filename().string());
    }
    std::sort(creators_.begin(), creators_.end());
    // The first creator's pictures cannot be fetched: posts without images.
    fs::remove_all(root_ / "cdn" / creators_[0]);

    lake_ = NewLocalLake(options.lake);
    media_ = NewLocalMediaStore((root_ / "media").string(), "");
    clock_ = NewFixedClock(absl::FromCivil(kToday + 1, absl::UTCTimeZone()) + absl::Hours(2));
    ingest::IngestOptions ingest_options;
    ingest_options.index_prefix = prefix_;
    ingest_options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    const v1::IngestReport ingested = scout::testing::IngestLake(root_, *lake_, *elastic_, *media_,
                                                                 *http_, *clock_, ingest_options);
    ASSERT_EQ(ingested.error(), "");
    ASSERT_GT(ingested.media_fetched(), 0);
    (void)elastic_->Call("POST", absl::StrCat(prefix_, "/_refresh"));

    aggregate::AggregateOptions aggregate_options;
    aggregate_options.index_prefix = prefix_;
    aggregate_options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    aggregate::AggregateEnv aggregate_env{lake_.get(),  warehouse_.get(), elastic_.get(),
                                          media_.get(), http_.get(),      clock_.get()};
    ASSERT_EQ(aggregate::RunAggregate(aggregate_env, aggregate_options, {kToday}).error(), "");
  }
  void TearDown() override {
    fs::remove_all(root_);
    ServicesTest::TearDown();
  }

  v1::PaletteReport Palette(Shard shard = Shard(), Warehouse* warehouse = nullptr) {
    PaletteOptions options;
    options.index_prefix = prefix_;
    options.state_dir = (root_ / "state").string();
    options.shard = shard;
    options.batch_creators = 2;  // Several batches, one load version.
    PaletteEnv env{elastic_.get(),
                   warehouse ? warehouse : warehouse_.get(),
                   media_.get(),
                   clock_.get(),
                   /*cache_store=*/nullptr,
                   /*s3=*/nullptr};
    return RunPalette(env, options);
  }

  v1::AggregateReport Aggregate(const std::function<void()>& before_transaction = {}) {
    aggregate::AggregateOptions options;
    options.index_prefix = prefix_;
    options.before_transaction = before_transaction;
    aggregate::AggregateEnv env{lake_.get(),  warehouse_.get(), elastic_.get(),
                                media_.get(), http_.get(),      clock_.get()};
    return aggregate::RunAggregate(env, options, {kToday});
  }

  // creator_id -> the colours of its profile_facts.palette_json ("" without).
  std::map<std::string, std::string> FactColors() {
    absl::StatusOr<SqlRows> rows =
        warehouse_->Query("SELECT creator_id, palette_json FROM profile_facts");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::string> out;
    if (rows.ok()) {
      for (const auto& row : rows->rows) {
        out[*row[0]] = row[1] ? json::parse(*row[1])["colors"].dump() : "";
      }
    }
    return out;
  }

  std::map<std::string, std::string> Colors() {
    absl::StatusOr<SqlRows> rows =
        warehouse_->Query("SELECT creator_id, colors_json FROM creator_palette");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::string> out;
    if (rows.ok()) {
      for (const auto& row : rows->rows) out[*row[0]] = *row[1];
    }
    return out;
  }

  fs::path root_;
  std::vector<std::string> creators_;
  std::unique_ptr<Lake> lake_;
  std::unique_ptr<MediaStore> media_;
  std::unique_ptr<Clock> clock_;
};

TEST_F(PaletteTest, PalettesReachTheWarehouseTheFactsAndTheServer) {
  // The first picture of the second creator's newest post is truncated.
  absl::StatusOr<json> newest = elastic_->Call("POST", absl::StrCat(prefix_, "/_search"),
                                               {{"size", 1},
                                                {"query", {{"term", {{"owner_id", creators_[1]}}}}},
                                                {"sort", {{{"timestamp", "desc"}}}}});
  ASSERT_TRUE(newest.ok()) << newest.status();
  const fs::path truncated =
      root_ / "media" /
      PostMediaKey(creators_[1], (*newest)["hits"]["hits"][0]["_source"]["id"].get<std::string>(),
                   0);
  ASSERT_TRUE(fs::exists(truncated));
  fs::resize_file(truncated, fs::file_size(truncated) / 2);

  const v1::PaletteReport first = Palette();
  ASSERT_EQ(first.error(), "") << first.DebugString();
  EXPECT_EQ(first.creators(), 6);
  EXPECT_EQ(first.creators_with_palette(), 5);
  EXPECT_EQ(first.creators_without_images(), 1);
  EXPECT_EQ(first.palettes_written(), 5);
  EXPECT_EQ(first.batches_written(), 3);
  EXPECT_GT(first.images(), 5);
  // Identical pictures (same bytes) are decoded once even within a run.
  EXPECT_EQ(first.images_decoded() + first.images_from_cache(), first.images());
  EXPECT_LT(first.images_from_cache(), first.images() / 10);
  EXPECT_EQ(first.images_missing(), 0);
  EXPECT_EQ(first.images_corrupt(), 1);
  ASSERT_EQ(first.corrupt_size(), 1);
  EXPECT_EQ(first.corrupt(0).key(), fs::relative(truncated, root_ / "media").string());

  const std::map<std::string, std::string> colors = Colors();
  ASSERT_EQ(colors.size(), 5u);
  EXPECT_FALSE(colors.contains(creators_[0]));
  for (const auto& [id, text] : colors) {
    const json parsed = json::parse(text);
    ASSERT_EQ(parsed.size(), 6u) << id;
    double sum = 0;
    for (const json& c : parsed) sum += c["percentage"].get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-9);
    // The server's copy in the facts carries the same colours.
    const json facts =
        json::parse(Scalar("SELECT palette_json FROM profile_facts WHERE creator_id = $1", {id}));
    EXPECT_EQ(facts["colors"], parsed) << id;
    EXPECT_EQ(facts["computed_at"], "2026-11-21T02:00:00Z");
    EXPECT_GT(facts["pixel_count"].get<int64_t>(), 0);
  }
  EXPECT_EQ(Scalar("SELECT palette_json FROM profile_facts WHERE creator_id = $1", {creators_[0]}),
            "");
  // One version for the run (3 batches): servers reload once.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM load_versions WHERE kind = 'palette'"), "1");
  EXPECT_EQ(Scalar("SELECT SUM(row_count) FROM load_versions WHERE kind = 'palette'"), "5");
  EXPECT_EQ(Scalar("SELECT MAX(version) FROM load_versions"), std::to_string(first.load_version()));

  // The second run decodes nothing and writes the same colours.
  const v1::PaletteReport second = Palette();
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.images(), first.images());
  EXPECT_EQ(second.images_from_cache(), second.images());
  EXPECT_EQ(second.images_decoded(), 0);
  EXPECT_EQ(second.images_corrupt(), 1);
  EXPECT_EQ(second.cache_entries_loaded(), first.images_decoded());
  EXPECT_GT(second.load_version(), first.load_version());
  EXPECT_EQ(Colors(), colors);

  // A server started now answers from its snapshot.
  StartServer(absl::FromCivil(kToday + 1, absl::UTCTimeZone()));
  const auto call = [&](const std::string& id, v1::Palette& out) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetPaletteRequest request;
    request.set_user_id(id);
    return stub_->GetPalette(&context, request, &out);
  };
  for (const auto& [id, text] : colors) {
    v1::Palette palette;
    ASSERT_TRUE(call(id, palette).ok()) << id;
    const json want = json::parse(text);
    ASSERT_EQ(palette.colors_size(), 6);
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(palette.colors(i).hex(), want[i]["hex"]);
      EXPECT_EQ(palette.colors(i).red(), want[i]["red"]);
      EXPECT_DOUBLE_EQ(palette.colors(i).percentage(), want[i]["percentage"].get<double>());
    }
    EXPECT_GT(palette.image_count(), 0);
    EXPECT_EQ(FromTimestamp(palette.computed_at()),
              absl::FromCivil(kToday + 1, absl::UTCTimeZone()) + absl::Hours(2));
  }
  v1::Palette none;
  EXPECT_EQ(call(creators_[0], none).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PaletteTest, PaletteCommittedDuringAnAggregateIsKept) {
  // scout-palette commits its batches while scout-aggregate is between
  // reading the day and swapping its facts in (its own connection, as in
  // production): the aggregate must carry the new palettes, not the ones
  // it would have read before.
  absl::StatusOr<std::unique_ptr<Warehouse>> other = Warehouse::Connect(dsn_);
  ASSERT_TRUE(other.ok()) << other.status();
  v1::PaletteReport palette;
  const v1::AggregateReport report = Aggregate([&] { palette = Palette(Shard(), other->get()); });
  ASSERT_EQ(report.error(), "") << report.DebugString();
  ASSERT_EQ(palette.error(), "");
  ASSERT_EQ(palette.palettes_written(), 5);
  const std::map<std::string, std::string> colors = Colors();
  const std::map<std::string, std::string> facts = FactColors();
  ASSERT_EQ(colors.size(), 5u);
  for (const auto& [id, text] : colors) {
    EXPECT_EQ(facts.at(id), json::parse(text).dump()) << id;
  }
}

TEST_F(PaletteTest, PalettesWithoutFactsAreReportedAndPublishedByTheNextAggregate) {
  // The creator's daily facts are not loaded yet.
  ASSERT_TRUE(
      warehouse_->Exec("DELETE FROM profile_facts WHERE creator_id = $1", {creators_[2]}).ok());
  const v1::PaletteReport report = Palette();
  ASSERT_EQ(report.error(), "");
  EXPECT_EQ(report.palettes_written(), 5);
  EXPECT_EQ(report.palettes_unpublished(), 1);
  EXPECT_THAT(report.unpublished(), ::testing::ElementsAre(creators_[2]));
  EXPECT_TRUE(Colors().contains(creators_[2]));  // Stored all the same.

  ASSERT_EQ(Aggregate().error(), "");  // Its facts arrive, with the palette.
  EXPECT_EQ(FactColors().at(creators_[2]), json::parse(Colors().at(creators_[2])).dump());
}

TEST_F(PaletteTest, ShardsSplitTheCreators) {
  const v1::PaletteReport a = Palette(*Shard::Parse("0/2"));
  const v1::PaletteReport b = Palette(*Shard::Parse("1/2"));
  ASSERT_EQ(a.error(), "");
  ASSERT_EQ(b.error(), "");
  EXPECT_EQ(a.creators() + b.creators(), 6);
  // Elasticsearch hands each shard its own creators' posts: together they
  // read each recent post once.
  const absl::Time now = absl::FromCivil(kToday + 1, absl::UTCTimeZone()) + absl::Hours(2);
  absl::StatusOr<json> recent = elastic_->Call(
      "POST", absl::StrCat(prefix_, "/_count"),
      {{"query", TimestampRange(now - absl::Hours(24 * PaletteOptions().recent_days), now)}});
  ASSERT_TRUE(recent.ok()) << recent.status();
  EXPECT_GT(a.posts_read(), 0);
  EXPECT_GT(b.posts_read(), 0);
  EXPECT_EQ(a.posts_read() + b.posts_read(), (*recent)["count"].get<int64_t>());
  EXPECT_EQ(Colors().size(), 5u);
  EXPECT_TRUE(fs::exists(root_ / "state/palette-cache/samples-0-of-2.bin"));
  EXPECT_TRUE(fs::exists(root_ / "state/palette-cache/samples-1-of-2.bin"));
}

}  // namespace
}  // namespace scout::palette
