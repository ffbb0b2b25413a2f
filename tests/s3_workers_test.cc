// scout-ingest, scout-aggregate and scout-palette over a lake, a media store
// and the palette's state on S3 (the real SeaweedFS of scripts/services) give
// the index and the warehouse tables a run over the same lake in local
// folders gives (issue 12, section 4); the palette's sample cache on S3 lets
// a shard resume on a fresh disk without decoding again, and two runs of a
// shard do not interleave (section 3).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/backends/s3.h"
#include "common/backends/s3_stores.h"
#include "common/base/clock.h"
#include "common/io/files.h"
#include "tests/es_fixture.h"
#include "tests/lake_fixture.h"
#include "tests/pg_fixture.h"
#include "tests/s3_fixture.h"
#include "tools/genlake/genlake.h"
#include "workers/aggregate/aggregate.h"
#include "workers/palette/cache_store.h"
#include "workers/palette/palette.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);
constexpr char kLocalMediaUrl[] = "https://media.test/";

// Columns stamped with the wall clock when a row is written: the two runs
// cannot agree on them.
const std::set<std::string> kRunStamps = {"loaded_at", "quarantined_at", "updated_at",
                                          "finished_at"};

// One run's backends: the lake, the media store, the state and its own
// index prefix and warehouse database.
struct Site {
  std::string name;
  Lake* lake = nullptr;
  MediaStore* media = nullptr;
  std::string index_prefix;
  Warehouse* warehouse = nullptr;
  std::string state;                     // A folder or s3://bucket/prefix.
  std::shared_ptr<ObjectStore> s3;       // When anything is on S3.
  palette::CacheStore* cache = nullptr;  // The palette's, for state on S3.
};

class S3WorkersTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    scout::testing::RequireS3();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 20;
    options.days = 30;
    options.seed = 12;
    options.image_size = 64;
    options.malformed_rate = 0.03;
    absl::StatusOr<genlake::Summary> summary = genlake::Generate(options, 2);
    ASSERT_TRUE(summary.ok()) << summary.status();

    s3_ = scout::testing::S3FromEnv();
    bucket_ = absl::AsciiStrToLower(absl::StrCat("t-s3-workers-", getpid()));
    ASSERT_TRUE(s3_->CreateBucket(bucket_).ok());
    ASSERT_GT(scout::testing::UploadFolder(*s3_, bucket_, root_ / "lake", "lake/"), 100);
    ASSERT_FALSE(HasFailure());
    // A database for each run.
    local_database_.Create("s3_workers_local");
    if (HasFatalFailure()) return;
    s3_database_.Create("s3_workers_s3");
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<Warehouse>> warehouse = local_database_.Connect();
    ASSERT_TRUE(warehouse.ok()) << warehouse.status();
    warehouse_ = *std::move(warehouse);
    warehouse = s3_database_.Connect();
    ASSERT_TRUE(warehouse.ok()) << warehouse.status();
    s3_warehouse_ = *std::move(warehouse);
    clock_ = NewFixedClock(absl::FromCivil(kToday + 1, absl::UTCTimeZone()) + absl::Hours(2));

    local_lake_ = NewLocalLake((root_ / "lake").string());
    local_media_ = NewLocalMediaStore((root_ / "media").string(), kLocalMediaUrl);
    s3_lake_ = NewS3Lake(s3_, S3Location{bucket_, "lake/"});
    s3_media_ = NewS3MediaStore(s3_, S3Location{bucket_, "media/"}, "");  // The objects' URLs.
    absl::StatusOr<std::unique_ptr<palette::CacheStore>> cache =
        palette::CacheStoreForState(absl::StrCat("s3://", bucket_, "/state"), s3_);
    ASSERT_TRUE(cache.ok()) << cache.status();
    s3_cache_ = *std::move(cache);

    local_ = Site{"local",
                  local_lake_.get(),
                  local_media_.get(),
                  prefix_ + "-local",
                  warehouse_.get(),
                  (root_ / "state-local").string(),
                  nullptr,
                  nullptr};
    remote_ = Site{"s3",
                   s3_lake_.get(),
                   s3_media_.get(),
                   prefix_ + "-s3",
                   s3_warehouse_.get(),
                   absl::StrCat("s3://", bucket_, "/state"),
                   s3_,
                   s3_cache_.get()};
  }

  void TearDown() override {
    if (s3_ != nullptr) scout::testing::RemoveBucket(*s3_, bucket_);
    if (elastic_ != nullptr) {
      for (const char* site : {"-local", "-s3"}) {
        (void)elastic_->Call("DELETE", absl::StrCat("_index_template/", prefix_, site));
      }
    }
    warehouse_.reset();
    s3_warehouse_.reset();
    local_database_.Drop();
    s3_database_.Drop();
    fs::remove_all(root_);
    ElasticTest::TearDown();
  }

  v1::IngestReport Ingest(const Site& site) {
    // The ingest checkpoint stays in a local folder here (its S3 home is
    // another change's).
    const fs::path state = root_ / absl::StrCat("ingest-", site.name);
    fs::create_directories(state);
    ingest::IngestOptions options;
    options.index_prefix = site.index_prefix;
    options.bulk_backoff = absl::Milliseconds(10);
    options.media.first_backoff = absl::Milliseconds(1);
    options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    v1::IngestReport report = scout::testing::IngestLake(state, *site.lake, *elastic_, *site.media,
                                                         *http_, *clock_, options, site.s3.get());
    (void)elastic_->Call("POST", absl::StrCat(site.index_prefix, "/_refresh"));
    return report;
  }

  v1::AggregateReport Aggregate(const Site& site) {
    aggregate::AggregateOptions options;
    options.index_prefix = site.index_prefix;
    options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    aggregate::AggregateEnv env{site.lake,  site.warehouse, elastic_.get(),
                                site.media, http_.get(),    clock_.get()};
    return aggregate::RunAggregate(env, options, {kToday});
  }

  // `scratch`: the local folder of the working copy when the cache is on S3
  // (a new one is a new machine's empty disk).
  v1::PaletteReport Palette(const Site& site, const std::string& scratch = "") {
    palette::PaletteOptions options;
    options.index_prefix = site.index_prefix;
    options.state_dir = site.state;
    options.batch_creators = 7;
    options.shared_cache.scratch_dir = (root_ / (scratch.empty() ? "scratch" : scratch)).string();
    options.shared_cache.flush_records = 40;  // Several segments per run.
    palette::PaletteEnv env{elastic_.get(), site.warehouse, site.media,
                            clock_.get(),   site.cache,     site.s3.get()};
    return palette::RunPalette(env, options);
  }

  // Media URLs name their store: both become "media:" + key.
  static void Normalize(json& value, const std::vector<std::string>& bases) {
    if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      for (const std::string& base : bases) {
        if (absl::StartsWith(text, base)) {
          value = absl::StrCat("media:", text.substr(base.size()));
          return;
        }
      }
    } else if (value.is_structured()) {
      for (json& child : value) Normalize(child, bases);
    }
  }
  std::vector<std::string> MediaBases() const {
    return {local_media_->Url(""), s3_media_->Url("")};
  }

  // Every document of an index or alias by id, media URLs normalized.
  std::map<std::string, json> Documents(const std::string& index) {
    (void)elastic_->Call("POST", absl::StrCat(index, "/_refresh"));
    absl::StatusOr<json> answer =
        elastic_->Call("POST", absl::StrCat(index, "/_search"),
                       json{{"size", 10000}, {"query", {{"match_all", json::object()}}}});
    std::map<std::string, json> documents;
    if (!answer.ok()) {
      ADD_FAILURE() << index << ": " << answer.status();
      return documents;
    }
    for (json& hit : (*answer)["hits"]["hits"]) {
      Normalize(hit["_source"], MediaBases());
      documents[hit["_id"].get<std::string>()] = hit["_source"];
    }
    return documents;
  }

  // A table's rows, sorted, without the run's wall-clock stamps, media URLs
  // normalized.
  std::vector<std::vector<std::string>> Rows(Warehouse& warehouse, const std::string& table) {
    absl::StatusOr<SqlRows> rows = warehouse.Query(absl::StrCat("SELECT * FROM ", table));
    EXPECT_TRUE(rows.ok()) << table << ": " << rows.status();
    std::vector<std::vector<std::string>> out;
    if (!rows.ok()) return out;
    for (const std::vector<SqlValue>& row : rows->rows) {
      std::vector<std::string>& kept = out.emplace_back();
      for (size_t c = 0; c < row.size(); ++c) {
        if (kRunStamps.contains(rows->columns[c])) continue;
        json value = row[c] ? json(*row[c]) : json(nullptr);
        Normalize(value, MediaBases());
        kept.push_back(absl::StrCat(rows->columns[c], "=", value.dump()));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path root_;
  std::string bucket_;
  std::shared_ptr<ObjectStore> s3_;
  scout::testing::ScratchDatabase local_database_, s3_database_;
  std::unique_ptr<Warehouse> warehouse_, s3_warehouse_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Lake> local_lake_, s3_lake_;
  std::unique_ptr<MediaStore> local_media_, s3_media_;
  std::unique_ptr<palette::CacheStore> s3_cache_;
  Site local_, remote_;
};

TEST_F(S3WorkersTest, SameIndexAndTablesAsALocalRunAndTheCacheSurvivesTheDisk) {
  const v1::IngestReport local_ingest = Ingest(local_);
  ASSERT_EQ(local_ingest.error(), "");
  const v1::IngestReport s3_ingest = Ingest(remote_);
  ASSERT_EQ(s3_ingest.error(), "");
  EXPECT_GT(s3_ingest.posts_indexed(), 100);
  EXPECT_EQ(s3_ingest.posts_indexed(), local_ingest.posts_indexed());
  EXPECT_GT(s3_ingest.media_fetched(), 100);

  const v1::AggregateReport local_aggregate = Aggregate(local_);
  ASSERT_EQ(local_aggregate.error(), "") << local_aggregate.DebugString();
  const v1::AggregateReport s3_aggregate = Aggregate(remote_);
  ASSERT_EQ(s3_aggregate.error(), "") << s3_aggregate.DebugString();
  EXPECT_EQ(s3_aggregate.facts_written(), 20);
  EXPECT_EQ(s3_aggregate.facts_written(), local_aggregate.facts_written());
  EXPECT_GT(s3_aggregate.pictures_fetched(), 0);

  const v1::PaletteReport local_palette = Palette(local_);
  ASSERT_EQ(local_palette.error(), "") << local_palette.DebugString();
  const v1::PaletteReport s3_palette = Palette(remote_, "disk-1");
  ASSERT_EQ(s3_palette.error(), "") << s3_palette.DebugString();
  EXPECT_EQ(s3_palette.palettes_written(), 20);
  EXPECT_EQ(s3_palette.images(), local_palette.images());
  EXPECT_EQ(s3_palette.images_decoded(), local_palette.images_decoded());
  EXPECT_GT(s3_palette.images_decoded(), 100);
  EXPECT_EQ(s3_palette.images_missing(), 0);
  // The cache went up in segments of 40 records, then merged (> 8).
  EXPECT_EQ(s3_palette.cache_segments_loaded(), 0);
  EXPECT_GT(s3_palette.cache_segments_written(), 8);
  EXPECT_GT(s3_palette.cache_segments_deleted(), 0);
  EXPECT_FALSE(local_palette.has_s3_requests());
  EXPECT_GT(s3_palette.s3_requests().gets(), s3_palette.images() - 1);              // The pictures.
  EXPECT_GT(s3_palette.s3_requests().puts(), s3_palette.cache_segments_written());  // + lease.

  // The index: the same posts and creators, field for field.
  const std::map<std::string, json> local_posts = Documents(local_.index_prefix);
  const std::map<std::string, json> s3_posts = Documents(remote_.index_prefix);
  EXPECT_EQ(static_cast<int64_t>(s3_posts.size()), s3_ingest.posts_indexed());
  EXPECT_TRUE(s3_posts == local_posts) << "the S3 run's posts differ from the local run's";
  const std::map<std::string, json> local_creators = Documents(CreatorsAlias(local_.index_prefix));
  const std::map<std::string, json> s3_creators = Documents(CreatorsAlias(remote_.index_prefix));
  EXPECT_EQ(s3_creators.size(), 20u);
  for (const auto& [id, document] : local_creators) {
    ASSERT_TRUE(s3_creators.contains(id)) << id;
    EXPECT_EQ(s3_creators.at(id), document) << id;
  }
  EXPECT_EQ(s3_creators.size(), local_creators.size());

  // The warehouse: every table row by row.
  for (const char* table :
       {"creator_daily_stats", "stats_quarantine", "profile_facts", "creator_palette",
        "creator_content", "tier_benchmarks", "tier_centiles", "platform_daily", "load_versions"}) {
    const auto local_rows = Rows(*warehouse_, table);
    const auto s3_rows = Rows(*s3_warehouse_, table);
    EXPECT_EQ(s3_rows, local_rows) << table;
    if (std::string(table) != "stats_quarantine") {
      EXPECT_FALSE(s3_rows.empty()) << table;
    }
  }

  std::cout << "S3 run: " << s3_posts.size() << " posts, " << s3_creators.size() << " creators, "
            << s3_palette.images_decoded() << " pictures decoded, "
            << s3_palette.cache_segments_written() << " cache segments written, "
            << s3_palette.cache_segments_deleted()
            << " merged away; S3 requests of the palette: GET " << s3_palette.s3_requests().gets()
            << " HEAD " << s3_palette.s3_requests().heads() << " PUT "
            << s3_palette.s3_requests().puts() << " LIST " << s3_palette.s3_requests().lists()
            << " DELETE " << s3_palette.s3_requests().deletes() << "\n";

  // The shard moves to a new machine: an empty disk, the cache from S3.
  const auto palettes = Rows(*s3_warehouse_, "creator_palette");
  const v1::PaletteReport again = Palette(remote_, "disk-2");
  ASSERT_EQ(again.error(), "") << again.DebugString();
  EXPECT_EQ(again.images(), s3_palette.images());
  EXPECT_EQ(again.images_decoded(), 0);
  EXPECT_EQ(again.images_from_cache(), again.images());
  EXPECT_EQ(again.cache_entries_loaded(), s3_palette.images_decoded());
  EXPECT_EQ(again.cache_segments_damaged(), 0);
  EXPECT_LE(again.cache_segments_loaded(), 8);
  EXPECT_EQ(again.cache_segments_written(), 0);
  EXPECT_EQ(Rows(*s3_warehouse_, "creator_palette"), palettes);
  absl::StatusOr<S3ListPage> state = s3_->List(bucket_, "state/palette-cache/", "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(static_cast<int64_t>(state->objects.size()), again.cache_segments_loaded() + 1)
      << "segments and the lease";
}

// Two runs of one shard: the second is refused while the first holds the
// cache's lease on S3; another shard is not; the lease is free once released.
TEST_F(S3WorkersTest, TwoPaletteRunsOfAShardDoNotInterleave) {
  palette::SharedCacheOptions options;
  options.scratch_dir = (root_ / "first").string();
  absl::StatusOr<std::unique_ptr<palette::SampleCache>> first =
      palette::SampleCache::OpenShared(s3_cache_.get(), Shard(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  const v1::PaletteReport refused = Palette(remote_, "second");
  EXPECT_NE(refused.error().find("is held by"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find(absl::StrCat("s3://", bucket_, "/state/palette-cache/")),
            std::string::npos)
      << refused.error();
  EXPECT_EQ(refused.palettes_written(), 0);
  EXPECT_EQ(refused.images(), 0);

  options.scratch_dir = (root_ / "other-shard").string();
  absl::StatusOr<std::unique_ptr<palette::SampleCache>> shard_two =
      palette::SampleCache::OpenShared(s3_cache_.get(), *Shard::Parse("1/2"), options);
  ASSERT_TRUE(shard_two.ok()) << shard_two.status();
  ASSERT_TRUE((*shard_two)->Close().ok());

  ASSERT_TRUE((*first)->Close().ok());
  options.scratch_dir = (root_ / "third").string();
  absl::StatusOr<std::unique_ptr<palette::SampleCache>> third =
      palette::SampleCache::OpenShared(s3_cache_.get(), Shard(), options);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE((*third)->Close().ok());
}

}  // namespace
}  // namespace scout
