// scout-ingest over a lake on S3 (the real SeaweedFS of scripts/services)
// gives exactly the index a run over the same lake in a local folder gives,
// with the pictures in an S3 media store; a second run over the unchanged
// bucket reads no file again (issue 12, section 4's comparison, for ingest).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/s3.h"
#include "common/backends/s3_stores.h"
#include "common/base/clock.h"
#include "common/io/files.h"
#include "tests/es_fixture.h"
#include "tests/lake_fixture.h"
#include "tests/s3_fixture.h"
#include "tools/genlake/genlake.h"
#include "workers/ingest/ingest.h"
#include "workers/ingest/s3_checkpoint.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);
constexpr char kMediaUrl[] = "https://media.test/";

class S3IngestTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    scout::testing::RequireS3();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 6;
    options.days = 30;
    options.seed = 5;
    options.malformed_rate = 0.04;
    absl::StatusOr<genlake::Summary> summary = genlake::Generate(options, 2);
    ASSERT_TRUE(summary.ok()) << summary.status();

    store_ = scout::testing::S3FromEnv();
    bucket_ = absl::AsciiStrToLower(absl::StrCat("t-s3-ingest-", getpid()));
    ASSERT_TRUE(store_->CreateBucket(bucket_).ok());
    uploaded_ = scout::testing::UploadFolder(*store_, bucket_, root_ / "lake", "lake/");
  }
  void TearDown() override {
    if (store_ != nullptr) scout::testing::RemoveBucket(*store_, bucket_);
    fs::remove_all(root_);
    ElasticTest::TearDown();
  }

  v1::IngestReport Ingest(Lake& lake, MediaStore& media, const fs::path& state,
                          const std::string& index_prefix, const ObjectStore* s3 = nullptr,
                          bool fetch_media = true) {
    fs::create_directories(state);
    const std::unique_ptr<Clock> clock =
        NewFixedClock(absl::FromCivil(kToday, absl::UTCTimeZone()) + absl::Hours(12));
    Elastic elastic(http_.get(), es_url_);
    ingest::IngestOptions options;
    options.index_prefix = index_prefix;
    options.bulk_backoff = absl::Milliseconds(10);
    options.media.first_backoff = absl::Milliseconds(1);
    options.media.policy = scout::testing::GenlakeCdnPolicy(root_);
    options.fetch_media = fetch_media;
    return scout::testing::IngestLake(state, lake, elastic, media, *http_, *clock, options, s3);
  }

  // Every document of an index (posts or quarantine), by id, sources only.
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
    for (const json& hit : (*answer)["hits"]["hits"]) {
      documents[hit["_id"].get<std::string>()] = hit["_source"];
    }
    return documents;
  }

  fs::path root_;
  std::string bucket_;
  std::shared_ptr<ObjectStore> store_;
  int uploaded_ = 0;
};

TEST_F(S3IngestTest, SameIndexAsTheLocalLakeAndNoRereads) {
  std::unique_ptr<Lake> local_lake = NewLocalLake((root_ / "lake").string());
  std::unique_ptr<MediaStore> local_media =
      NewLocalMediaStore((root_ / "media").string(), kMediaUrl);
  const v1::IngestReport local =
      Ingest(*local_lake, *local_media, root_ / "state-local", prefix_ + "-local");
  ASSERT_EQ(local.error(), "");

  S3Options options = S3Options::FromEnv();
  std::string region = options.region;
  std::shared_ptr<ObjectStore> s3 = NewS3ObjectStore(
      NewCurlHttpClient(), NewAwsCredentialsChain(NewCurlHttpClient(), region), options);
  std::unique_ptr<Lake> lake = NewS3Lake(s3, S3Location{bucket_, "lake/"});
  std::unique_ptr<MediaStore> media = NewS3MediaStore(s3, S3Location{bucket_, "media/"}, kMediaUrl);
  const v1::IngestReport remote =
      Ingest(*lake, *media, root_ / "state-s3", prefix_ + "-s3", s3.get());
  ASSERT_EQ(remote.error(), "");

  EXPECT_EQ(remote.files_listed(), local.files_listed());
  EXPECT_LE(remote.files_listed(), uploaded_);  // Post files; stats files are not ingest's.
  EXPECT_GT(remote.posts_indexed(), 50);
  EXPECT_EQ(remote.posts_indexed(), local.posts_indexed());
  EXPECT_EQ(remote.files_quarantined(), local.files_quarantined());
  EXPECT_GT(remote.files_quarantined(), 0);
  EXPECT_EQ(remote.files_too_old(), local.files_too_old());
  EXPECT_EQ(remote.media_fetched(), local.media_fetched());
  EXPECT_EQ(remote.media_failed(), 0);

  // The same documents, field for field (media URLs included: both stores
  // serve at kMediaUrl).
  const std::map<std::string, json> local_docs = Documents(prefix_ + "-local");
  const std::map<std::string, json> remote_docs = Documents(prefix_ + "-s3");
  EXPECT_EQ(static_cast<int64_t>(remote_docs.size()), remote.posts_indexed());
  EXPECT_GT(local_docs.size(), 50u);
  EXPECT_TRUE(remote_docs == local_docs) << "the S3 run's index differs from the local run's";

  // Requests: one flat LIST (fewer than 1,000 files; not one per creator
  // folder), every lake file read once by GET, pictures known by HEAD.
  const S3RequestCounts first = s3->Counts();
  EXPECT_EQ(first.list, 1);
  EXPECT_LE(first.get, remote.files_listed());
  EXPECT_GE(first.get, remote.posts_indexed() + remote.files_quarantined());
  EXPECT_EQ(first.put, remote.media_fetched());
  EXPECT_GE(first.head, remote.media_fetched());
  // The report says the same (the client was new: its counts are the run's).
  EXPECT_FALSE(local.has_s3_requests());
  EXPECT_EQ(remote.s3_requests().lists(), first.list);
  EXPECT_EQ(remote.s3_requests().gets(), first.get);
  EXPECT_EQ(remote.s3_requests().heads(), first.head);
  EXPECT_EQ(remote.s3_requests().puts(), first.put);
  EXPECT_EQ(remote.s3_requests().deletes(), 0);
  absl::StatusOr<S3ListPage> pictures = s3->List(bucket_, "media/", "");
  ASSERT_TRUE(pictures.ok()) << pictures.status();
  EXPECT_EQ(static_cast<int64_t>(pictures->objects.size()), remote.media_fetched());

  // Nothing changed in the bucket: the next run lists but reads nothing.
  const S3RequestCounts before_again = s3->Counts();
  const v1::IngestReport again =
      Ingest(*lake, *media, root_ / "state-s3", prefix_ + "-s3", s3.get());
  ASSERT_EQ(again.error(), "");
  EXPECT_EQ(again.posts_indexed(), 0);
  const S3RequestCounts second = s3->Counts();
  EXPECT_EQ(second.get - first.get, 0);
  EXPECT_EQ(second.put - first.put, 0);
  EXPECT_GT(second.list - first.list, 0);
  // The report counts this run's requests only (the picture listing above
  // went through the same client).
  EXPECT_EQ(again.s3_requests().lists(), second.list - before_again.list);
  EXPECT_EQ(again.s3_requests().lists(), 1);
  EXPECT_EQ(again.s3_requests().gets(), 0);
  EXPECT_EQ(again.s3_requests().puts(), 0);
  std::cout << "S3 ingest requests, first run: LIST " << first.list << " GET " << first.get
            << " HEAD " << first.head << " PUT " << first.put << "; next run: LIST "
            << second.list - first.list << " GET " << second.get - first.get << "\n";
}

// A well-formed post of the current month (2026-11) in the local copy of
// the lake: its key under the lake and its JSON.
std::pair<std::string, json> RecentPost(const fs::path& lake) {
  for (const fs::directory_entry& file :
       fs::recursive_directory_iterator(lake / "instagram_graph/posts")) {
    if (!file.is_regular_file()) continue;
    std::ifstream in(file.path());
    json post = json::parse(in, nullptr, false);
    if (post.is_object() && post.contains("id") && post["id"].is_string() &&
        post.value("timestamp", "").rfind("2026-11-1", 0) == 0) {
      return {fs::relative(file.path(), lake).string(), post};
    }
  }
  return {};
}

// Issue 12 section 2: on S3 an unchanged size + ETag means untouched. A
// same-size rewrite within the second of LastModified (1 s resolution)
// looks untouched by size + mtime; its ETag changed, so it is read and
// indexed again.
TEST_F(S3IngestTest, ASameSizeRewriteWithinTheSecondIsFoundByItsEtag) {
  std::shared_ptr<ObjectStore> s3 = NewS3ObjectStoreFromEnv();
  std::unique_ptr<Lake> lake = NewS3Lake(s3, S3Location{bucket_, "lake/"});
  std::unique_ptr<MediaStore> media = NewS3MediaStore(s3, S3Location{bucket_, "media/"}, kMediaUrl);
  const std::string index = prefix_ + "-etag";
  ASSERT_EQ(Ingest(*lake, *media, root_ / "state", index, s3.get(), false).error(), "");

  const auto [key, post] = RecentPost(root_ / "lake");
  ASSERT_FALSE(key.empty()) << "no post of 2026-11-1x in the generated lake";
  const std::string object = absl::StrCat("lake/", key);
  auto version = [&, post = post](const std::string& caption) {
    json changed = post;
    changed["caption"] = caption;
    return changed.dump();
  };
  std::string second_caption;
  bool same_second = false;
  for (int attempt = 0; attempt < 6 && !same_second; ++attempt) {
    // Start right after a second begins, so the rewrite lands in it too.
    const absl::Time now = absl::Now();
    absl::SleepFor(absl::Seconds(1) - (now - absl::FromUnixSeconds(absl::ToUnixSeconds(now))) +
                   absl::Milliseconds(20));
    const std::string first = version(absl::StrCat("first caption ", attempt));
    second_caption = absl::StrCat("other caption ", attempt);
    const std::string second = version(second_caption);
    ASSERT_EQ(first.size(), second.size());
    ASSERT_TRUE(store_->Put(bucket_, object, first).ok());
    absl::StatusOr<S3Object> written = store_->Head(bucket_, object);
    ASSERT_TRUE(written.ok()) << written.status();
    const v1::IngestReport read = Ingest(*lake, *media, root_ / "state", index, s3.get(), false);
    ASSERT_EQ(read.error(), "");
    ASSERT_EQ(read.posts_indexed(), 1);
    ASSERT_TRUE(store_->Put(bucket_, object, second).ok());
    absl::StatusOr<S3Object> head = store_->Head(bucket_, object);
    ASSERT_TRUE(head.ok()) << head.status();
    same_second = head->last_modified == written->last_modified;
  }
  ASSERT_TRUE(same_second) << "could not rewrite within the second of the first write";

  const v1::IngestReport again = Ingest(*lake, *media, root_ / "state", index, s3.get(), false);
  ASSERT_EQ(again.error(), "");
  EXPECT_EQ(again.s3_requests().gets(), 1);  // That file only.
  EXPECT_EQ(again.posts_indexed(), 1);
  const std::map<std::string, json> documents = Documents(index);
  ASSERT_EQ(documents.count(post["id"].get<std::string>()), 1u);
  EXPECT_EQ(documents.at(post["id"].get<std::string>()).value("caption", ""), second_caption);
}

// A lake whose reads fail from the (limit+1)th on: the lake went away half-way.
class FailingLake final : public Lake {
 public:
  FailingLake(Lake* inner, int limit) : inner_(inner), limit_(limit) {}
  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) override {
    return inner_->List(prefix);
  }
  absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) override {
    return inner_->ListFiles(prefix, visit);
  }
  absl::StatusOr<std::string> Read(absl::string_view key) override {
    if (reads_++ >= limit_) return absl::UnavailableError("lake unreachable (injected)");
    return inner_->Read(key);
  }

 private:
  Lake* const inner_;
  const int limit_;
  std::atomic<int> reads_{0};
};

// The process dies before its last compaction: only its commits' journal
// objects are on S3.
class DiesBeforeCompacting final : public ingest::CheckpointStorage {
 public:
  explicit DiesBeforeCompacting(std::unique_ptr<ingest::CheckpointStorage> inner)
      : inner_(std::move(inner)) {}
  absl::StatusOr<bool> Load(const std::function<void(absl::string_view)>& apply) override {
    return inner_->Load(apply);
  }
  absl::Status Append(absl::string_view lines) override { return inner_->Append(lines); }
  absl::Status Replace(absl::string_view) override {
    return absl::UnavailableError("killed (injected)");
  }

 private:
  const std::unique_ptr<ingest::CheckpointStorage> inner_;
};

// Issue 12 section 3: with SCOUT_STATE on S3, a shard interrupted half-way
// on one machine resumes on another with nothing on its disk: the second
// run reads only the files the first did not commit, and the index equals
// a clean single run's.
TEST_F(S3IngestTest, AnInterruptedRunResumesFromItsS3CheckpointOnAnotherMachine) {
  constexpr int kBatch = 8;
  const std::unique_ptr<Clock> clock =
      NewFixedClock(absl::FromCivil(kToday, absl::UTCTimeZone()) + absl::Hours(12));
  Elastic elastic(http_.get(), es_url_);
  ingest::IngestOptions options;
  options.index_prefix = prefix_ + "-resumed";
  options.bulk_backoff = absl::Milliseconds(10);
  options.fetch_media = false;
  options.batch_files = kBatch;
  const std::string state_key = "state/ingest-0-of-1.ckpt";
  auto run = [&](Lake& lake, std::shared_ptr<ObjectStore> state, bool dies) {
    absl::StatusOr<std::unique_ptr<ingest::CheckpointStorage>> storage =
        ingest::OpenS3CheckpointStorage(state, bucket_, state_key);
    if (!storage.ok()) {
      v1::IngestReport failed;
      failed.set_error(storage.status().ToString());
      return failed;
    }
    if (dies) *storage = std::make_unique<DiesBeforeCompacting>(*std::move(storage));
    absl::StatusOr<ingest::Checkpoint> checkpoint = ingest::Checkpoint::Open(*std::move(storage));
    if (!checkpoint.ok()) {
      v1::IngestReport failed;
      failed.set_error(checkpoint.status().ToString());
      return failed;
    }
    ingest::IngestEnv env{&lake,       &elastic,     nullptr, http_.get(),
                          clock.get(), &*checkpoint, nullptr};
    return ingest::RunIngest(env, options);
  };

  // Machine 1: three batches go through, then the lake fails and the
  // process dies before it compacts.
  {
    std::shared_ptr<ObjectStore> s3 = NewS3ObjectStoreFromEnv();
    std::unique_ptr<Lake> lake = NewS3Lake(s3, S3Location{bucket_, "lake/"});
    FailingLake failing(lake.get(), 3 * kBatch);
    const v1::IngestReport first = run(failing, NewS3ObjectStoreFromEnv(), /*dies=*/true);
    EXPECT_TRUE(absl::StrContains(first.error(), "lake unreachable")) << first.error();
    EXPECT_EQ(first.files_untouched(), 0);
    EXPECT_GT(first.files_listed(), 4 * kBatch);
  }
  absl::StatusOr<S3ListPage> journals = store_->List(bucket_, state_key + ".journal/", "");
  ASSERT_TRUE(journals.ok()) << journals.status();
  EXPECT_EQ(journals->objects.size(), 3u);  // One per committed batch.

  // Machine 2: new clients, no local state at all.
  std::shared_ptr<ObjectStore> lake_s3 = NewS3ObjectStoreFromEnv();
  std::shared_ptr<ObjectStore> state_s3 = NewS3ObjectStoreFromEnv();
  std::unique_ptr<Lake> lake = NewS3Lake(lake_s3, S3Location{bucket_, "lake/"});
  const v1::IngestReport second = run(*lake, state_s3, /*dies=*/false);
  ASSERT_EQ(second.error(), "");
  EXPECT_EQ(second.files_untouched(), 3 * kBatch);
  EXPECT_EQ(lake_s3->Counts().get, second.files_listed() - 3 * kBatch);
  EXPECT_EQ(lake_s3->Counts().list, 1);
  // The lease (released by machine 1), the snapshot (none yet: a 404), the journals.
  EXPECT_EQ(state_s3->Counts().get, 1 + 1 + 3);
  journals = store_->List(bucket_, state_key + ".journal/", "");
  ASSERT_TRUE(journals.ok()) << journals.status();
  EXPECT_TRUE(journals->objects.empty());  // Folded into the snapshot.

  // The same index as one clean run.
  std::unique_ptr<MediaStore> media =
      NewS3MediaStore(lake_s3, S3Location{bucket_, "media/"}, kMediaUrl);
  const v1::IngestReport clean =
      Ingest(*lake, *media, root_ / "state-clean", prefix_ + "-clean", nullptr, false);
  ASSERT_EQ(clean.error(), "");
  EXPECT_EQ(clean.files_listed(), second.files_listed());
  const std::map<std::string, json> clean_docs = Documents(prefix_ + "-clean");
  EXPECT_GT(clean_docs.size(), 50u);
  EXPECT_TRUE(Documents(prefix_ + "-resumed") == clean_docs);

  // A third run finds nothing to read.
  const int64_t gets = lake_s3->Counts().get;
  const v1::IngestReport third = run(*lake, state_s3, false);
  ASSERT_EQ(third.error(), "");
  EXPECT_EQ(third.files_untouched(), third.files_listed());
  EXPECT_EQ(lake_s3->Counts().get, gets);
}

// Both lakes list the same files in the same order (S3's key order).
TEST_F(S3IngestTest, FlatListingsOfBothLakesAgree) {
  std::shared_ptr<ObjectStore> s3 = NewS3ObjectStoreFromEnv();
  std::unique_ptr<Lake> remote = NewS3Lake(s3, S3Location{bucket_, "lake/"});
  std::unique_ptr<Lake> local = NewLocalLake((root_ / "lake").string());
  auto files = [](Lake& lake) {
    std::vector<std::pair<std::string, int64_t>> files;
    absl::Status listed = lake.ListFiles("instagram_graph/", [&](std::vector<LakeEntry>& page) {
      for (const LakeEntry& entry : page) files.emplace_back(entry.name, entry.size);
      return absl::OkStatus();
    });
    EXPECT_TRUE(listed.ok()) << listed;
    return files;
  };
  const auto local_files = files(*local);
  EXPECT_GT(local_files.size(), 100u);
  EXPECT_TRUE(files(*remote) == local_files);
}

}  // namespace
}  // namespace scout
