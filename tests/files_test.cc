// The files seam: durable atomic writes (fsync file, rename, fsync
// directory), unique temporary names, capped reads, locks, and errors that
// surface when an injected fault hits any step.
#include "common/io/files.h"
#include "tests/faulty_files.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using scout::testing::RecordingFileSystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("files-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "file").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Leftovers() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(FilesTest, AnAtomicWriteSyncsTheFileThenRenamesThenSyncsTheDirectory) {
  RecordingFileSystem recording;
  ASSERT_TRUE(WriteFileAtomically(recording, path_, "new").ok());
  const std::vector<std::string> calls = recording.calls();
  ASSERT_EQ(calls.size(), 6u) << ::testing::PrintToString(calls);
  const std::string tmp = calls[0].substr(5);  // "open <tmp>"
  EXPECT_TRUE(absl::StrContains(tmp, "/.file.tmp.")) << tmp;
  EXPECT_EQ(calls[1], "append " + tmp);
  EXPECT_EQ(calls[2], "sync " + tmp);
  EXPECT_EQ(calls[3], "close " + tmp);
  EXPECT_EQ(calls[4], absl::StrCat("rename ", tmp, " ", path_));
  EXPECT_EQ(calls[5], "syncdir " + dir_.string());
  EXPECT_EQ(*ReadFile(path_), "new");
}

TEST_F(FilesTest, TemporaryNamesAreUniquePerCallAndThread) {
  RecordingFileSystem recording;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(WriteFileAtomically(recording, path_, "x").ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<std::string> temps;
  for (const std::string& call : recording.calls()) {
    if (absl::StartsWith(call, "open ")) temps.push_back(call);
  }
  ASSERT_EQ(temps.size(), 20u);
  std::sort(temps.begin(), temps.end());
  EXPECT_EQ(std::unique(temps.begin(), temps.end()), temps.end());
  EXPECT_THAT(Leftovers(), ::testing::ElementsAre("file"));
}

TEST_F(FilesTest, EveryFailingStepSurfacesAndLeavesTheOldFileWhole) {
  ASSERT_TRUE(WriteFileAtomically(path_, "old").ok());
  for (const char* step : {"sync", "rename", "short write"}) {
    RecordingFileSystem faulty;
    faulty.fail_sync = std::string(step) == "sync";
    faulty.fail_rename = std::string(step) == "rename";
    faulty.short_write_after = std::string(step) == "short write" ? 2 : -1;
    const absl::Status status = WriteFileAtomically(faulty, path_, "brand new");
    EXPECT_FALSE(status.ok()) << step;
    EXPECT_TRUE(absl::StrContains(status.message(), "injected")) << step << ": " << status;
    EXPECT_EQ(*ReadFile(path_), "old") << step;
    EXPECT_THAT(Leftovers(), ::testing::ElementsAre("file")) << step;  // No temp left.
  }
  RecordingFileSystem faulty;
  faulty.fail_sync_dir = true;
  EXPECT_TRUE(absl::IsUnavailable(WriteFileAtomically(faulty, path_, "new")));
}

TEST_F(FilesTest, CappedReadsRefuseDevicesAndLargeFiles) {
  ASSERT_TRUE(WriteFileAtomically(path_, std::string(100, 'x')).ok());
  FileSystem* fs = FileSystem::Default();
  EXPECT_EQ(fs->ReadFile(path_, 100)->size(), 100u);
  EXPECT_TRUE(absl::IsFailedPrecondition(fs->ReadFile(path_, 99).status()));
  // /dev/zero never ends: without the check a read runs out of memory.
  EXPECT_TRUE(absl::IsFailedPrecondition(fs->ReadFile("/dev/zero", 1 << 20).status()));
  EXPECT_TRUE(absl::IsNotFound(fs->ReadFile((dir_ / "missing").string(), 10).status()));
}

TEST_F(FilesTest, ALockIsExclusiveUntilReleased) {
  FileSystem* fs = FileSystem::Default();
  const std::string lock_path = (dir_ / "x.lock").string();
  absl::StatusOr<std::unique_ptr<FileLock>> first = fs->Lock(lock_path);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<FileLock>> second = fs->Lock(lock_path);
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "another run")) << second.status();
  first->reset();
  EXPECT_TRUE(fs->Lock(lock_path).ok());
}

TEST(ErrnoStatusTest, CodesSayWhatToDo) {
  EXPECT_TRUE(absl::IsNotFound(ErrnoStatus("cannot open", "/x", ENOENT)));
  EXPECT_TRUE(absl::IsUnavailable(ErrnoStatus("cannot write", "/x", ENOSPC)));
  const absl::Status other = ErrnoStatus("cannot open", "/x", EACCES);
  EXPECT_TRUE(absl::IsInternal(other));
  EXPECT_EQ(other.message(), "cannot open /x: Permission denied");
}

}  // namespace
}  // namespace scout
