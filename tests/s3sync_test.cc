// scout-s3sync's library against the real SeaweedFS of scripts/services:
// the first sync uploads every visible file, a second uploads nothing, a
// same-size edit is found by its MD5 (the ETag), --delete removes strays.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backends/s3.h"
#include "tools/s3sync/s3sync.h"

namespace scout::tools {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class S3SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
    ASSERT_TRUE(endpoint != nullptr && *endpoint != '\0')
        << "AWS_ENDPOINT_URL is not set: run through scripts/test, which starts the services";
    store_ = NewS3ObjectStoreFromEnv();
    destination_ = {absl::AsciiStrToLower(absl::StrCat("t-s3sync-", getpid())), "lake/"};
    dir_ = fs::path(::testing::TempDir()) / destination_.bucket;
    fs::remove_all(dir_);
    Write(dir_ / "posts/1/a.json", "{\"id\":\"a\"}");
    Write(dir_ / "posts/2/b.json", "{\"id\":\"b\"}");
    Write(dir_ / ".hidden/c.json", "hidden");
    Write(dir_ / "posts/.tmp-d.json", "hidden too");
  }
  void TearDown() override {
    if (store_ != nullptr) {
      if (absl::StatusOr<S3ListPage> all = store_->List(destination_.bucket, "", ""); all.ok()) {
        for (const S3Object& object : all->objects) {
          (void)store_->Delete(destination_.bucket, object.key);
        }
      }
      (void)store_->DeleteBucket(destination_.bucket);
    }
    fs::remove_all(dir_);
  }

  SyncReport Sync(SyncOptions options = {}) {
    absl::StatusOr<SyncReport> report =
        SyncDirectory(dir_.string(), *store_, destination_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : SyncReport{};
  }

  std::unique_ptr<ObjectStore> store_;
  S3Location destination_;
  fs::path dir_;
};

TEST_F(S3SyncTest, UploadsWhatDiffersOnly) {
  SyncOptions create;
  create.create_bucket = true;
  SyncReport first = Sync(create);
  EXPECT_EQ(first.files, 2);
  EXPECT_EQ(first.uploaded, 2);
  EXPECT_EQ(first.bytes_uploaded, 20);
  EXPECT_EQ(*store_->Get(destination_.bucket, "lake/posts/1/a.json"), "{\"id\":\"a\"}");
  absl::StatusOr<S3ListPage> all = store_->List(destination_.bucket, "", "");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->objects.size(), 2u) << "hidden names are not uploaded";

  const int64_t puts_before = store_->Counts().put;
  SyncReport again = Sync();
  EXPECT_EQ(again.uploaded, 0);
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(store_->Counts().put, puts_before);

  Write(dir_ / "posts/2/b.json", "{\"id\":\"B\"}");  // Same size, new bytes.
  SyncReport edited = Sync();
  EXPECT_EQ(edited.uploaded, 1);
  EXPECT_EQ(*store_->Get(destination_.bucket, "lake/posts/2/b.json"), "{\"id\":\"B\"}");

  // A rewrite with the same bytes, replayed: uploaded again.
  const absl::Time since = absl::Now() - absl::Minutes(1);
  fs::last_write_time(dir_ / "posts/1/a.json", fs::file_time_type::clock::now());
  SyncOptions replay;
  replay.rewritten_since = since;
  SyncReport rewritten = Sync(replay);
  EXPECT_EQ(rewritten.uploaded, 2) << "both files were written within the last minute";
  fs::last_write_time(dir_ / "posts/1/a.json",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  fs::last_write_time(dir_ / "posts/2/b.json",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  EXPECT_EQ(Sync(replay).uploaded, 0) << "older than rewritten_since and equal";
}

TEST_F(S3SyncTest, DeleteRemovesObjectsWithNoLocalFile) {
  SyncOptions create;
  create.create_bucket = true;
  Sync(create);
  ASSERT_TRUE(store_->Put(destination_.bucket, "lake/posts/9/stray.json", "x").ok());
  ASSERT_TRUE(store_->Put(destination_.bucket, "elsewhere/kept.json", "y").ok());
  EXPECT_EQ(Sync().deleted, 0) << "without --delete nothing goes";
  SyncOptions remove;
  remove.delete_extra = true;
  EXPECT_EQ(Sync(remove).deleted, 1);
  EXPECT_FALSE(store_->Head(destination_.bucket, "lake/posts/9/stray.json").ok());
  EXPECT_TRUE(store_->Head(destination_.bucket, "elsewhere/kept.json").ok())
      << "outside the prefix: not ours to delete";
}

TEST_F(S3SyncTest, MissingBucketIsNotFound) {
  absl::StatusOr<SyncReport> report = SyncDirectory(dir_.string(), *store_, destination_, {});
  EXPECT_TRUE(absl::IsNotFound(report.status())) << report.status();
  EXPECT_NE(report.status().message().find(destination_.bucket), std::string::npos);
}

}  // namespace
}  // namespace scout::tools
