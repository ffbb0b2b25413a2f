// scout-ingest against the real local Elasticsearch on a generated lake:
// values as written in the lake files, change detection across days,
// quarantine, and recovery from a backend failing half-way.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/media_fetch.h"
#include "common/backends/post_index.h"
#include "common/base/shard.h"
#include "common/base/time.h"
#include "common/io/files.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"
#include "tests/es_fixture.h"
#include "tests/lake_fixture.h"
#include "tools/genlake/genlake.h"
#include "workers/ingest/ingest.h"

namespace scout::ingest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);

// What the lake holds, read straight from its files (not through the normalizer).
struct RawPost {
  json fields;
  std::string key;
};
std::map<std::string, RawPost> ReadRawPosts(const fs::path& lake) {
  std::map<std::string, RawPost> posts;
  for (const auto& entry : fs::recursive_directory_iterator(lake / "instagram_graph/posts")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    json fields = json::parse(in, nullptr, false);
    // Only well-formed posts: the malformed ones are the quarantine's.
    if (!fields.is_object() || !fields.contains("id") || !fields["id"].is_string() ||
        !fields.contains("timestamp") || !fields["timestamp"].is_string() ||
        !ParseTime(fields["timestamp"].get<std::string>()).ok() ||
        (fields.contains("like_count") && !fields["like_count"].is_number_integer())) {
      continue;
    }
    posts[fields["id"]] = {fields, fs::relative(entry.path(), lake).string()};
  }
  return posts;
}

// Passes requests through, but answers _bulk calls as told: fail after
// `bulk_successes` (Elasticsearch died) or answer 429 for the first
// `bulk_throttles` (Elasticsearch overloaded).
class FaultyHttp final : public HttpClient {
 public:
  explicit FaultyHttp(HttpClient* real) : real_(real) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (absl::StrContains(request.url, "/_bulk")) {
      if (throttles_left_ > 0) {
        --throttles_left_;
        HttpResponse throttled;
        throttled.status = 429;
        throttled.body = R"({"error":{"type":"es_rejected_execution_exception"}})";
        return throttled;
      }
      if (bulk_successes_ >= 0 && bulk_calls_++ >= bulk_successes_) {
        return absl::UnavailableError("connection refused (injected)");
      }
      if (reject_quarantine_deletes_) return RejectQuarantineDeletes(request);
    }
    return real_->Send(request);
  }
  // Elasticsearch does the bulk, but its answer says each delete from the
  // quarantine index was refused (as a version conflict or a block would).
  absl::StatusOr<HttpResponse> RejectQuarantineDeletes(const HttpRequest& request) {
    absl::StatusOr<HttpResponse> response = real_->Send(request);
    if (!response.ok()) return response;
    json answer = json::parse(response->body);
    for (json& item : answer["items"]) {
      if (!item.contains("delete") ||
          !absl::EndsWith(item["delete"]["_index"].get<std::string>(), ".quarantine")) {
        continue;
      }
      item["delete"]["status"] = 409;
      item["delete"]["error"] = {{"type", "version_conflict_engine_exception"},
                                 {"reason", "injected"}};
      answer["errors"] = true;
      ++deletes_rejected_;
    }
    response->body = answer.dump();
    return response;
  }
  std::atomic<bool> reject_quarantine_deletes_{false};
  std::atomic<int> deletes_rejected_{0};
  std::atomic<int> bulk_successes_{-1};  // Then dead for good; -1: never.
  std::atomic<int> bulk_calls_{0};
  std::atomic<int> throttles_left_{0};

 private:
  HttpClient* const real_;
};

class IngestTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 12;
    options.days = 60;
    options.seed = 11;
    options.malformed_rate = 0.04;
    absl::StatusOr<genlake::Summary> summary = genlake::Generate(options, 2);
    ASSERT_TRUE(summary.ok()) << summary.status();
    generated_ = *summary;
    lake_ = NewLocalLake(options.lake);
    media_ = NewLocalMediaStore((root_ / "media").string(), "");
  }
  void TearDown() override {
    fs::remove_all(root_);
    ElasticTest::TearDown();
  }

  v1::IngestReport Ingest(absl::CivilDay day, HttpClient* http, size_t batch_files = 2000,
                          Shard shard = Shard()) {
    const std::unique_ptr<Clock> clock =
        NewFixedClock(absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(12));
    Elastic elastic(http, es_url_);
    IngestOptions options;
    options.index_prefix = prefix_;
    options.batch_files = batch_files;
    options.bulk_backoff = absl::Milliseconds(10);
    options.media.first_backoff = absl::Milliseconds(1);
    options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    options.shard = shard;
    return scout::testing::IngestLake(root_, *lake_, elastic, *media_, *http, *clock, options);
  }

  json Stored(const std::string& post_id) {
    absl::StatusOr<json> answer = elastic_->Call("POST", absl::StrCat(prefix_, "/_search"),
                                                 json{{"query", {{"term", {{"id", post_id}}}}}});
    if (!answer.ok() || (*answer)["hits"]["hits"].empty()) return nullptr;
    return (*answer)["hits"]["hits"][0]["_source"];
  }

  // The API client rewrites a quarantined file with good content: a post
  // `post_id` captioned "repaired".
  void FixQuarantined(const std::string& key, const std::string& post_id) {
    const std::string owner = fs::path(key).parent_path().filename().string();
    const json fixed = {
        {"id", post_id},
        {"media_type", "STORY_IMAGE"},
        {"timestamp", absl::StrCat(absl::FormatCivilTime(kToday), "T10:00:00+0000")},
        {"caption", "repaired"},
        {"owner", {{"id", owner}}}};
    ASSERT_TRUE(WriteFileAtomically((root_ / "lake" / key).string(), fixed.dump()).ok());
  }

  int64_t Malformed() const {
    int64_t n = 0;
    for (int64_t count : generated_.malformed) n += count;
    return n;
  }

  fs::path root_;
  genlake::Summary generated_;
  std::unique_ptr<Lake> lake_;
  std::unique_ptr<MediaStore> media_;
};

TEST_F(IngestTest, IndexesWhatTheLakeSaysAndSkipsWhatDidNotChange) {
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_EQ(first.error(), "");
  const auto raw = ReadRawPosts(root_ / "lake");
  const absl::Time window_start =
      absl::FromCivil(kToday, absl::UTCTimeZone()) + absl::Hours(12) - kSearchWindow;
  int64_t in_window = 0;
  for (const auto& [id, post] : raw) {
    if (*ParseTime(post.fields["timestamp"].get<std::string>()) >= window_start) ++in_window;
  }
  ASSERT_GT(in_window, 100);
  EXPECT_EQ(first.files_quarantined(), Malformed());
  EXPECT_GT(first.files_quarantined(), 0);
  EXPECT_EQ(first.posts_indexed() + first.files_too_old() + first.files_quarantined(),
            first.files_listed());
  EXPECT_EQ(Count(prefix_), first.posts_indexed());
  EXPECT_EQ(Count(QuarantineIndex(prefix_)), first.files_quarantined());
  EXPECT_EQ(first.media_failed(), 0);
  EXPECT_GT(first.media_fetched(), first.posts_indexed() - 1);

  // Every stored post carries the lake's values; absent metrics stay absent.
  int checked = 0;
  for (const auto& [id, post] : raw) {
    const json stored = Stored(id);
    if (stored.is_null()) continue;
    ++checked;
    const json& f = post.fields;
    EXPECT_EQ(stored.value("caption", ""), f.value("caption", ""));
    EXPECT_EQ(stored.contains("like_count"), f.contains("like_count")) << id;
    if (f.contains("like_count")) {
      EXPECT_EQ(stored["like_count"], std::to_string(f["like_count"].get<int64_t>())) << id;
    }
    EXPECT_EQ(stored.contains("reach"), f.contains("reach")) << id;
    ASSERT_FALSE(stored["media"].empty()) << id;
    const std::string url = stored["media"][0]["url"];
    ASSERT_TRUE(absl::StartsWith(url, "file://")) << url;
    EXPECT_TRUE(fs::exists(url.substr(7))) << url;
    if (checked == 40) break;
  }
  EXPECT_EQ(checked, 40);

  // Nothing touched: nothing read.
  const v1::IngestReport again = Ingest(kToday, http_.get());
  EXPECT_EQ(again.files_untouched(), again.files_listed());
  EXPECT_EQ(again.posts_indexed(), 0);
  EXPECT_EQ(again.bytes_read(), 0);

  // The next day: the API client rewrote every creator's newest 25 posts.
  absl::StatusOr<genlake::Summary> next = genlake::Advance((root_ / "lake").string(), 2);
  ASSERT_TRUE(next.ok()) << next.status();
  const v1::IngestReport day2 = Ingest(kToday + 1, http_.get());
  ASSERT_EQ(day2.error(), "");
  EXPECT_GT(day2.files_unchanged(), 0);  // Rewritten, same bytes: no write.
  EXPECT_GT(day2.files_untouched(), 0);  // Older posts: not even read.
  EXPECT_GE(day2.posts_indexed(), next->posts_new);
  EXPECT_LT(day2.posts_indexed(), next->posts_rewritten);
  EXPECT_EQ(day2.media_fetched() > 0, next->posts_new > 0);
  // Likes that grew are what the index says now.
  int grown = 0;
  for (const auto& [id, post] : ReadRawPosts(root_ / "lake")) {
    if (!post.fields.contains("like_count") || !raw.contains(id) ||
        raw.at(id).fields["like_count"] == post.fields["like_count"]) {
      continue;
    }
    const json stored = Stored(id);
    ASSERT_FALSE(stored.is_null()) << id;
    EXPECT_EQ(stored["like_count"], std::to_string(post.fields["like_count"].get<int64_t>()));
    ++grown;
  }
  EXPECT_GT(grown, 0);
}

// A lake whose reads take a while, as S3 GETs do: counts how many were in
// flight at once.
class SlowLake final : public Lake {
 public:
  explicit SlowLake(Lake* real) : real_(real) {}
  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) override {
    return real_->List(prefix);
  }
  absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) override {
    return real_->ListFiles(prefix, visit);
  }
  absl::StatusOr<std::string> Read(absl::string_view key) override {
    const int now = ++in_flight_;
    for (int seen = most_in_flight_;
         now > seen && !most_in_flight_.compare_exchange_weak(seen, now);) {
    }
    absl::SleepFor(absl::Milliseconds(3));
    --in_flight_;
    return real_->Read(key);
  }
  std::atomic<int> in_flight_{0};
  std::atomic<int> most_in_flight_{0};

 private:
  Lake* const real_;
};

TEST_F(IngestTest, LakeReadsOverlapBeyondTheCores) {
  SlowLake slow(lake_.get());
  const std::unique_ptr<Clock> clock =
      NewFixedClock(absl::FromCivil(kToday, absl::UTCTimeZone()) + absl::Hours(12));
  Elastic elastic(http_.get(), es_url_);
  IngestOptions options;
  options.index_prefix = prefix_;
  options.fetch_media = false;
  const v1::IngestReport report =
      scout::testing::IngestLake(root_, slow, elastic, *media_, *http_, *clock, options);
  ASSERT_EQ(report.error(), "");
  EXPECT_EQ(report.posts_indexed() + report.files_too_old() + report.files_quarantined(),
            report.files_listed());
  EXPECT_GE(slow.most_in_flight_.load(), options.read_threads / 2);
}

TEST_F(IngestTest, BackendDyingHalfWayLosesAndDuplicatesNothing) {
  FaultyHttp faulty(http_.get());
  faulty.bulk_successes_ = 3;  // Elasticsearch goes away after three bulks.
  const v1::IngestReport broken = Ingest(kToday, &faulty, /*batch_files=*/40);
  EXPECT_THAT(broken.error(), ::testing::HasSubstr("injected"));
  EXPECT_GT(broken.posts_indexed(), 0);

  const v1::IngestReport resumed = Ingest(kToday, http_.get());
  ASSERT_EQ(resumed.error(), "");
  // What the broken run committed is not redone...
  EXPECT_GE(resumed.files_untouched(), broken.posts_indexed() + broken.files_too_old());
  const int64_t indexed = broken.posts_indexed() + resumed.posts_indexed();
  // ...and together they index exactly what an undisturbed run would.
  fs::remove(root_ / "ingest-0.ckpt");
  fs::remove(root_ / "ingest-0.ckpt.journal");
  const v1::IngestReport undisturbed = Ingest(kToday, http_.get());
  ASSERT_EQ(undisturbed.error(), "");
  EXPECT_EQ(indexed, undisturbed.posts_indexed());
  EXPECT_EQ(Count(prefix_), undisturbed.posts_indexed());
}

TEST_F(IngestTest, OverloadedElasticsearchIsRetriedWithBackoff) {
  FaultyHttp faulty(http_.get());
  faulty.throttles_left_ = 2;
  const v1::IngestReport report = Ingest(kToday, &faulty);
  ASSERT_EQ(report.error(), "");
  EXPECT_EQ(faulty.throttles_left_, 0);
  EXPECT_EQ(Count(prefix_), report.posts_indexed());
}

TEST_F(IngestTest, AFixedFileLeavesTheQuarantine) {
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_GT(first.quarantined_size(), 0);
  ASSERT_NO_FATAL_FAILURE(FixQuarantined(first.quarantined(0).key(), "fixed-1"));
  const v1::IngestReport second = Ingest(kToday, http_.get());
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.posts_indexed(), 1);
  EXPECT_EQ(Count(QuarantineIndex(prefix_)), first.files_quarantined() - 1);
  EXPECT_EQ(Stored("fixed-1").value("caption", ""), "repaired");
}

TEST_F(IngestTest, ARefusedQuarantineDeleteNeverRelabelsAGoodPost) {
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_GT(first.quarantined_size(), 0);
  const std::string key = first.quarantined(0).key();
  ASSERT_NO_FATAL_FAILURE(FixQuarantined(key, "fixed-2"));

  FaultyHttp faulty(http_.get());
  faulty.reject_quarantine_deletes_ = true;
  const v1::IngestReport refused = Ingest(kToday, &faulty);
  EXPECT_EQ(faulty.deletes_rejected_, 1);
  // The run says what failed; the good post is not counted as quarantined,
  // and no quarantine record claims Elasticsearch rejected it.
  EXPECT_THAT(refused.error(), ::testing::HasSubstr("rejected a quarantine delete"));
  EXPECT_EQ(refused.files_quarantined(), 0);
  // The failed run never got to its refresh.
  ASSERT_TRUE(elastic_->Call("POST", absl::StrCat(prefix_, "*/_refresh")).ok());
  ASSERT_TRUE(Stored("fixed-2").is_object());
  EXPECT_EQ(Stored("fixed-2").value("caption", ""), "repaired");
  absl::StatusOr<json> record =
      elastic_->Call("POST", absl::StrCat(QuarantineIndex(prefix_), "/_search"),
                     json{{"query", {{"term", {{"key", key}}}}}});
  ASSERT_TRUE(record.ok()) << record.status();
  for (const json& hit : (*record)["hits"]["hits"]) {
    EXPECT_THAT(hit["_source"]["reason"].get<std::string>(),
                ::testing::Not(::testing::HasSubstr("rejected the document")));
  }

  // Not committed, so the next (healthy) run finishes the job.
  const v1::IngestReport second = Ingest(kToday, http_.get());
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.posts_indexed(), 1);
  EXPECT_EQ(second.files_quarantined(), 0);
  EXPECT_EQ(Count(QuarantineIndex(prefix_)), first.files_quarantined() - 1);
}

TEST_F(IngestTest, EveryPostCarriesItsOwnersShardBucket) {
  ASSERT_EQ(Ingest(kToday, http_.get()).error(), "");
  absl::StatusOr<json> answer = elastic_->Call(
      "POST", absl::StrCat(prefix_, "/_search"),
      json{{"size", 1000}, {"_source", {post_field::kOwnerId, post_field::kShardBucket}}});
  ASSERT_TRUE(answer.ok()) << answer.status();
  const json& hits = (*answer)["hits"]["hits"];
  ASSERT_GT(hits.size(), 10u);
  for (const json& hit : hits) {
    const json& source = hit["_source"];
    EXPECT_EQ(source[post_field::kShardBucket].get<int>(),
              ShardBucket(source[post_field::kOwnerId].get<std::string>()));
  }
}

TEST_F(IngestTest, MonthsPastTheWindowAreDroppedAndPastMonthsMerged) {
  // A month whose every post is older than 180 days, left from long ago.
  const std::string expired = absl::StrCat(prefix_, "-2025.01");
  ASSERT_TRUE(elastic_->Call("PUT", expired).ok());
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_EQ(first.error(), "");
  EXPECT_THAT(first.indices_dropped(), ::testing::ElementsAre(expired));
  EXPECT_TRUE(absl::IsNotFound(elastic_->Call("GET", expired).status()));

  // A later write to a past month (the daily rewrites do that) leaves a
  // second segment; the next ingest merges the month back to one.
  const std::string october = absl::StrCat(prefix_, "-2026.10");
  ASSERT_TRUE(
      elastic_
          ->Call("PUT", absl::StrCat(october, "/_doc/extra?refresh=true"), json{{"id", "extra"}})
          .ok());
  const v1::IngestReport second = Ingest(kToday, http_.get());
  ASSERT_EQ(second.error(), "");
  EXPECT_THAT(second.indices_merged(), ::testing::Contains(october));
  absl::StatusOr<json> segments = elastic_->Call("GET", absl::StrCat(october, "/_segments"));
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ((*segments)["indices"][october]["shards"]["0"][0]["num_search_segments"], 1);
}

TEST_F(IngestTest, ShardsSplitTheCreatorsWithoutOverlap) {
  const v1::IngestReport first = Ingest(kToday, http_.get(), 2000, *Shard::Parse("0/2"));
  const v1::IngestReport second = Ingest(kToday, http_.get(), 2000, *Shard::Parse("1/2"));
  ASSERT_EQ(first.error(), "");
  ASSERT_EQ(second.error(), "");
  EXPECT_GT(first.files_listed(), 0);
  EXPECT_GT(second.files_listed(), 0);
  EXPECT_EQ(first.shard(), "0/2");
  // Together exactly the lake: every post file once.
  int64_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "lake/instagram_graph/posts")) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(first.files_listed() + second.files_listed(), files);
  EXPECT_EQ(Count(prefix_), first.posts_indexed() + second.posts_indexed());
}

TEST_F(IngestTest, AMissingPictureIsReportedThenFetchedOnTheNextRun) {
  // Take one picture away from the fake CDN.
  fs::path taken;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "cdn")) {
    if (entry.path().extension() == ".jpg" && entry.path().filename() != "profile.jpg") {
      taken = entry.path();
      break;
    }
  }
  ASSERT_FALSE(taken.empty());
  fs::rename(taken, taken.string() + ".away");
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_EQ(first.error(), "");  // A failed fetch does not fail the run...
  EXPECT_EQ(first.media_failed(), 1);
  ASSERT_EQ(first.failed_media_size(), 1);
  EXPECT_EQ(first.failed_media(0).url(), "file://" + taken.string());
  const std::string post_id = taken.stem().string();

  fs::rename(taken.string() + ".away", taken);
  const v1::IngestReport second = Ingest(kToday, http_.get());
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.media_fetched(), 1);  // ...and the next run gets it.
  EXPECT_EQ(second.media_failed(), 0);
  EXPECT_EQ(second.posts_indexed(), 1);
  EXPECT_EQ(second.files_untouched(), second.files_listed() - 1);
}

TEST_F(IngestTest, HostilePictureUrlsAreRefusedAndTheirPostsStillIndexed) {
  const v1::IngestReport first = Ingest(kToday, http_.get());
  ASSERT_EQ(first.error(), "");
  EXPECT_EQ(first.media_refused(), 0);
  // Posts whose pictures point at local secrets, at Elasticsearch itself
  // (SSRF) and at a scheme we never fetch.
  fs::path owner_dir;
  for (const auto& entry : fs::directory_iterator(root_ / "lake/instagram_graph/posts")) {
    owner_dir = entry.path();
    break;
  }
  ASSERT_FALSE(owner_dir.empty());
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"evil-1", "file:///etc/passwd"},
      {"evil-2", absl::StrCat(es_url_, "/_cat/indices")},
      {"evil-3", "gopher://127.0.0.1:9200/x"},
      {"evil-4", absl::StrCat("file://", fs::absolute(root_ / "cdn").lexically_normal().string(),
                              "/../lake/x.jpg")}};
  for (const auto& [id, url] : hostile) {
    const json post = {{"id", id},
                       {"media_type", "STORY_IMAGE"},
                       {"media_url", url},
                       {"timestamp", absl::StrCat(absl::FormatCivilTime(kToday), "T10:00:00+0000")},
                       {"caption", "hostile"}};
    ASSERT_TRUE(WriteFileAtomically((owner_dir / (id + ".json")).string(), post.dump()).ok());
  }
  const v1::IngestReport second = Ingest(kToday, http_.get());
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.posts_indexed(), 4);
  EXPECT_EQ(second.media_refused(), 4);
  EXPECT_EQ(second.media_failed(), 4);
  EXPECT_EQ(second.media_fetched(), 0);
  ASSERT_EQ(second.failed_media_size(), 4);
  for (const v1::FailedMedia& failed : second.failed_media()) {
    EXPECT_NE(failed.reason(), "") << failed.url();
  }
  for (const auto& [id, url] : hostile) {
    const json stored = Stored(id);
    ASSERT_NE(stored, nullptr) << id;  // Indexed all the same...
    EXPECT_EQ(stored.value("caption", ""), "hostile");
    // ...and nothing of theirs reached the (public) media store.
    EXPECT_FALSE(fs::exists(root_ / "media" / owner_dir.filename() / id)) << id;
  }
}

}  // namespace
}  // namespace scout::ingest
