// Shards side by side (issue 12, section 6): three scout-ingest processes,
// `--shard 0/3`, `1/3` and `2/3`, run at the same time against one lake
// bucket on the real SeaweedFS and one Elasticsearch, and together give
// exactly the index a single run gives: the same posts (ids, indices and
// sources), the same quarantine and the same pictures in the media store.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/backends/s3.h"
#include "common/io/files.h"
#include "tests/es_fixture.h"
#include "tests/lake_fixture.h"
#include "tests/s3_fixture.h"
#include "tools/genlake/genlake.h"

extern char** environ;

namespace scout {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);

// A count of a report (proto JSON: int64 may come as a string; zero left out).
int64_t ReportCount(const json& report, const char* field) {
  const auto value = report.find(field);
  if (value == report.end()) return 0;
  if (value->is_string()) return std::stoll(value->get<std::string>());
  return value->is_number() ? value->get<int64_t>() : -1;
}
constexpr char kNow[] = "2026-11-20T12:00:00Z";
constexpr char kMediaUrl[] = "https://media.test/";
constexpr int kShards = 3;

class S3ShardsTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    scout::testing::RequireS3();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 24;  // Enough creators that every shard gets several.
    options.days = 20;
    options.seed = 17;
    options.image_size = 16;
    options.malformed_rate = 0.04;
    absl::StatusOr<genlake::Summary> summary = genlake::Generate(options, 2);
    ASSERT_TRUE(summary.ok()) << summary.status();

    store_ = scout::testing::S3FromEnv();
    bucket_ = absl::AsciiStrToLower(absl::StrCat("t-s3-shards-", getpid()));
    ASSERT_TRUE(store_->CreateBucket(bucket_).ok());
    scout::testing::UploadFolder(*store_, bucket_, root_ / "lake", "lake/");
  }
  void TearDown() override {
    if (store_ != nullptr) scout::testing::RemoveBucket(*store_, bucket_);
    for (const char* run : {"-single", "-shards"}) {
      (void)elastic_->Call("DELETE", absl::StrCat("_index_template/", prefix_, run));
    }
    fs::remove_all(root_);
    ElasticTest::TearDown();
  }

  // Starts scout-ingest (shard `shard` of kShards, or the whole lake when
  // negative) over the bucket's lake into the indices `<prefix_><run>`,
  // pictures under `media<run>/`, its report going to `<root_>/<name>.json`.
  pid_t StartIngest(const std::string& run, int shard, std::string& report_path) {
    const std::string name = shard < 0 ? run : absl::StrCat(run, "-", shard);
    report_path = (root_ / absl::StrCat(name, ".json")).string();
    std::vector<std::string> args = {SCOUT_INGEST_BIN, "--batch", "20"};
    if (shard >= 0) args.insert(args.end(), {"--shard", absl::StrCat(shard, "/", kShards)});
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("SCOUT_", 0) != 0) env.emplace_back(*e);
    }
    env.push_back(absl::StrCat("SCOUT_ES_URL=", es_url_));
    env.push_back(absl::StrCat("SCOUT_LAKE=s3://", bucket_, "/lake/"));
    env.push_back(absl::StrCat("SCOUT_MEDIA=s3://", bucket_, "/media", run, "/"));
    env.push_back(absl::StrCat("SCOUT_MEDIA_URL=", kMediaUrl));
    // Each process its own local disk, as on separate machines.
    env.push_back(absl::StrCat("SCOUT_STATE=", (root_ / "state" / name).string()));
    env.push_back(absl::StrCat("SCOUT_INDEX_PREFIX=", prefix_, run));
    env.push_back(absl::StrCat("SCOUT_NOW=", kNow));
    env.push_back(absl::StrCat("SCOUT_MEDIA_SOURCE_ALLOW=file://",
                               fs::absolute(root_ / "cdn").lexically_normal().string(), "/"));
    fs::create_directories(root_ / "state" / name);
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, report_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(spawned, 0) << "cannot start " << argv[0];
    return spawned == 0 ? pid : -1;
  }

  // Waits for the process and returns its report (null when it failed).
  json Finish(pid_t pid, const std::string& report_path) {
    int status = 0;
    if (pid <= 0 || waitpid(pid, &status, 0) != pid) return nullptr;
    absl::StatusOr<std::string> out = ReadFile(report_path);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << report_path << ": exit " << status << ": " << out.value_or("");
    if (!out.ok()) return nullptr;
    json report = json::parse(*out, nullptr, false);
    return report.is_discarded() ? json(nullptr) : report;
  }

  // Every document under an alias or index, by id: (index with the run's
  // prefix taken out, _source).
  std::map<std::string, std::pair<std::string, json>> Documents(const std::string& run,
                                                                const std::string& suffix) {
    const std::string prefix = prefix_ + run;
    const std::string index = prefix + suffix;
    (void)elastic_->Call("POST", absl::StrCat(index, "/_refresh"));
    absl::StatusOr<json> answer =
        elastic_->Call("POST", absl::StrCat(index, "/_search"),
                       json{{"size", 10000}, {"query", {{"match_all", json::object()}}}});
    std::map<std::string, std::pair<std::string, json>> documents;
    if (!answer.ok()) {
      ADD_FAILURE() << index << ": " << answer.status();
      return documents;
    }
    EXPECT_LT((*answer)["hits"]["hits"].size(), 10000u);
    for (const json& hit : (*answer)["hits"]["hits"]) {
      const std::string id = hit["_id"].get<std::string>();
      EXPECT_EQ(documents.count(id), 0u) << "twice: " << id;
      documents[id] = {hit["_index"].get<std::string>().substr(prefix.size()), hit["_source"]};
    }
    return documents;
  }

  // Key (under media<run>/) -> ETag of every stored picture.
  std::map<std::string, std::string> Pictures(const std::string& run) {
    const std::string prefix = absl::StrCat("media", run, "/");
    absl::StatusOr<S3ListPage> listed = store_->List(bucket_, prefix, "");
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::map<std::string, std::string> pictures;
    if (!listed.ok()) return pictures;
    for (const S3Object& object : listed->objects) {
      pictures[object.key.substr(prefix.size())] = object.etag;
    }
    return pictures;
  }

  fs::path root_;
  std::string bucket_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(S3ShardsTest, ThreeShardsAtOnceGiveTheSingleRunsIndex) {
  std::string single_report;
  const json single = Finish(StartIngest("-single", -1, single_report), single_report);
  ASSERT_TRUE(single.is_object());
  ASSERT_EQ(single.value("error", "?"), "");

  // The three shards, all at once.
  std::vector<std::pair<pid_t, std::string>> running;
  for (int i = 0; i < kShards; ++i) {
    std::string report;
    const pid_t pid = StartIngest("-shards", i, report);
    running.emplace_back(pid, report);
  }
  int64_t listed = 0, indexed = 0, quarantined = 0, media = 0;
  for (auto& [pid, report_path] : running) {
    const json report = Finish(pid, report_path);
    ASSERT_TRUE(report.is_object()) << report_path;
    ASSERT_EQ(report.value("error", "?"), "") << report.dump();
    const auto count = [&](const char* field) { return ReportCount(report, field); };
    // Each shard had work of its own: the split is real.
    EXPECT_GT(count("posts_indexed"), 0) << report.dump();
    listed += count("files_listed");
    indexed += count("posts_indexed");
    quarantined += count("files_quarantined");
    media += count("media_fetched");
  }
  const auto total = [&](const char* field) { return ReportCount(single, field); };
  EXPECT_GT(total("posts_indexed"), 100);
  EXPECT_GT(total("files_quarantined"), 0);
  // Every file read by exactly one shard.
  EXPECT_EQ(listed, total("files_listed"));
  EXPECT_EQ(indexed, total("posts_indexed"));
  EXPECT_EQ(quarantined, total("files_quarantined"));
  EXPECT_EQ(media, total("media_fetched"));

  // The same documents in the same monthly indices, field for field (the
  // pictures' URLs too: both media stores serve at kMediaUrl).
  const auto want = Documents("-single", "");
  const auto got = Documents("-shards", "");
  EXPECT_EQ(static_cast<int64_t>(want.size()), total("posts_indexed"));
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the shards' index differs from the single run's";
  for (const auto& [id, document] : want) {
    const auto other = got.find(id);
    if (other == got.end()) {
      ADD_FAILURE() << "post " << id << " missing from the shards' index";
    } else if (other->second != document) {
      ADD_FAILURE() << "post " << id << ": " << other->second.second.dump() << " vs "
                    << document.second.dump();
    }
  }
  const auto want_quarantine = Documents("-single", ".quarantine");
  EXPECT_EQ(static_cast<int64_t>(want_quarantine.size()), total("files_quarantined"));
  EXPECT_TRUE(Documents("-shards", ".quarantine") == want_quarantine);
  const std::map<std::string, std::string> pictures = Pictures("-single");
  EXPECT_EQ(static_cast<int64_t>(pictures.size()), total("media_fetched"));
  EXPECT_EQ(Pictures("-shards"), pictures);
}

}  // namespace
}  // namespace scout
