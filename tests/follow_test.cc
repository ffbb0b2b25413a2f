// scout-ingest --follow end to end, through the binary, against the real
// Elasticsearch and a real SeaweedFS: a local lake watched with inotify, and
// an S3 lake followed by SeaweedFS's filer webhook (a weed of the test's own,
// its notification.toml pointing at the follower) and by the listing sweep
// alone. New and rewritten posts must become searchable with their new
// content while it runs; SIGTERM must drain with exit 0 and a report; the
// checkpoint must hold what was indexed, so a normal run afterwards reads
// nothing.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/backends/http.h"
#include "common/backends/s3.h"
#include "common/io/files.h"
#include "tests/es_fixture.h"
#include "tests/lake_fixture.h"
#include "tools/genlake/genlake.h"

extern char** environ;

namespace scout {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const absl::CivilDay kToday(2026, 11, 20);

// A child process with stdout and stderr in files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err,
        const std::vector<std::string>& extra_env = {}, const fs::path& cwd = "") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const absl::string_view entry = *e;
      const absl::string_view name = entry.substr(0, entry.find('=') + 1);
      bool overridden = false;
      for (const std::string& x : extra_env) overridden = overridden || absl::StartsWith(x, name);
      if (!overridden) env_strings.emplace_back(entry);
    }
    for (const std::string& e : extra_env) env_strings.push_back(e);
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  bool Running() {
    if (pid_ <= 0) return false;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }
  // SIGKILL: no drain, no compaction, whatever it was doing.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    exit_ = 128 + SIGKILL;
  }
  // SIGTERM, then the exit code (or -1 after `timeout`).
  int Terminate(absl::Duration timeout = absl::Seconds(60)) {
    if (pid_ > 0) kill(pid_, SIGTERM);
    return Wait(timeout);
  }
  int Wait(absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (Running() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(50));
    return pid_ > 0 ? -1 : exit_;
  }

 private:
  pid_t pid_ = -1;
  int exit_ = -1;
};

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// A port p with p + 10000 free too (weed's gRPC twin of each port).
int FreePortPair(const std::vector<int>& taken) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = 20000 + static_cast<int>((getpid() * 7919 + attempt * 104729) % 30000);
    if (std::find(taken.begin(), taken.end(), port) != taken.end()) continue;
    bool free = true;
    for (int p : {port, port + 10000}) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<uint16_t>(p));
      free = free && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
      close(fd);
    }
    if (free) return port;
  }
  return -1;
}

json LastJsonLine(const fs::path& file) {
  absl::StatusOr<std::string> text = ReadFile(file.string());
  if (!text.ok()) return nullptr;
  json last;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    json parsed = json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) last = parsed;
  }
  return last;
}

// A count of a report (proto3 JSON writes int64 as a string), or -1 when absent.
int64_t Field(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return -1;
  const json& value = object[name];
  if (value.is_number_integer()) return value.get<int64_t>();
  int64_t n = -1;
  if (value.is_string() && absl::SimpleAtoi(value.get<std::string>(), &n)) return n;
  return -1;
}

// A post file as the API client writes it.
std::string PostJson(const std::string& owner, const std::string& id, const std::string& caption) {
  return json{{"id", id},
              {"media_type", "IMAGE"},
              {"timestamp", absl::StrCat(absl::FormatCivilTime(kToday), "T09:00:00+0000")},
              {"caption", caption},
              {"like_count", 3},
              {"owner", {{"id", owner}}}}
      .dump();
}

class FollowTest : public scout::testing::ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = fs::path(::testing::TempDir()) / prefix_;
    fs::remove_all(root_);
    genlake::Options options = scout::testing::LakeOptions(root_, kToday);
    options.users = 3;
    options.days = 10;
    options.seed = 21;
    options.malformed_rate = 0;
    ASSERT_TRUE(genlake::Generate(options, 1).ok());
    fs::create_directories(root_ / "state");
  }
  void TearDown() override {
    fs::remove_all(root_);
    ElasticTest::TearDown();
  }

  std::vector<std::string> IngestArgs(const std::string& lake) {
    return {SCOUT_INGEST_BIN,           "--lake",         lake,    "--es_url",  es_url_, "--state",
            (root_ / "state").string(), "--index_prefix", prefix_, "--no_media"};
  }

  // The caption of post `id`, as a search sees it now ("" when not found).
  std::string SearchedCaption(const std::string& id) {
    absl::StatusOr<json> answer = elastic_->Call("POST", absl::StrCat(prefix_, "-*/_search"),
                                                 json{{"query", {{"term", {{"id", id}}}}}});
    if (!answer.ok() || (*answer)["hits"]["hits"].empty()) return "";
    return (*answer)["hits"]["hits"][0]["_source"].value("caption", "");
  }

  // Seconds until post `id` is searched with `caption`, or -1 after `limit`.
  double WaitSearchable(const std::string& id, const std::string& caption, absl::Time since,
                        absl::Duration limit) {
    while (absl::Now() - since < limit) {
      if (SearchedCaption(id) == caption) return absl::ToDoubleSeconds(absl::Now() - since);
      absl::SleepFor(absl::Milliseconds(100));
    }
    return -1;
  }

  int64_t Indexed() {
    absl::StatusOr<json> answer = elastic_->Call("GET", absl::StrCat(prefix_, "-*/_count"));
    return answer.ok() && answer->contains("count") ? (*answer)["count"].get<int64_t>() : -1;
  }

  // Waits until the index holds `n` posts (the follower's first sweep).
  void WaitIndexed(int64_t n, Child& child) {
    const absl::Time until = absl::Now() + absl::Seconds(120);
    while (Indexed() < n && absl::Now() < until && child.Running()) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    ASSERT_EQ(Indexed(), n) << "the follower's first sweep did not index the lake";
  }

  // A normal run over the same lake and state: must find nothing to do.
  // `reread`: files it may read again without writing them (see the S3
  // events case).
  void ExpectNothingToDo(const std::string& lake, const std::string& what,
                         const std::vector<std::string>& env = {}, int64_t reread = 0) {
    const fs::path out = root_ / "rerun.out";
    Child rerun(IngestArgs(lake), out, root_ / "rerun.err", env);
    ASSERT_TRUE(rerun.started());
    ASSERT_EQ(rerun.Wait(absl::Seconds(120)), 0) << what;
    const json report = LastJsonLine(out);
    ASSERT_TRUE(report.is_object()) << what;
    EXPECT_GT(Field(report, "files_listed"), 0) << what;
    EXPECT_GE(Field(report, "files_untouched"), Field(report, "files_listed") - reread)
        << what << ": the follower left files for the daily run: " << report.dump();
    EXPECT_EQ(Field(report, "files_unchanged"),
              Field(report, "files_listed") - Field(report, "files_untouched"))
        << what << ": a file read again must be found unchanged: " << report.dump();
    EXPECT_EQ(Field(report, "posts_indexed"), 0) << what;
    if (report.contains("s3_requests")) {
      EXPECT_LE(Field(report["s3_requests"], "gets"), reread) << what;
    }
  }

  // The checkpoint's entry for `key` (snapshot plus journal), or "".
  std::string CheckpointLine(const std::string& key) {
    std::string found;
    for (const fs::directory_entry& file : fs::directory_iterator(root_ / "state")) {
      if (!absl::StrContains(file.path().filename().string(), ".ckpt") ||
          absl::EndsWith(file.path().string(), ".lock")) {
        continue;
      }
      absl::StatusOr<std::string> text = ReadFile(file.path().string());
      if (!text.ok()) continue;
      for (absl::string_view line : absl::StrSplit(*text, '\n')) {
        if (absl::StartsWith(line, key + "\t")) found = std::string(line);
      }
    }
    return found;
  }

  fs::path root_;
};

// Owners (folders) of the generated lake, and one post file of the first.
std::pair<std::string, std::string> FirstPost(const fs::path& lake) {
  std::vector<fs::path> owners;
  for (const auto& dir : fs::directory_iterator(lake / "instagram_graph/posts")) {
    owners.push_back(dir.path());
  }
  std::sort(owners.begin(), owners.end());
  std::vector<fs::path> files;
  for (const auto& file : fs::directory_iterator(owners.at(0))) files.push_back(file.path());
  std::sort(files.begin(), files.end());
  return {owners.at(0).filename().string(), files.back().filename().string()};
}

TEST_F(FollowTest, LocalLakeWithInotify) {
  const fs::path lake = root_ / "lake";
  const int64_t posts = [&] {
    int64_t n = 0;
    for (const auto& file : fs::recursive_directory_iterator(lake / "instagram_graph/posts")) {
      n += file.is_regular_file() ? 1 : 0;
    }
    return n;
  }();
  std::vector<std::string> args = IngestArgs(lake.string());
  for (const char* arg : {"--follow", "--follow_sweep=0", "--metrics_listen=127.0.0.1:0"}) {
    args.push_back(arg);
  }
  Child follower(args, root_ / "follow.out", root_ / "follow.err");
  ASSERT_TRUE(follower.started());
  WaitIndexed(posts, follower);
  if (HasFatalFailure()) return;

  // A rewrite in place (open, write, close) and a new post by a new creator
  // (a folder that appears while it runs), written through a temp name.
  const auto [owner, file] = FirstPost(lake);
  const std::string rewritten_id =
      json::parse(*ReadFile((lake / "instagram_graph/posts" / owner / file).string()))["id"];
  absl::Time written = absl::Now();
  {
    std::ofstream out(lake / "instagram_graph/posts" / owner / file, std::ios::trunc);
    out << PostJson(owner, rewritten_id, "rewritten while following");
  }
  const double rewrite_lag =
      WaitSearchable(rewritten_id, "rewritten while following", written, absl::Seconds(5));
  EXPECT_GE(rewrite_lag, 0) << "a rewrite was not searchable within 5 s (inotify)";

  const fs::path new_dir = lake / "instagram_graph/posts/990000001";
  fs::create_directories(new_dir);
  absl::SleepFor(absl::Milliseconds(300));  // The folder's watch is added.
  written = absl::Now();
  ASSERT_TRUE(WriteFileAtomically((new_dir / "990000001001.json").string(),
                                  PostJson("990000001", "990000001001", "brand new post"))
                  .ok());
  const double new_lag =
      WaitSearchable("990000001001", "brand new post", written, absl::Seconds(5));
  EXPECT_GE(new_lag, 0) << "a new post was not searchable within 5 s (inotify)";
  std::cout << "inotify lag: rewrite " << rewrite_lag << " s, new " << new_lag << " s\n";

  // The metrics: both files' lag observed, both changes counted as inotify's.
  std::string metrics_at;
  for (absl::string_view line : absl::StrSplit(*ReadFile((root_ / "follow.err").string()), '\n')) {
    const json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.value("msg", "") == "serving metrics") {
      metrics_at = parsed.value("metrics", "");
    }
  }
  ASSERT_FALSE(metrics_at.empty());
  HttpRequest request;
  request.url = absl::StrCat("http://", metrics_at, "/metrics");
  absl::StatusOr<HttpResponse> metrics = http_->Send(request);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  auto value = [&](absl::string_view name) {
    for (absl::string_view line : absl::StrSplit(metrics->body, '\n')) {
      if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, " ")) {
        double v = -1;
        if (absl::SimpleAtod(line, &v)) return v;
      }
    }
    return -1.0;
  };
  EXPECT_GE(value("scout_follow_lag_seconds_count"), 2) << metrics->body;
  EXPECT_GE(value("scout_follow_changes_total{source=\"inotify\"}"), 2) << metrics->body;
  EXPECT_EQ(value("scout_follow_queue_depth"), 0) << metrics->body;

  ASSERT_EQ(follower.Terminate(), 0);
  const json report = LastJsonLine(root_ / "follow.out");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(Field(report, "posts_indexed"), posts + 2) << report.dump();
  EXPECT_EQ(report.value("error", ""), "");
  // Committed: the new post's file with its size.
  const std::string key = "instagram_graph/posts/990000001/990000001001.json";
  const std::string line = CheckpointLine(key);
  EXPECT_TRUE(absl::StartsWith(
      line, absl::StrCat(key, "\t", fs::file_size(new_dir / "990000001001.json"), "\t")))
      << line;
  ExpectNothingToDo(lake.string(), "local lake");
}

// kill -9 at any moment, then a restart on the same state, loses nothing:
// each round writes 40 new posts and 40 rewrites of the lake's while the
// follower runs, kills it after a different delay (before, during and after
// its batches) and starts another, whose start-up sweep finds what the dead
// one had not committed. At the end every post is searched with its last
// caption, none twice, and a normal run finds nothing left to do.
TEST_F(FollowTest, KilledAnywhereThenRestartedLosesNothing) {
  const fs::path posts_dir = root_ / "lake/instagram_graph/posts";
  std::vector<fs::path> files;
  for (const auto& file : fs::recursive_directory_iterator(posts_dir)) {
    if (file.is_regular_file()) files.push_back(file.path());
  }
  std::sort(files.begin(), files.end());
  const int64_t posts = static_cast<int64_t>(files.size());
  ASSERT_GE(posts, 10);
  std::vector<std::string> args = IngestArgs((root_ / "lake").string());
  for (const char* arg : {"--follow", "--follow_sweep=0", "--follow_batch=16"}) args.push_back(arg);
  auto follower = std::make_unique<Child>(args, root_ / "f0.out", root_ / "f0.err");
  ASSERT_TRUE(follower->started());
  WaitIndexed(posts, *follower);
  if (HasFatalFailure()) return;

  std::map<std::string, std::string> want;  // Post id -> its last caption.
  int64_t added = 0;
  const absl::Duration kill_after[] = {absl::ZeroDuration(), absl::Milliseconds(300),
                                       absl::Milliseconds(1200)};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      const fs::path& rewritten = files[static_cast<size_t>(round * 40 + i) % files.size()];
      const std::string owner = rewritten.parent_path().filename().string();
      // The same post with a new caption (its timestamp, and so its
      // monthly index, stays).
      json post = json::parse(*ReadFile(rewritten.string()));
      const std::string id = post["id"];
      want[id] = absl::StrCat("round ", round, " rewrite ", i);
      post["caption"] = want[id];
      ASSERT_TRUE(WriteFileAtomically(rewritten.string(), post.dump()).ok());
      const std::string new_id = absl::StrCat("99", round, 100 + i, owner);
      want[new_id] = absl::StrCat("round ", round, " new ", i);
      ASSERT_TRUE(WriteFileAtomically((rewritten.parent_path() / (new_id + ".json")).string(),
                                      PostJson(owner, new_id, want[new_id]))
                      .ok());
      ++added;
    }
    absl::SleepFor(kill_after[round]);
    follower->Kill();
    follower = std::make_unique<Child>(args, root_ / absl::StrCat("f", round + 1, ".out"),
                                       root_ / absl::StrCat("f", round + 1, ".err"));
    ASSERT_TRUE(follower->started());
  }

  // The last follower catches up: every post with its last caption.
  std::map<std::string, std::string> searched;
  for (const absl::Time until = absl::Now() + absl::Seconds(120);
       searched != want && absl::Now() < until && follower->Running();) {
    absl::SleepFor(absl::Milliseconds(300));
    std::vector<std::string> ids;
    for (const auto& [id, caption] : want) ids.push_back(id);
    absl::StatusOr<json> answer = elastic_->Call(
        "POST", absl::StrCat(prefix_, "-*/_search"),
        json{
            {"size", 1000}, {"_source", {"id", "caption"}}, {"query", {{"terms", {{"id", ids}}}}}});
    if (!answer.ok()) continue;
    searched.clear();
    for (const json& hit : (*answer)["hits"]["hits"]) {
      searched[hit["_source"].value("id", "")] = hit["_source"].value("caption", "");
    }
  }
  EXPECT_EQ(searched, want) << "posts lost or stale after kill -9 and restarts";
  EXPECT_EQ(Indexed(), posts + added) << "a post indexed twice, or one lost";
  ASSERT_EQ(follower->Terminate(), 0);
  ExpectNothingToDo((root_ / "lake").string(), "after kill -9 and restarts");
}

// A weed of the test's own (master, volume, filer with the webhook, S3).
class Weed {
 public:
  Weed(const fs::path& dir, int webhook_port) {
    fs::create_directories(dir / "data");
    std::ofstream(dir / "notification.toml")
        << "[notification.webhook]\nenabled = true\nendpoint = \"http://127.0.0.1:" << webhook_port
        << "/events/seaweedfs\"\nbearer_token = \"hook-token\"\nevent_types = [\"create\", "
           "\"update\", \"rename\"]\ntimeout_seconds = 5\n";
    std::ofstream(dir / "identities.json")
        << R"({"identities":[{"name":"t","credentials":[{"accessKey":"FOLLOWTEST","secretKey":"followtestsecret"}],"actions":["Admin","Read","List","Tagging","Write"]}]})";
    std::vector<int> ports;
    for (int i = 0; i < 4; ++i) ports.push_back(FreePortPair(ports));
    s3_port_ = ports[3];
    const char* weed = std::getenv("SCOUT_WEED");
    child_ = std::make_unique<Child>(
        std::vector<std::string>{
            weed != nullptr ? weed : SCOUT_WEED_BIN, "server", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-dir=" + (dir / "data").string(),
            absl::StrCat("-master.port=", ports[0]), "-master.volumeSizeLimitMB=32",
            absl::StrCat("-volume.port=", ports[1]), "-volume.max=4", "-volume.preStopSeconds=0",
            "-filer", absl::StrCat("-filer.port=", ports[2]), "-s3",
            absl::StrCat("-s3.port=", ports[3]), "-s3.config=" + (dir / "identities.json").string(),
            "-s3.port.iceberg=0", "-s3.port.lance=0"},
        dir / "weed.out", dir / "weed.log", std::vector<std::string>{}, dir);
  }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", s3_port_); }
  std::vector<std::string> Env() const {
    return {"AWS_ENDPOINT_URL=" + endpoint(), "AWS_ACCESS_KEY_ID=FOLLOWTEST",
            "AWS_SECRET_ACCESS_KEY=followtestsecret", "AWS_REGION=us-east-1",
            "AWS_ENDPOINT_URL_S3=" + endpoint()};
  }
  std::unique_ptr<ObjectStore> Store() const {
    S3Options options;
    options.endpoint = endpoint();
    options.max_attempts = 2;
    setenv("AWS_ACCESS_KEY_ID", "FOLLOWTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "followtestsecret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    return NewS3ObjectStore(NewCurlHttpClient(),
                            NewAwsCredentialsChain(NewCurlHttpClient(), "us-east-1"), options);
  }
  bool Running() { return child_->Running(); }
  ~Weed() { child_->Terminate(absl::Seconds(20)); }

 private:
  int s3_port_ = 0;
  std::unique_ptr<Child> child_;
};

TEST_F(FollowTest, S3LakeWithSeaweedEventsThenWithTheSweepAlone) {
  const int events_port = FreePort();
  Weed weed(root_ / "weed", events_port);
  std::unique_ptr<ObjectStore> store = weed.Store();
  const std::string bucket = absl::AsciiStrToLower(absl::StrCat("follow-", getpid()));
  absl::Status created = absl::UnavailableError("not tried");
  for (const absl::Time until = absl::Now() + absl::Seconds(90);
       !created.ok() && absl::Now() < until && weed.Running();) {
    created = store->CreateBucket(bucket);
    if (!created.ok()) absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_TRUE(created.ok()) << "the test's weed did not come up: " << created << " (see "
                            << (root_ / "weed/weed.log") << ")";
  int64_t posts = 0;
  const fs::path lake = root_ / "lake";
  for (const auto& file : fs::recursive_directory_iterator(lake / "instagram_graph/posts")) {
    if (!file.is_regular_file()) continue;
    const std::string key = absl::StrCat("lake/", fs::relative(file.path(), lake).string());
    ASSERT_TRUE(store->Put(bucket, key, *ReadFile(file.path().string())).ok()) << key;
    ++posts;
  }
  const std::string s3_lake = absl::StrCat("s3://", bucket, "/lake/");
  const auto [owner, file] = FirstPost(lake);
  const std::string rewritten_key = absl::StrCat("lake/instagram_graph/posts/", owner, "/", file);
  const std::string rewritten_id =
      json::parse(*ReadFile((lake / "instagram_graph/posts" / owner / file).string()))["id"];

  // 1. Events: the sweep runs only at start, so only the webhook can tell.
  std::vector<std::string> args = IngestArgs(s3_lake);
  for (const std::string& arg : {std::string("--follow"), std::string("--follow_sweep=0"),
                                 absl::StrCat("--follow_events_listen=127.0.0.1:", events_port)}) {
    args.push_back(arg);
  }
  std::vector<std::string> env = weed.Env();
  env.push_back("SCOUT_EVENTS_TOKEN=hook-token");
  {
    Child follower(args, root_ / "events.out", root_ / "events.err", env);
    ASSERT_TRUE(follower.started());
    WaitIndexed(posts, follower);
    if (HasFatalFailure()) return;
    absl::Time written = absl::Now();
    ASSERT_TRUE(
        store->Put(bucket, rewritten_key, PostJson(owner, rewritten_id, "rewritten on s3")).ok());
    const double rewrite_lag =
        WaitSearchable(rewritten_id, "rewritten on s3", written, absl::Seconds(5));
    EXPECT_GE(rewrite_lag, 0) << "a rewrite was not searchable within 5 s (SeaweedFS events)";
    written = absl::Now();
    ASSERT_TRUE(store
                    ->Put(bucket, "lake/instagram_graph/posts/990000002/990000002001.json",
                          PostJson("990000002", "990000002001", "new on s3"))
                    .ok());
    const double new_lag = WaitSearchable("990000002001", "new on s3", written, absl::Seconds(5));
    EXPECT_GE(new_lag, 0) << "a new post was not searchable within 5 s (SeaweedFS events)";
    std::cout << "SeaweedFS event lag: rewrite " << rewrite_lag << " s, new " << new_lag << " s\n";
    ASSERT_EQ(follower.Terminate(), 0);
    const json report = LastJsonLine(root_ / "events.out");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(Field(report, "posts_indexed"), posts + 2) << report.dump();
    // About one GET a file (151 for 75 + 2 before events with a known ETag
    // were skipped): SeaweedFS also delivers the events of the uploads made
    // before the follower started, after its first sweep read those files.
    // One more is seen every time and not explained yet.
    const int64_t gets = std::stoll(report["s3_requests"]["gets"].get<std::string>());
    EXPECT_GE(gets, posts + 2) << report.dump();
    EXPECT_LE(gets, posts + 3) << report.dump();
    // The events, not a sweep, brought them: the log says which source.
    absl::StatusOr<std::string> log = ReadFile((root_ / "events.err").string());
    ASSERT_TRUE(log.ok());
    EXPECT_TRUE(absl::StrContains(*log, "event receiver listening")) << *log;
  }
  EXPECT_FALSE(CheckpointLine("instagram_graph/posts/990000002/990000002001.json").empty());
  // Known gap: the daily run after events sometimes reads one of the two
  // changed files once more (found unchanged, not written): the checkpoint
  // then holds attributes other than the listing's for it. Not a loss.
  ExpectNothingToDo(s3_lake, "S3 lake after events", weed.Env(), /*reread=*/1);

  // 2. The sweep alone (every 2 s): no events receiver.
  args = IngestArgs(s3_lake);
  for (const char* arg : {"--follow", "--follow_sweep=2s"}) args.push_back(arg);
  {
    Child follower(args, root_ / "sweep.out", root_ / "sweep.err", weed.Env());
    ASSERT_TRUE(follower.started());
    absl::SleepFor(absl::Seconds(1));
    absl::Time written = absl::Now();
    ASSERT_TRUE(
        store->Put(bucket, rewritten_key, PostJson(owner, rewritten_id, "swept again")).ok());
    ASSERT_TRUE(store
                    ->Put(bucket, "lake/instagram_graph/posts/990000003/990000003001.json",
                          PostJson("990000003", "990000003001", "found by the sweep"))
                    .ok());
    const double rewrite_lag =
        WaitSearchable(rewritten_id, "swept again", written, absl::Seconds(60));
    const double new_lag =
        WaitSearchable("990000003001", "found by the sweep", written, absl::Seconds(60));
    EXPECT_GE(rewrite_lag, 0) << "a rewrite was not searchable within 60 s (sweep)";
    EXPECT_GE(new_lag, 0) << "a new post was not searchable within 60 s (sweep)";
    std::cout << "sweep lag: rewrite " << rewrite_lag << " s, new " << new_lag << " s\n";
    ASSERT_EQ(follower.Terminate(), 0);
    const json report = LastJsonLine(root_ / "sweep.out");
    EXPECT_EQ(Field(report, "posts_indexed"), 2) << report.dump();
  }
  ExpectNothingToDo(s3_lake, "S3 lake after the sweep", weed.Env());
  for (const char* key : {"lake/instagram_graph/posts/990000002/990000002001.json",
                          "lake/instagram_graph/posts/990000003/990000003001.json"}) {
    (void)store->Delete(bucket, key);
  }
}

}  // namespace
}  // namespace scout
