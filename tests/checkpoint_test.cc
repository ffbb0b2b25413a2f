#include "workers/ingest/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/io/files.h"
#include "common/io/lake.h"
#include "tests/faulty_files.h"

namespace scout::ingest {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("ckpt-", ::testing::UnitTest::GetInstance()->random_seed(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ingest.ckpt").string();
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(CheckpointTest, FirstRunIsEmpty) {
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->size(), 0u);
  EXPECT_EQ(checkpoint->Find("a"), nullptr);
}

TEST_F(CheckpointTest, CommittedEntriesSurviveAReopenWithoutCompaction) {
  const FileState a{10, 111, 0xabcdef0123456789ull, Outcome::kIndexed};
  const FileState b{20, 222, 0x42, Outcome::kQuarantined};
  {
    absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_);
    ASSERT_TRUE(checkpoint.ok());
    ASSERT_TRUE(checkpoint->Commit({{"posts/1/a.json", a}, {"posts/1/b.json", b}}).ok());
    // No Compact: as if the process died right after the commit.
  }
  absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
  ASSERT_TRUE(reopened.ok());
  ASSERT_NE(reopened->Find("posts/1/a.json"), nullptr);
  EXPECT_EQ(*reopened->Find("posts/1/a.json"), a);
  EXPECT_EQ(*reopened->Find("posts/1/b.json"), b);
}

TEST_F(CheckpointTest, LaterCommitsWinAndCompactionKeepsThem) {
  {
    absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_);
    ASSERT_TRUE(checkpoint.ok());
    ASSERT_TRUE(checkpoint->Commit({{"k", {1, 1, 1, Outcome::kMediaPending}}}).ok());
    ASSERT_TRUE(checkpoint->Commit({{"k", {2, 2, 2, Outcome::kIndexed}}}).ok());
    ASSERT_TRUE(checkpoint->Compact().ok());
    EXPECT_EQ(std::filesystem::file_size(path_ + ".journal"), 0u);
  }  // Released: a checkpoint has one owner at a time.
  absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->size(), 1u);
  EXPECT_EQ(*reopened->Find("k"), (FileState{2, 2, 2, Outcome::kIndexed}));
}

TEST_F(CheckpointTest, TornJournalTailIsIgnored) {
  {
    absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_);
    ASSERT_TRUE(checkpoint.ok());
    ASSERT_TRUE(checkpoint->Commit({{"whole", {5, 5, 5, Outcome::kTooOld}}}).ok());
  }
  // A crash mid-append leaves a line without its newline.
  const int fd = open((path_ + ".journal").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  const std::string torn = "torn\t9\t9\tff";
  ASSERT_EQ(write(fd, torn.data(), torn.size()), static_cast<ssize_t>(torn.size()));
  close(fd);

  {
    absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(reopened->Find("torn"), nullptr);
    EXPECT_EQ(*reopened->Find("whole"), (FileState{5, 5, 5, Outcome::kTooOld}));
    // And the next commit is not glued onto the torn bytes.
    ASSERT_TRUE(reopened->Commit({{"next", {6, 6, 6, Outcome::kIndexed}}}).ok());
  }
  absl::StatusOr<Checkpoint> again = Checkpoint::Open(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->Find("next"), nullptr);
}

TEST_F(CheckpointTest, ASecondOwnerIsRefusedUntilTheFirstIsGone) {
  absl::StatusOr<Checkpoint> first = Checkpoint::Open(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::StatusOr<Checkpoint> second = Checkpoint::Open(path_);
  // Retry later: another run of the same shard is under way.
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), ".lock")) << second.status();
  first = absl::UnavailableError("closed");  // Destroys the first owner.
  EXPECT_TRUE(Checkpoint::Open(path_).ok());
}

TEST_F(CheckpointTest, CompactionMakesTheSnapshotDurableBeforeEmptyingTheJournal) {
  testing::RecordingFileSystem recording;
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_, &recording);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  ASSERT_TRUE(checkpoint->Commit({{"k", {1, 1, 1, Outcome::kIndexed}}}).ok());
  const size_t before = recording.calls().size();
  ASSERT_TRUE(checkpoint->Compact().ok());
  std::vector<std::string> calls = recording.calls();
  calls.erase(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(before));
  auto at = [&](const std::string& prefix) {
    for (size_t i = 0; i < calls.size(); ++i) {
      if (absl::StartsWith(calls[i], prefix)) return static_cast<int>(i);
    }
    return -1;
  };
  const int synced = at("sync " + (dir_ / ".ingest.ckpt.tmp.").string());
  const int renamed = at("rename ");
  const int dir_synced = at("syncdir " + dir_.string());
  const int emptied = at("open " + path_ + ".journal");
  ASSERT_GE(synced, 0) << ::testing::PrintToString(calls);
  EXPECT_LT(synced, renamed);
  EXPECT_LT(renamed, dir_synced);
  EXPECT_LT(dir_synced, emptied) << ::testing::PrintToString(calls);
}

// A run that committed nothing rewrites nothing (on S3 the snapshot is one
// PUT of every entry).
TEST_F(CheckpointTest, CompactingWithNothingCommittedWritesNothing) {
  testing::RecordingFileSystem recording;
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_, &recording);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  const size_t before = recording.calls().size();
  ASSERT_TRUE(checkpoint->Compact().ok());
  EXPECT_EQ(recording.calls().size(), before) << ::testing::PrintToString(recording.calls());
  ASSERT_TRUE(checkpoint->Commit({{"k", {1, 1, 1, Outcome::kIndexed}}}).ok());
  ASSERT_TRUE(checkpoint->Compact().ok());
  EXPECT_GT(recording.calls().size(), before);
}

TEST_F(CheckpointTest, AFailedSnapshotKeepsTheJournalAndSurfaces) {
  const FileState a{1, 1, 1, Outcome::kIndexed};
  for (const char* fault : {"sync", "rename", "syncdir", "short write"}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    testing::RecordingFileSystem faulty;
    {
      absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_, &faulty);
      ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
      ASSERT_TRUE(checkpoint->Commit({{"a", a}}).ok());
      faulty.fail_sync = std::string(fault) == "sync";
      faulty.fail_rename = std::string(fault) == "rename";
      faulty.fail_sync_dir = std::string(fault) == "syncdir";
      faulty.short_write_after = std::string(fault) == "short write" ? 3 : -1;
      const absl::Status compacted = checkpoint->Compact();
      EXPECT_FALSE(compacted.ok()) << fault;
      EXPECT_TRUE(absl::StrContains(compacted.message(), "injected")) << fault << compacted;
      if (std::string(fault) != "syncdir") {
        // The journal still holds what the snapshot failed to take.
        EXPECT_GT(std::filesystem::file_size(path_ + ".journal"), 0u) << fault;
      }
    }
    absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
    ASSERT_TRUE(reopened.ok()) << fault << reopened.status();
    ASSERT_NE(reopened->Find("a"), nullptr) << fault;
    EXPECT_EQ(*reopened->Find("a"), a) << fault;
  }
}

TEST_F(CheckpointTest, AShortJournalWriteStopsLaterCommitsUntilCompacted) {
  testing::RecordingFileSystem faulty;
  const FileState a{1, 1, 1, Outcome::kIndexed}, b{2, 2, 2, Outcome::kIndexed};
  {
    absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_, &faulty);
    ASSERT_TRUE(checkpoint.ok());
    faulty.short_write_after = 1;  // Leaves "x" in the journal: a torn line.
    const absl::Status failed = checkpoint->Commit({{"xa", a}});
    EXPECT_TRUE(absl::IsUnavailable(failed)) << failed;
    EXPECT_EQ(checkpoint->Find("xa"), nullptr);
    faulty.short_write_after = -1;
    // Appending now would glue "x" onto this line: "xb" would load as "xxb"...
    // or, worse, as a valid entry of another key. Refused instead.
    EXPECT_FALSE(checkpoint->Commit({{"b", b}}).ok());
    ASSERT_TRUE(checkpoint->Compact().ok());
    ASSERT_TRUE(checkpoint->Commit({{"b", b}}).ok());
  }
  absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->size(), 1u);
  EXPECT_EQ(*reopened->Find("b"), b);
}

// Lines keep the lake's ETag (S3); lines of five fields, written before
// ETags were kept, still load (without one). An ETag that would break the
// line is not kept.
TEST_F(CheckpointTest, EtagsAreKeptAndOldLinesStillLoad) {
  {
    std::FILE* old = std::fopen(path_.c_str(), "w");
    ASSERT_NE(old, nullptr);
    std::fputs("posts/1/old.json\t10\t111\tff\ti\n", old);
    std::fclose(old);
  }
  const FileState with_etag{20, 222, 0x42, Outcome::kIndexed, "9b2cf535f27731c974343645a3985328"};
  const FileState hostile{30, 333, 0x43, Outcome::kIndexed, "a\tb\nc"};
  {
    absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Open(path_);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    ASSERT_NE(checkpoint->Find("posts/1/old.json"), nullptr);
    EXPECT_EQ(*checkpoint->Find("posts/1/old.json"), (FileState{10, 111, 0xff, Outcome::kIndexed}));
    ASSERT_TRUE(
        checkpoint->Commit({{"posts/1/new.json", with_etag}, {"posts/1/h.json", hostile}}).ok());
  }
  absl::StatusOr<Checkpoint> reopened = Checkpoint::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->size(), 3u);
  EXPECT_EQ(*reopened->Find("posts/1/new.json"), with_etag);
  ASSERT_NE(reopened->Find("posts/1/h.json"), nullptr);
  EXPECT_EQ(reopened->Find("posts/1/h.json")->etag, "");
  EXPECT_EQ(reopened->Find("posts/1/h.json")->size, 30);
}

// The lake the checkpoint tracks: a missing folder is nothing new, a
// missing root is a misconfiguration that must not pass for "no files".
TEST_F(CheckpointTest, LakeListsFoldersAndRefusesAMissingRoot) {
  ASSERT_TRUE(WriteFileAtomically((dir_ / "lake/posts/b.json").string(), "{}").ok());
  ASSERT_TRUE(WriteFileAtomically((dir_ / "lake/posts/a.json").string(), "{}").ok());
  std::unique_ptr<Lake> lake = NewLocalLake((dir_ / "lake").string());
  absl::StatusOr<std::vector<LakeEntry>> listed = lake->List("posts");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "a.json");
  EXPECT_EQ((*listed)[1].size, 2);
  listed = lake->List("stats");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());

  listed = NewLocalLake((dir_ / "unmounted").string())->List("posts");
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(listed.status().message().find("not a folder"), std::string::npos) << listed.status();
}

// The flat listing of the local lake: every file at any depth, in the byte
// order of the paths (as S3 lists keys), hidden names skipped, pages of 1,000.
TEST_F(CheckpointTest, LakeListsEveryFileInKeyOrderAndPages) {
  const std::filesystem::path posts = dir_ / "lake/posts";
  for (int i = 0; i < 1001; ++i) {
    ASSERT_TRUE(WriteFileAtomically((posts / "1" / absl::StrCat(i, ".json")).string(), "{}").ok());
  }
  for (const char* file :
       {"a-b", "a/x.json", "a0", "1/deep/er.json", "1/.hidden.json", ".staging/2.json"}) {
    ASSERT_TRUE(WriteFileAtomically((posts / file).string(), "{}").ok());
  }
  std::unique_ptr<Lake> lake = NewLocalLake((dir_ / "lake").string());
  std::vector<std::string> names;
  std::vector<size_t> pages;
  absl::Status listed = lake->ListFiles("posts/", [&](std::vector<LakeEntry>& page) {
    pages.push_back(page.size());
    for (const LakeEntry& entry : page) {
      EXPECT_EQ(entry.size, 2);
      EXPECT_GT(entry.mtime_ns, 0);
      names.push_back(entry.name);
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(listed.ok()) << listed;
  EXPECT_EQ(pages, (std::vector<size_t>{1000, 5}));
  ASSERT_EQ(names.size(), 1005u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << ::testing::PrintToString(names);
  EXPECT_EQ(names[0], "1/0.json");
  EXPECT_EQ(names[1001], "1/deep/er.json");
  EXPECT_EQ(names[1002], "a-b");
  EXPECT_EQ(names[1003], "a/x.json");
  EXPECT_EQ(names[1004], "a0");

  auto nothing = [](std::vector<LakeEntry>&) -> absl::Status {
    return absl::InternalError("a page for nothing");
  };
  EXPECT_TRUE(lake->ListFiles("stats/", nothing).ok());
  const absl::Status unmounted =
      NewLocalLake((dir_ / "unmounted").string())->ListFiles("posts", nothing);
  EXPECT_EQ(unmounted.code(), absl::StatusCode::kNotFound) << unmounted;
}

}  // namespace
}  // namespace scout::ingest
