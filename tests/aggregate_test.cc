// scout-aggregate and GetUserProfile against the real Elasticsearch and
// PostgreSQL on a generated lake. Expected values are computed here from the
// lake files themselves, not through the code under test.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_content.h"
#include "common/backends/media_fetch.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/proto_json.h"
#include "common/base/text.h"
#include "common/base/tier.h"
#include "common/base/time.h"
#include "common/io/files.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/profiles.h"
#include "server/server.h"
#include "tests/lake_fixture.h"
#include "tests/metric_value.h"
#include "tests/services_fixture.h"
#include "tools/genlake/genlake.h"
#include "workers/aggregate/aggregate.h"
#include "workers/aggregate/post_aggregates.h"
#include "workers/ingest/ingest.h"

namespace scout::aggregate {
namespace {

using scout::testing::MetricValue;

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);
constexpr int kDays = 40;

json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

// What a creator's profile should say, from the lake files alone.
struct Expected {
  std::map<std::string, int64_t> followers;  // Date -> followers, last 90 days.
  bool business = false;
  int64_t posts = 0, feed_posts = 0, likes_and_comments = 0, followers_sum = 0, followers_posts = 0;
};

class AggregateTest : public scout::testing::ServicesTest {
 protected:
  void SetUp() override {
    ServicesTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 10;
    options.days = kDays;
    options.seed = 23;
    options.business_rate = 0.5;
    ASSERT_TRUE(genlake::Generate(options, 2).ok());
    lake_ = NewLocalLake(options.lake);
    media_ = NewLocalMediaStore((root_ / "media").string(), "");
    clock_ = NewFixedClock(absl::FromCivil(kToday + 1, absl::UTCTimeZone()) + absl::Hours(2));
    ASSERT_NO_FATAL_FAILURE(Reingest());
  }
  void TearDown() override {
    fs::remove_all(root_);
    ServicesTest::TearDown();
  }

  v1::AggregateReport Aggregate(absl::CivilDay from, absl::CivilDay to,
                                const std::function<void(AggregateOptions&)>& tweak = {}) {
    std::vector<absl::CivilDay> dates;
    for (absl::CivilDay d = from; d <= to; ++d) dates.push_back(d);
    AggregateOptions options;
    options.index_prefix = prefix_;
    options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    if (tweak) tweak(options);
    AggregateEnv env{lake_.get(),  warehouse_.get(), elastic_.get(),
                     media_.get(), http_.get(),      clock_.get()};
    return RunAggregate(env, options, dates);
  }

  // Connects to this test's warehouse unless TakeWarehouseDown() was
  // called (and warehouse_down_ not reset): the outage a ProfileStore sees.
  server::ProfileStore::Connector Connector() {
    return [this]() -> absl::StatusOr<std::unique_ptr<Warehouse>> {
      if (warehouse_down_) return absl::UnavailableError("warehouse down (injected)");
      return Warehouse::Connect(dsn_);
    };
  }

  // New connections fail and open ones are cut, as when the server stops.
  void TakeWarehouseDown() {
    warehouse_down_ = true;
    absl::StatusOr<std::unique_ptr<Warehouse>> probe = Warehouse::Connect(dsn_);
    ASSERT_TRUE(probe.ok()) << probe.status();
    (void)(*probe)->Exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }

  std::atomic<bool> warehouse_down_{false};

  // Ingests the lake; again after a test changed it (the checkpoint picks
  // up only what changed).
  void Reingest() {
    ingest::IngestOptions ingest_options;
    ingest_options.index_prefix = prefix_;
    ingest_options.fetch_media = false;
    ASSERT_EQ(scout::testing::IngestLake(root_, *lake_, *elastic_, *media_, *http_, *clock_,
                                         ingest_options)
                  .error(),
              "");
  }

  std::vector<std::string> Creators() {
    std::vector<std::string> ids;
    for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/stats")) {
      ids.push_back(entry.path().filename().string());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  fs::path StatsFile(const std::string& id, absl::CivilDay day) {
    return root_ / "lake/instagram_graph/stats" / id /
           absl::StrCat(absl::FormatCivilTime(day), ".json");
  }

  // A creator whose `day` file is of a basic (or business) connection.
  std::string CreatorOf(bool business, absl::CivilDay day = kToday) {
    for (const std::string& id : Creators()) {
      if (ReadJson(StatsFile(id, day)).contains("impressions") == business) return id;
    }
    ADD_FAILURE() << "no such creator";
    return "";
  }

  Expected ExpectedFor(const std::string& id, absl::CivilDay day) {
    Expected e;
    for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/stats" / id)) {
      const std::string date = entry.path().stem().string();
      absl::CivilDay d;
      if (!absl::ParseCivilTime(date, &d) || d > day || d <= day - 90) continue;
      const json stats = ReadJson(entry.path());
      e.followers[date] = stats["followers_count"].get<int64_t>();
      if (d == day) e.business = stats.contains("impressions");
    }
    // Posts of the 30 UTC days ending with `day`.
    const absl::Time end = absl::FromCivil(day + 1, absl::UTCTimeZone());
    const absl::Time start = end - absl::Hours(24 * 30);
    for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/posts" / id)) {
      const json post = ReadJson(entry.path());
      const absl::StatusOr<absl::Time> t = ParseTime(post.value("timestamp", ""));
      if (!t.ok() || *t < start || *t >= end) continue;
      ++e.posts;
      if (post.contains("like_count")) {
        ++e.feed_posts;
        e.likes_and_comments +=
            post["like_count"].get<int64_t>() + post["comments_count"].get<int64_t>();
      }
      if (post["owner"].contains("followers_count")) {
        ++e.followers_posts;
        e.followers_sum += post["owner"]["followers_count"].get<int64_t>();
      }
    }
    return e;
  }

  std::map<std::string, std::vector<SqlValue>> Facts() {
    absl::StatusOr<SqlRows> rows = warehouse_->Query(
        "SELECT creator_id, as_of, followers_count, daily_json, doc_count, fol_avg, eng_avg, "
        "engagement_rate, is_business, load_version FROM profile_facts");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::vector<SqlValue>> facts;
    if (rows.ok()) {
      for (auto& row : rows->rows) facts[*row[0]] = row;
    }
    return facts;
  }

  fs::path root_;
  std::unique_ptr<Lake> lake_;
  std::unique_ptr<MediaStore> media_;
  std::unique_ptr<Clock> clock_;
};

double Double(const SqlValue& v) {
  double d = -1;
  EXPECT_TRUE(v && absl::SimpleAtod(*v, &d));
  return d;
}

TEST_F(AggregateTest, FactsMatchTheLake) {
  // A creator skipped a day: the series must simply lack it.
  const std::vector<std::string> creators = Creators();
  const std::string gap_creator = creators[1];
  const absl::CivilDay gap = kToday - 3;
  fs::remove(root_ / "lake/instagram_graph/stats" / gap_creator /
             absl::StrCat(absl::FormatCivilTime(gap), ".json"));

  const v1::AggregateReport report = Aggregate(kToday - (kDays - 1), kToday);
  ASSERT_EQ(report.error(), "") << report.DebugString();
  EXPECT_EQ(report.dates_size(), kDays);
  EXPECT_EQ(report.stats_quarantined(), 0);
  EXPECT_EQ(report.pictures_failed(), 0);
  EXPECT_GT(report.pictures_fetched(), 0);

  const auto facts = Facts();
  ASSERT_EQ(facts.size(), creators.size());
  int business = 0, basic = 0;
  for (const std::string& id : creators) {
    const Expected want = ExpectedFor(id, kToday);
    const std::vector<SqlValue>& fact = facts.at(id);
    EXPECT_EQ(*fact[1], absl::FormatCivilTime(kToday));
    const json daily = json::parse(*fact[3]);
    std::map<std::string, int64_t> series;
    for (const json& point : daily) {
      series[point["date"]] = point["followers"];
      EXPECT_EQ(point.contains("impressions"), want.business) << id;
    }
    EXPECT_EQ(series, want.followers) << id;
    EXPECT_EQ(*fact[2], std::to_string(want.followers.rbegin()->second));
    EXPECT_EQ(*fact[4], std::to_string(want.posts)) << id;
    if (want.feed_posts > 0) {
      EXPECT_NEAR(Double(fact[6]), static_cast<double>(want.likes_and_comments) / want.feed_posts,
                  1e-9)
          << id;
      EXPECT_NEAR(Double(fact[7]),
                  static_cast<double>(want.likes_and_comments) / want.feed_posts /
                      want.followers.rbegin()->second,
                  1e-12)
          << id;
    } else {
      EXPECT_FALSE(fact[6].has_value()) << id;
    }
    if (want.followers_posts > 0) {
      EXPECT_NEAR(Double(fact[5]), static_cast<double>(want.followers_sum) / want.followers_posts,
                  1e-6)
          << id;
    } else {
      EXPECT_FALSE(fact[5].has_value()) << id;  // Basic creators: absent, not 0.
    }
    EXPECT_EQ(*fact[8] == "t", want.business);
    ++(want.business ? business : basic);
  }
  EXPECT_GT(business, 0);
  EXPECT_GT(basic, 0);
  EXPECT_FALSE(facts.at(gap_creator)[3]->find(absl::FormatCivilTime(gap)) != std::string::npos);
}

TEST_F(AggregateTest, HiddenLikesPostsAddNeitherLikesNorComments) {
  // A creator with posts whose likes are hidden (no like_count) but with
  // many comments: eng_avg is likes + comments per post with likes, over
  // those same posts.
  const std::string id = Creators()[3];
  const fs::path dir = root_ / "lake/instagram_graph/posts" / id;
  json model;
  for (const auto& entry : fs::directory_iterator(dir)) {
    model = ReadJson(entry.path());
    if (model.is_object() && model.contains("like_count")) break;
  }
  ASSERT_TRUE(model.contains("like_count"));
  for (int i = 0; i < 2; ++i) {
    json hidden = model;
    hidden["id"] = absl::StrCat("hidden", i);
    hidden.erase("like_count");
    hidden["comments_count"] = 100000;
    hidden["timestamp"] = absl::StrCat(absl::FormatCivilTime(kToday - i), "T12:00:00+0000");
    std::ofstream(dir / absl::StrCat("hidden", i, ".json")) << hidden.dump();
  }
  ASSERT_NO_FATAL_FAILURE(Reingest());
  const Expected want = ExpectedFor(id, kToday);
  ASSERT_GT(want.feed_posts, 0);
  ASSERT_GE(want.posts, want.feed_posts + 2);

  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  const std::vector<SqlValue> fact = Facts().at(id);
  EXPECT_EQ(*fact[4], std::to_string(want.posts));  // Hidden-likes posts are posts...
  const double eng_avg = static_cast<double>(want.likes_and_comments) / want.feed_posts;
  EXPECT_NEAR(Double(fact[6]), eng_avg, 1e-9);  // ...but not in eng_avg.
  EXPECT_LT(Double(fact[6]), 200000.0 / want.feed_posts);
  EXPECT_NEAR(Double(fact[7]), eng_avg / want.followers.rbegin()->second, 1e-12);

  // The same from AggregatePosts directly: the sums cover the feed posts.
  const absl::Time end = absl::FromCivil(kToday + 1, absl::UTCTimeZone());
  absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> posts =
      AggregatePosts(*elastic_, prefix_, end - absl::Hours(24 * 30), end, Shard());
  ASSERT_TRUE(posts.ok()) << posts.status();
  const PostAggregate& mine = posts->at(id);
  EXPECT_EQ(mine.posts, want.posts);
  EXPECT_EQ(mine.feed_posts, want.feed_posts);
  EXPECT_EQ(mine.likes + mine.comments, want.likes_and_comments);
}

TEST_F(AggregateTest, AMissingPostsAliasIsAnErrorNotZeroPosts) {
  AggregateOptions options;
  options.index_prefix = prefix_ + "-typo";  // No such alias.
  AggregateEnv env{lake_.get(),  warehouse_.get(), elastic_.get(),
                   media_.get(), http_.get(),      clock_.get()};
  const v1::AggregateReport report = RunAggregate(env, options, {kToday});
  EXPECT_THAT(report.error(), ::testing::HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(report.error(), ::testing::HasSubstr(absl::StrCat("\"", prefix_, "-typo\"")));
  EXPECT_EQ(report.facts_written(), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM profile_facts WHERE doc_count = 0"), "0");

  const absl::Time end = absl::FromCivil(kToday + 1, absl::UTCTimeZone());
  EXPECT_EQ(AggregatePosts(*elastic_, prefix_ + "-typo", end - absl::Hours(24), end, Shard())
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

// Passes every request to the real Elasticsearch and counts the creator
// buckets its aggregation answers carry: what a shard made it read.
class BucketCountingHttp final : public HttpClient {
 public:
  explicit BucketCountingHttp(HttpClient* real) : real_(real) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    absl::StatusOr<HttpResponse> response = real_->Send(request);
    if (response.ok() && absl::StrContains(request.url, "/_search")) {
      const json answer = json::parse(response->body, nullptr, false);
      if (answer.contains("aggregations")) {
        for (const json& bucket : answer["aggregations"]["owners"]["buckets"]) {
          ++buckets;
          docs += bucket["doc_count"].get<int64_t>();
        }
      }
    }
    return response;
  }
  int64_t buckets = 0, docs = 0;

 private:
  HttpClient* const real_;
};

TEST_F(AggregateTest, EachShardReadsOnlyItsOwnCreatorsPosts) {
  const absl::Time end = absl::FromCivil(kToday + 1, absl::UTCTimeZone());
  const absl::Time start = end - absl::Hours(24 * 30);
  absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> all =
      AggregatePosts(*elastic_, prefix_, start, end, Shard());
  ASSERT_TRUE(all.ok()) << all.status();
  int64_t all_posts = 0;
  for (const auto& [id, aggregate] : *all) all_posts += aggregate.posts;
  ASSERT_GT(all->size(), 3u);

  int64_t buckets = 0, docs = 0;
  size_t creators = 0;
  for (int i = 0; i < 3; ++i) {
    const Shard shard = *Shard::Parse(absl::StrCat(i, "/3"));
    BucketCountingHttp counting(http_.get());
    Elastic elastic(&counting, es_url_);
    absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> mine =
        AggregatePosts(elastic, prefix_, start, end, shard);
    ASSERT_TRUE(mine.ok()) << mine.status();
    // Elasticsearch answered with this shard's creators only.
    EXPECT_EQ(counting.buckets, static_cast<int64_t>(mine->size())) << shard.ToString();
    for (const auto& [id, aggregate] : *mine) {
      EXPECT_TRUE(shard.Owns(id)) << id;
      EXPECT_EQ(aggregate.posts, all->at(id).posts) << id;
    }
    buckets += counting.buckets;
    docs += counting.docs;
    creators += mine->size();
  }
  // Together the three shards read every post once, not three times.
  EXPECT_EQ(creators, all->size());
  EXPECT_EQ(buckets, static_cast<int64_t>(all->size()));
  EXPECT_EQ(docs, all_posts);
}

TEST_F(AggregateTest, RerunGivesTheSameTablesAndBadFilesAreQuarantined) {
  ASSERT_EQ(Aggregate(kToday - 2, kToday).error(), "");
  auto before = Facts();
  const std::string stats_rows = Scalar("SELECT COUNT(*) FROM creator_daily_stats");

  // A broken file the next time round: quarantined with its reason, the
  // rest loads; the creator keeps yesterday's facts.
  const std::string broken = Creators()[0];
  const fs::path file = root_ / "lake/instagram_graph/stats" / broken /
                        absl::StrCat(absl::FormatCivilTime(kToday), ".json");
  const std::string good = *ReadFile(file.string());
  ASSERT_TRUE(
      WriteFileAtomically(file.string(), "{\"id\": \"" + broken + "\", \"followers_count\": \"x\"}")
          .ok());
  v1::AggregateReport report = Aggregate(kToday, kToday);
  ASSERT_EQ(report.error(), "");
  EXPECT_EQ(report.stats_quarantined(), 1);
  ASSERT_EQ(report.quarantined_size(), 1);
  EXPECT_THAT(report.quarantined(0).reason(), ::testing::HasSubstr("followers_count"));
  EXPECT_THAT(Scalar("SELECT reason FROM stats_quarantine"),
              ::testing::HasSubstr("followers_count"));

  ASSERT_TRUE(WriteFileAtomically(file.string(), good).ok());
  report = Aggregate(kToday, kToday);
  ASSERT_EQ(report.error(), "");
  EXPECT_EQ(report.pictures_fetched(), 0);  // Copied once, on the first run.
  EXPECT_EQ(report.pictures_already_stored(), static_cast<int64_t>(Creators().size()));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM stats_quarantine"), "0");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM creator_daily_stats"), stats_rows);
  auto after = Facts();
  for (auto* facts : {&before, &after}) {
    for (auto& [id, row] : *facts) row.pop_back();  // load_version differs by design.
  }
  EXPECT_EQ(before, after);
}

TEST_F(AggregateTest, FailedQualityCheckRollsTheLoadBack) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  const std::string version = Scalar("SELECT MAX(load_version) FROM profile_facts");
  // No lake file gets past the parser to fail a check any more (see
  // BasicFileWithInsightsIsQuarantined), so a parser bug is stood in for by
  // corrupting this run's staged row of a basic creator.
  const std::string basic = CreatorOf(false);
  const v1::AggregateReport report = Aggregate(kToday, kToday, [&](AggregateOptions& options) {
    options.before_transaction = [&] {
      ASSERT_TRUE(
          warehouse_->Exec("UPDATE stage_stats SET impressions = 7 WHERE creator_id = $1", {basic})
              .ok());
    };
  });
  EXPECT_THAT(report.error(), ::testing::HasSubstr("data-quality check failed"));
  ASSERT_EQ(report.quality_failures_size(), 1);
  EXPECT_THAT(report.quality_failures(0).rows(), ::testing::ElementsAre(basic));
  EXPECT_EQ(Scalar("SELECT COUNT(DISTINCT load_version) FROM profile_facts"), "1");
  EXPECT_EQ(Scalar("SELECT MAX(load_version) FROM profile_facts"), version);
  // The stats went back with the facts: one transaction for the date.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM creator_daily_stats WHERE impressions IS NOT NULL "
                   "AND NOT is_business"),
            "0");
}

TEST_F(AggregateTest, BasicFileWithInsightsIsQuarantinedAndTheRestLoads) {
  // Once accepted and committed, it then failed the day's check for every
  // shard on every rerun.
  const std::string basic = CreatorOf(false);
  json stats = ReadJson(StatsFile(basic, kToday));
  stats["profile_views"] = 3;
  ASSERT_TRUE(WriteFileAtomically(StatsFile(basic, kToday).string(), stats.dump()).ok());
  for (int run = 0; run < 2; ++run) {
    const v1::AggregateReport report = Aggregate(kToday, kToday);
    ASSERT_EQ(report.error(), "") << report.DebugString();
    EXPECT_EQ(report.quality_failures_size(), 0);
    EXPECT_EQ(report.stats_quarantined(), 1);
    ASSERT_EQ(report.quarantined_size(), 1);
    EXPECT_THAT(report.quarantined(0).reason(), ::testing::HasSubstr("profile_views"));
    EXPECT_EQ(report.facts_written(), static_cast<int64_t>(Creators().size()) - 1);
  }
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM creator_daily_stats WHERE creator_id = $1", {basic}), "0");
}

TEST_F(AggregateTest, ChecksLookOnlyAtWhatTheRunLoaded) {
  // A bad row of a creator this run does not load (another shard's, or one
  // committed before the checks were scoped) must not fail the date.
  ASSERT_TRUE(Migrate(*warehouse_).ok());
  ASSERT_TRUE(warehouse_
                  ->Exec("INSERT INTO creator_daily_stats (creator_id, day, followers_count, "
                         "is_business, impressions, source_key, loaded_at) VALUES ('999', $1, 5, "
                         "false, 7, 'x', CURRENT_TIMESTAMP)",
                         {absl::FormatCivilTime(kToday)})
                  .ok());
  const v1::AggregateReport report = Aggregate(kToday, kToday);
  EXPECT_EQ(report.error(), "");
  EXPECT_EQ(report.quality_failures_size(), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM profile_facts"), std::to_string(Creators().size()));
}

TEST_F(AggregateTest, BadTextIsQuarantinedOrCleanedAndTheRestLoads) {
  const std::vector<std::string> creators = Creators();
  // A raw invalid UTF-8 byte: the JSON parser refuses the file, and its
  // message quotes the byte.
  std::string raw = *ReadFile(StatsFile(creators[0], kToday).string());
  const size_t bio = raw.find("\"biography\"");
  ASSERT_NE(bio, std::string::npos);
  raw.insert(raw.find('"', raw.find(':', bio)) + 1, "\xff\xfe");
  ASSERT_TRUE(WriteFileAtomically(StatsFile(creators[0], kToday).string(), raw).ok());
  // NUL characters and over-long text are valid JSON: cleaned and cut.
  json stats = ReadJson(StatsFile(creators[1], kToday));
  stats["biography"] = std::string("a\0b", 3) + std::string(5000, 'x');
  stats["name"] = std::string(600, 'n');
  ASSERT_TRUE(WriteFileAtomically(StatsFile(creators[1], kToday).string(), stats.dump()).ok());

  const v1::AggregateReport report = Aggregate(kToday, kToday);
  ASSERT_EQ(report.error(), "") << report.DebugString();
  EXPECT_EQ(report.stats_quarantined(), 1);
  ASSERT_EQ(report.quarantined_size(), 1);
  EXPECT_THAT(report.quarantined(0).key(), ::testing::HasSubstr(creators[0]));
  EXPECT_TRUE(IsValidUtf8(report.quarantined(0).reason()));
  EXPECT_THAT(ToJson(report), ::testing::HasSubstr("not valid JSON"));  // It serializes.
  EXPECT_THAT(Scalar("SELECT reason FROM stats_quarantine"),
              ::testing::HasSubstr("not valid JSON"));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM profile_facts"), std::to_string(creators.size() - 1));
  EXPECT_EQ(Scalar("SELECT biography FROM profile_facts WHERE creator_id = $1", {creators[1]}),
            "ab" + std::string(4094, 'x'));
  EXPECT_EQ(
      Scalar("SELECT LENGTH(name) FROM creator_daily_stats WHERE creator_id = $1", {creators[1]}),
      "512");
}

TEST_F(AggregateTest, FactsOnlyMoveForwardUnlessBackfill) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  auto before = Facts();
  const size_t n = Creators().size();

  // An older date rerun (a late Airflow task): its stats load, the facts stay.
  v1::AggregateReport report = Aggregate(kToday - 3, kToday - 3);
  ASSERT_EQ(report.error(), "") << report.DebugString();
  EXPECT_EQ(report.facts_kept_newer(), static_cast<int64_t>(n));
  EXPECT_EQ(report.facts_written(), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM creator_daily_stats WHERE day = $1",
                   {absl::FormatCivilTime(kToday - 3)}),
            std::to_string(n));
  EXPECT_EQ(Facts(), before);

  // --backfill says to replace them.
  report =
      Aggregate(kToday - 3, kToday - 3, [](AggregateOptions& options) { options.backfill = true; });
  ASSERT_EQ(report.error(), "") << report.DebugString();
  EXPECT_EQ(report.facts_kept_newer(), 0);
  EXPECT_EQ(report.facts_written(), static_cast<int64_t>(n));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM profile_facts WHERE as_of = $1",
                   {absl::FormatCivilTime(kToday - 3)}),
            std::to_string(n));
  // And the newest date moves them forward again.
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM profile_facts WHERE as_of = $1",
                   {absl::FormatCivilTime(kToday)}),
            std::to_string(n));
}

TEST_F(AggregateTest, ReadersSeeWholeLoadsOnly) {
  ASSERT_EQ(Aggregate(kToday - 1, kToday - 1).error(), "");
  const std::string count = Scalar("SELECT COUNT(*) FROM profile_facts");
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread reader([&] {
    absl::StatusOr<std::unique_ptr<Warehouse>> w = Warehouse::Connect(dsn_);
    ASSERT_TRUE(w.ok());
    while (!done) {
      absl::StatusOr<SqlRows> rows =
          (*w)->Query("SELECT COUNT(DISTINCT load_version), COUNT(*) FROM profile_facts");
      ASSERT_TRUE(rows.ok());
      if (*rows->rows[0][0] != "1" || *rows->rows[0][1] != count) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  done = true;
  reader.join();
  EXPECT_GT(reads, 10);
  EXPECT_EQ(torn, 0);
}

TEST_F(AggregateTest, ServerAnswersProfilesFromItsSnapshot) {
  ASSERT_EQ(Aggregate(kToday - 5, kToday).error(), "");
  StartServer(absl::FromCivil(kToday + 1, absl::UTCTimeZone()));
  const auto call = [&](const std::string& id, std::optional<int> recent, v1::UserProfile& out) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetUserProfileRequest request;
    request.set_user_id(id);
    if (recent) request.set_recent_posts(*recent);
    return stub_->GetUserProfile(&context, request, &out);
  };

  const std::string id = Creators()[2];
  const Expected want = ExpectedFor(id, kToday);
  v1::UserProfile profile;
  ASSERT_TRUE(call(id, std::nullopt, profile).ok());
  EXPECT_EQ(profile.id(), id);
  EXPECT_EQ(profile.as_of(), absl::FormatCivilTime(kToday));
  EXPECT_EQ(profile.followers_count(), want.followers.rbegin()->second);
  ASSERT_EQ(profile.daily_size(), 6);
  EXPECT_EQ(profile.daily(5).date(), absl::FormatCivilTime(kToday));
  EXPECT_EQ(profile.daily(5).followers(), want.followers.rbegin()->second);
  EXPECT_EQ(profile.daily(0).has_impressions(), want.business);
  EXPECT_EQ(profile.doc_count(), want.posts);
  EXPECT_EQ(profile.is_business(), want.business);
  EXPECT_EQ(profile.recent_posts_error(), "");
  ASSERT_EQ(profile.recent_posts_size(), std::min<int64_t>(12, want.posts + 0));
  for (int i = 1; i < profile.recent_posts_size(); ++i) {
    EXPECT_GE(FromTimestamp(profile.recent_posts(i - 1).timestamp()),
              FromTimestamp(profile.recent_posts(i).timestamp()));
    EXPECT_EQ(profile.recent_posts(i).owner_id(), id);
  }
  ASSERT_TRUE(call(id, 0, profile).ok());
  EXPECT_EQ(profile.recent_posts_size(), 0);

  EXPECT_EQ(call("17841000000999999", std::nullopt, profile).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(call("abc'; DROP TABLE x", std::nullopt, profile).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call(id, 51, profile).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AggregateTest, ProfilesComeBackWithoutRecentPostsWhenElasticsearchIsDown) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  StartServer(absl::FromCivil(kToday + 1, absl::UTCTimeZone()),
              "http://127.0.0.1:9");  // Nobody listens there.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::GetUserProfileRequest request;
  request.set_user_id(Creators()[0]);
  v1::UserProfile profile;
  const grpc::Status status = stub_->GetUserProfile(&context, request, &profile);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(profile.id(), Creators()[0]);
  EXPECT_GT(profile.followers_count(), 0);
  EXPECT_EQ(profile.recent_posts_size(), 0);
  EXPECT_THAT(profile.recent_posts_error(), ::testing::HasSubstr("UNAVAILABLE"));
}

TEST_F(AggregateTest, ProfileSnapshotSurvivesAWarehouseOutage) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  server::ProfileStore store(Connector(), absl::Hours(1));
  ASSERT_TRUE(store.Refresh().ok());
  const auto first = store.Current();
  ASSERT_EQ(first->profiles.size(), Creators().size());

  // A new load happens, then the warehouse "goes down".
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  TakeWarehouseDown();
  EXPECT_FALSE(store.Refresh().ok());
  EXPECT_EQ(store.Current(), first);  // Still serving the last good one.

  warehouse_down_ = false;  // Back: the next refresh picks up the new version.
  ASSERT_TRUE(store.Refresh().ok());
  EXPECT_GT(store.Current()->version, first->version);
  EXPECT_EQ(store.Current()->profiles.size(), first->profiles.size());
}

TEST_F(AggregateTest, UnreadableRowIsSkippedAndUnknownCountsStayAbsent) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  const std::vector<std::string> creators = Creators();
  server::ProfileStore store(Connector(), absl::Hours(1));
  ASSERT_TRUE(store.Refresh().ok());
  const int64_t first = store.Current()->version;
  EXPECT_TRUE(store.Current()->profiles.at(creators[1]).ToProto().has_follows_count());

  ASSERT_TRUE(warehouse_
                  ->Exec("UPDATE profile_facts SET daily_json = '[{\"date\": 5}' "
                         "WHERE creator_id = $1",
                         {creators[0]})
                  .ok());
  ASSERT_TRUE(warehouse_
                  ->Exec("UPDATE profile_facts SET follows_count = NULL, media_count = NULL "
                         "WHERE creator_id = $1",
                         {creators[1]})
                  .ok());
  const double skipped = MetricValue("scout_profile_rows_skipped_total");
  ASSERT_EQ(Aggregate(kToday - 1, kToday - 1).error(), "");  // A new version; facts kept.
  ASSERT_TRUE(store.Refresh().ok());
  const auto snapshot = store.Current();
  EXPECT_GT(snapshot->version, first);  // Not frozen by the bad row.
  EXPECT_EQ(snapshot->profiles.size(), creators.size() - 1);
  EXPECT_FALSE(snapshot->profiles.contains(creators[0]));
  EXPECT_EQ(MetricValue("scout_profile_rows_skipped_total"), skipped + 1);
  const v1::UserProfile unknown = snapshot->profiles.at(creators[1]).ToProto();
  EXPECT_FALSE(unknown.has_follows_count());  // Unknown, not 0.
  EXPECT_FALSE(unknown.has_media_count());
  EXPECT_GT(unknown.followers_count(), 0);
}

TEST_F(AggregateTest, SnapshotMetricsShowAnOutageAndTheRecovery) {
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  server::ProfileStore store(Connector(), absl::Milliseconds(100));
  const auto eventually = [](auto condition) {
    for (absl::Time until = absl::Now() + absl::Seconds(10); absl::Now() < until;
         absl::SleepFor(absl::Milliseconds(50))) {
      if (condition()) return true;
    }
    return false;
  };
  const auto age = [] { return MetricValue("scout_profile_snapshot_age_seconds"); };
  store.Start();
  // The gauges are process-wide: an earlier test's store may have left the
  // same profile count, so wait for this store's own first snapshot too.
  ASSERT_TRUE(eventually([&] {
    return store.Current()->version > 0 &&
           MetricValue("scout_profile_snapshot_version") == store.Current()->version &&
           MetricValue("scout_profile_snapshot_profiles") == Creators().size();
  }));
  EXPECT_EQ(MetricValue("scout_profile_snapshot_version"), store.Current()->version);
  EXPECT_LT(age(), 1.0);

  const double errors = MetricValue("scout_backend_errors_total", {{"backend", "warehouse"}});
  TakeWarehouseDown();
  // The age is what an alert watches: it grows while nothing confirms the snapshot.
  EXPECT_TRUE(eventually([&] { return age() > 1.0; })) << age();
  EXPECT_GT(MetricValue("scout_backend_errors_total", {{"backend", "warehouse"}}), errors);

  warehouse_down_ = false;
  EXPECT_TRUE(eventually([&] { return age() < 0.5; })) << age();
}

// --- Issue 11: creator content, tier benchmarks and platform numbers ---

// A creator's content from the lake's post files alone.
struct ExpectedContent {
  struct Tag {
    int64_t count = 0;
    std::string shown;
  };
  int64_t posts_90d = 0;
  std::map<std::string, Tag> hashtags, mentions;  // By folded key.
  std::vector<std::string> captions;              // Newest first, cut to the budget.
  std::optional<absl::Time> last_post_at;
  int64_t reach_posts = 0, impressions_posts = 0;
  double reach_sum = 0, impressions_sum = 0;
};

// The tags of a lake post as scout-ingest would index them: the field's
// list, then those of the caption, without '#'/'@', one per folded key.
std::vector<std::string> LakeTags(const json& post, const char* field, bool hashtags) {
  std::vector<std::string> found = SplitList(
      post.contains(field) && post[field].is_string() ? post[field].get<std::string>() : "");
  const std::string caption = post.value("caption", "");
  for (std::string& tag : hashtags ? ExtractHashtags(caption) : ExtractMentions(caption)) {
    found.push_back(std::move(tag));
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::string tag : found) {
    if (TagKey(tag).empty() || !seen.insert(TagKey(tag)).second) continue;
    while (!tag.empty() && (tag[0] == '#' || tag[0] == '@')) tag.erase(0, 1);
    out.push_back(tag);
  }
  return out;
}

// Quantile by linear interpolation between closest ranks, as PERCENTILE_CONT.
double Quantile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = static_cast<size_t>(std::ceil(rank));
  return values[lo] + (rank - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

class CreatorContentTest : public AggregateTest {
 protected:
  ExpectedContent ContentFor(const std::string& id, absl::CivilDay day) {
    const absl::Time end = absl::FromCivil(day + 1, absl::UTCTimeZone());
    const absl::Time start = end - absl::Hours(24 * 90);
    const absl::Time recent = end - absl::Hours(24 * 30);
    std::vector<std::pair<absl::Time, json>> posts;
    for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/posts" / id)) {
      json post = ReadJson(entry.path());
      if (!post.is_object()) continue;
      const absl::StatusOr<absl::Time> t = ParseTime(post.value("timestamp", ""));
      if (!t.ok() || *t < start || *t >= end) continue;
      posts.emplace_back(*t, std::move(post));
    }
    // Newest first; the spelling shown is the oldest post's.
    std::sort(posts.begin(), posts.end(), [](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      return a.second.value("id", "") < b.second.value("id", "");
    });
    ExpectedContent e;
    size_t caption_bytes = 0;
    for (const auto& [t, post] : posts) {
      ++e.posts_90d;
      if (!e.last_post_at) e.last_post_at = t;
      for (const std::string& tag : LakeTags(post, "hashtags", true)) {
        auto& tally = e.hashtags[TagKey(tag)];
        ++tally.count;
        tally.shown = tag;
      }
      for (const std::string& tag : LakeTags(post, "mentioned_users", false)) {
        auto& tally = e.mentions[TagKey(tag)];
        ++tally.count;
        tally.shown = tag;
      }
      const std::string caption = post.value("caption", "");
      if (!caption.empty() && e.captions.size() < 20 && caption_bytes < 8192) {
        std::string kept = WarehouseText(caption, 8192 - caption_bytes);
        caption_bytes += kept.size();
        if (!kept.empty()) e.captions.push_back(kept);
      }
      if (t >= recent) {
        if (post.contains("reach")) {
          ++e.reach_posts;
          e.reach_sum += post["reach"].get<double>();
        }
        if (post.contains("impressions")) {
          ++e.impressions_posts;
          e.impressions_sum += post["impressions"].get<double>();
        }
      }
    }
    return e;
  }

  std::map<std::string, CreatorContentRow> Contents() {
    std::map<std::string, CreatorContentRow> out;
    absl::StatusOr<SqlRows> rows = warehouse_->Query(SelectCreatorContent());
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (size_t i = 0; rows.ok() && i < rows->rows.size(); ++i) {
      absl::StatusOr<CreatorContentRow> row = ReadCreatorContent(*rows, i);
      EXPECT_TRUE(row.ok()) << row.status();
      if (row.ok()) out[row->creator_id] = *std::move(row);
    }
    return out;
  }

  std::map<std::string, ProfileFactsRow> FactRows() {
    std::map<std::string, ProfileFactsRow> out;
    absl::StatusOr<SqlRows> rows = warehouse_->Query(SelectProfileFacts());
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (size_t i = 0; rows.ok() && i < rows->rows.size(); ++i) {
      absl::StatusOr<ProfileFactsRow> row = ReadProfileFacts(*rows, i);
      EXPECT_TRUE(row.ok()) << row.status();
      if (row.ok()) out[row->creator_id] = *std::move(row);
    }
    return out;
  }

  // Every row of the issue-11 tables as text, minus the columns a rerun
  // changes by design (load_version, updated_at, computed_at).
  std::string Tables() {
    std::string out;
    for (const std::string& sql : std::vector<std::string>{
             absl::StrCat(SelectCreatorContent(), " ORDER BY creator_id"),
             "SELECT creator_id, last_post_at, avg_reach, avg_impressions, topics_json "
             "FROM profile_facts ORDER BY creator_id",
             "SELECT as_of, tier, creators, engagement_p25, engagement_median, engagement_p75 "
             "FROM tier_benchmarks ORDER BY as_of, tier",
             "SELECT as_of, tier, centile, max_engagement_rate FROM tier_centiles "
             "ORDER BY as_of, tier, centile",
             "SELECT as_of, creators, business_creators, posts_30d, median_followers, "
             "median_engagement_rate FROM platform_daily ORDER BY as_of"}) {
      absl::StatusOr<SqlRows> rows = warehouse_->Query(sql);
      EXPECT_TRUE(rows.ok()) << rows.status();
      for (size_t i = 0; rows.ok() && i < rows->rows.size(); ++i) {
        for (const SqlValue& v : rows->rows[i]) absl::StrAppend(&out, v.value_or("NULL"), "\t");
        out += "\n";
      }
      out += "--\n";
    }
    return out;
  }
};

void ExpectTags(const std::vector<v1::TagCount>& got,
                const std::map<std::string, ExpectedContent::Tag>& want, const std::string& id) {
  std::vector<std::pair<std::string, ExpectedContent::Tag>> sorted(want.begin(), want.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.first < b.first;
  });
  if (sorted.size() > 50) sorted.resize(50);
  ASSERT_EQ(got.size(), sorted.size()) << id;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tag(), sorted[i].second.shown) << id << " #" << i;
    EXPECT_EQ(got[i].count(), sorted[i].second.count) << id << " #" << i;
  }
}

TEST_F(CreatorContentTest, ContentMatchesTheLakesPosts) {
  const v1::AggregateReport report = Aggregate(kToday - 1, kToday);
  ASSERT_EQ(report.error(), "") << report.DebugString();
  EXPECT_GT(report.content_posts_read(), 0);
  const auto contents = Contents();
  const auto facts = FactRows();
  const std::vector<std::string> creators = Creators();
  ASSERT_EQ(contents.size(), creators.size());
  int with_tags = 0, with_mentions = 0, business_with_reach = 0, basic = 0;
  const json topics_truth = ReadJson(root_ / "cdn/topics.json");
  ASSERT_TRUE(topics_truth.is_object()) << "genlake wrote no topics.json";
  for (const std::string& id : creators) {
    SCOPED_TRACE(id);
    const ExpectedContent want = ContentFor(id, kToday);
    const CreatorContentRow& got = contents.at(id);
    const ProfileFactsRow& fact = facts.at(id);
    EXPECT_EQ(got.as_of, kToday);
    EXPECT_EQ(got.posts_90d, want.posts_90d);
    ExpectTags(got.hashtags, want.hashtags, id);
    ExpectTags(got.mentions, want.mentions, id);
    EXPECT_EQ(got.captions, want.captions);
    EXPECT_EQ(fact.last_post_at, want.last_post_at);
    // Topics: genlake's ground truth is each creator's main topic; shares
    // are fractions of the 90 days' posts, largest first, at most 3.
    ASSERT_EQ(fact.topics.size(), got.topics.size());
    ASSERT_FALSE(got.topics.empty());
    ASSERT_LE(got.topics.size(), 3u);
    for (size_t i = 0; i < got.topics.size(); ++i) {
      EXPECT_EQ(fact.topics[i].slug(), got.topics[i].slug());
      EXPECT_EQ(fact.topics[i].share(), got.topics[i].share());
      EXPECT_GT(got.topics[i].share(), 0);
      EXPECT_LE(got.topics[i].share(), 1);
      // A share is a count of posts over posts_90d.
      const double posts = got.topics[i].share() * static_cast<double>(want.posts_90d);
      EXPECT_NEAR(posts, std::round(posts), 1e-6);
      if (i > 0) {
        EXPECT_LE(got.topics[i].share(), got.topics[i - 1].share());
      }
    }
    const auto truth = topics_truth.find(id);
    ASSERT_NE(truth, topics_truth.end());
    EXPECT_EQ(got.topics[0].slug(), truth->get<std::string>());
    with_tags += !want.hashtags.empty();
    with_mentions += !want.mentions.empty();
    if (fact.is_business && want.reach_posts > 0) {
      ++business_with_reach;
      ASSERT_TRUE(fact.avg_reach.has_value());
      EXPECT_NEAR(*fact.avg_reach, want.reach_sum / static_cast<double>(want.reach_posts), 1e-9);
      ASSERT_TRUE(fact.avg_impressions.has_value());
      EXPECT_NEAR(*fact.avg_impressions,
                  want.impressions_sum / static_cast<double>(want.impressions_posts), 1e-9);
    } else {
      EXPECT_EQ(fact.avg_reach, std::nullopt);  // Absent, never 0.
      EXPECT_EQ(fact.avg_impressions, std::nullopt);
      basic += !fact.is_business;
    }
  }
  EXPECT_GT(with_tags, 0);
  EXPECT_GT(with_mentions, 0);
  EXPECT_GT(business_with_reach, 0);
  EXPECT_GT(basic, 0);
}

TEST_F(CreatorContentTest, BenchmarksCentilesAndPlatformMatchTheFacts) {
  // Other shards' creators (the benchmarks cover every profile_facts row):
  // 250 nano creators, enough for NTILE(100) to put 2 or 3 in a centile,
  // with ties, and some without an engagement rate (they do not count).
  ASSERT_TRUE(Migrate(*warehouse_).ok());
  std::string others;
  for (int i = 0; i < 250; ++i) {
    ProfileFactsRow row;
    row.creator_id = absl::StrCat(900000000 + i);
    row.as_of = kToday;
    row.followers_count = 1000 + 31 * i;
    row.is_business = i % 3 == 0;
    row.doc_count = i % 7;
    if (i % 10 != 0) row.engagement_rate = static_cast<double>(i % 97) / 1000;
    std::vector<SqlValue> values = ProfileFactsValues(row);
    values.push_back("1");
    values.push_back("2026-11-20T00:00:00Z");
    AppendCopyRow(values, others);
  }
  ASSERT_TRUE(warehouse_
                  ->CopyIn(absl::StrCat("COPY profile_facts (", kProfileFactsColumns, ", ",
                                        kProfileFactsLoadColumns, ") FROM STDIN"),
                           others)
                  .ok());
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  const auto facts = FactRows();
  std::map<std::string, std::vector<double>> rates;  // By tier.
  std::vector<double> all_rates, followers;
  int64_t business = 0, posts = 0;
  for (const auto& [id, fact] : facts) {
    followers.push_back(static_cast<double>(fact.followers_count));
    business += fact.is_business;
    posts += fact.doc_count;
    if (!fact.engagement_rate) continue;
    rates[std::string(TierSlug(TierOf(fact.followers_count)))].push_back(*fact.engagement_rate);
    all_rates.push_back(*fact.engagement_rate);
  }
  ASSERT_GT(rates["nano"].size(), 200u);
  const std::string day = absl::FormatCivilTime(kToday);

  absl::StatusOr<SqlRows> bench = warehouse_->Query(
      "SELECT tier, creators, engagement_p25, engagement_median, engagement_p75 "
      "FROM tier_benchmarks WHERE as_of = CAST($1 AS DATE) ORDER BY tier",
      {day});
  ASSERT_TRUE(bench.ok()) << bench.status();
  ASSERT_EQ(bench->rows.size(), rates.size());
  for (const auto& row : bench->rows) {
    const std::vector<double>& tier = rates.at(*row[0]);
    SCOPED_TRACE(*row[0]);
    EXPECT_EQ(*row[1], std::to_string(tier.size()));
    EXPECT_NEAR(Double(row[2]), Quantile(tier, 0.25), 1e-12);
    EXPECT_NEAR(Double(row[3]), Quantile(tier, 0.5), 1e-12);
    EXPECT_NEAR(Double(row[4]), Quantile(tier, 0.75), 1e-12);
  }

  // NTILE(100): the first n % 100 centiles hold one row more; each row of
  // the table is the largest rate of its centile.
  absl::StatusOr<SqlRows> centiles = warehouse_->Query(
      "SELECT tier, centile, max_engagement_rate FROM tier_centiles "
      "WHERE as_of = CAST($1 AS DATE) ORDER BY tier, centile",
      {day});
  ASSERT_TRUE(centiles.ok()) << centiles.status();
  std::vector<std::tuple<std::string, int, double>> want_centiles;
  for (auto [tier, values] : rates) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size(), buckets = std::min<size_t>(100, n);
    size_t at = 0;
    for (size_t c = 0; c < buckets; ++c) {
      const size_t size = n / 100 + (c < n % 100 ? 1 : 0);
      at += size == 0 ? 1 : size;
      want_centiles.emplace_back(tier, static_cast<int>(c + 1), values[at - 1]);
    }
  }
  ASSERT_EQ(centiles->rows.size(), want_centiles.size());
  for (size_t i = 0; i < want_centiles.size(); ++i) {
    EXPECT_EQ(*centiles->rows[i][0], std::get<0>(want_centiles[i]));
    EXPECT_EQ(*centiles->rows[i][1], std::to_string(std::get<1>(want_centiles[i])));
    EXPECT_NEAR(Double(centiles->rows[i][2]), std::get<2>(want_centiles[i]), 1e-15);
  }

  absl::StatusOr<SqlRows> platform = warehouse_->Query(
      "SELECT creators, business_creators, posts_30d, median_followers, median_engagement_rate "
      "FROM platform_daily WHERE as_of = CAST($1 AS DATE)",
      {day});
  ASSERT_TRUE(platform.ok()) << platform.status();
  ASSERT_EQ(platform->rows.size(), 1u);
  const auto& p = platform->rows[0];
  EXPECT_EQ(*p[0], std::to_string(facts.size()));
  EXPECT_EQ(*p[1], std::to_string(business));
  EXPECT_EQ(*p[2], std::to_string(posts));
  EXPECT_NEAR(Double(p[3]), Quantile(followers, 0.5), 1e-9);
  EXPECT_NEAR(Double(p[4]), Quantile(all_rates, 0.5), 1e-12);
}

TEST_F(CreatorContentTest, RerunGivesIdenticalTables) {
  ASSERT_EQ(Aggregate(kToday - 1, kToday).error(), "");
  const std::string first = Tables();
  ASSERT_EQ(Aggregate(kToday, kToday).error(), "");
  EXPECT_EQ(Tables(), first);
  // A rerun of an older date keeps the newer facts and their content.
  ASSERT_EQ(Aggregate(kToday - 1, kToday - 1).error(), "");
  const std::string older = Tables();
  EXPECT_EQ(older.substr(0, older.find("--\n")), first.substr(0, first.find("--\n")));
}

}  // namespace
}  // namespace scout::aggregate
