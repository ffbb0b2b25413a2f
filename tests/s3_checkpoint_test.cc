// The ingest checkpoint on S3 (the real SeaweedFS of scripts/services):
// snapshot + one journal object per commit, what a crash leaves behind, and
// the lease that keeps two runs of a shard from interleaving (S3
// conditional writes). Each test makes its own bucket and removes it.
#include "workers/ingest/s3_checkpoint.h"

#include <unistd.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/backends/lease.h"
#include "common/base/clock.h"
#include "common/base/time.h"

namespace scout::ingest {
namespace {

using ::testing::HasSubstr;

constexpr char kKey[] = "state/ingest-scout-posts-shard-0-of-1.ckpt";

class S3CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
    ASSERT_TRUE(endpoint != nullptr && *endpoint != '\0')
        << "AWS_ENDPOINT_URL is not set: run through scripts/test, which starts the services "
           "(or eval \"$(scripts/services up)\")";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    bucket_ = absl::AsciiStrToLower(absl::StrCat("t-", info->name(), "-", getpid()));
    absl::StrReplaceAll({{"_", "-"}}, &bucket_);
    if (bucket_.size() > 63) bucket_ = bucket_.substr(bucket_.size() - 63);
    store_ = NewS3ObjectStoreFromEnv();
    absl::Status created = store_->CreateBucket(bucket_);
    ASSERT_TRUE(created.ok()) << created;
  }
  void TearDown() override {
    if (store_ == nullptr || bucket_.empty()) return;
    absl::StatusOr<S3ListPage> all = store_->List(bucket_, "", "");
    if (all.ok()) {
      for (const S3Object& object : all->objects) (void)store_->Delete(bucket_, object.key);
    }
    EXPECT_TRUE(store_->DeleteBucket(bucket_).ok());
  }

  static LeaseOptions LeaseFor(const std::string& holder, const Clock* clock = nullptr) {
    LeaseOptions options;
    options.holder = holder;
    options.ttl = absl::Minutes(1);
    options.renew_every = absl::ZeroDuration();
    options.clock = clock;
    return options;
  }

  absl::StatusOr<Checkpoint> Open(const std::string& holder, const Clock* clock = nullptr) {
    absl::StatusOr<std::unique_ptr<CheckpointStorage>> storage =
        OpenS3CheckpointStorage(store_, bucket_, kKey, LeaseFor(holder, clock));
    if (!storage.ok()) return storage.status();
    return Checkpoint::Open(*std::move(storage));
  }

  std::vector<std::string> Keys(const std::string& prefix) {
    absl::StatusOr<S3ListPage> listing = store_->List(bucket_, prefix, "");
    EXPECT_TRUE(listing.ok()) << listing.status();
    std::vector<std::string> keys;
    if (listing.ok()) {
      for (const S3Object& object : listing->objects) keys.push_back(object.key);
    }
    return keys;
  }

  std::string bucket_;
  std::shared_ptr<ObjectStore> store_;
};

// Every commit is its own object, durable once its PUT returned: a run that
// dies without compacting loses none of them; the next run folds them into
// the snapshot and deletes them.
TEST_F(S3CheckpointTest, CommitsSurviveACrashAndAreFoldedByTheNextRun) {
  const FileState a{10, 111, 0xabcdef0123456789ull, Outcome::kIndexed, "etag-a"};
  const FileState b{20, 222, 0x42, Outcome::kQuarantined, "etag-b"};
  const FileState b2{21, 223, 0x43, Outcome::kIndexed, "etag-b2"};
  {
    absl::StatusOr<Checkpoint> checkpoint = Open("run-1");
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ(checkpoint->size(), 0u);
    ASSERT_TRUE(checkpoint->Commit({{"posts/1/a.json", a}, {"posts/1/b.json", b}}).ok());
    ASSERT_TRUE(checkpoint->Commit({{"posts/1/b.json", b2}}).ok());
    // No Compact: as if the process died right after the commits.
  }
  const std::vector<std::string> journals = Keys(absl::StrCat(kKey, ".journal/"));
  ASSERT_EQ(journals.size(), 2u) << ::testing::PrintToString(journals);
  EXPECT_EQ(journals[0], absl::StrCat(kKey, ".journal/00000000000000000001-0000000000"));
  EXPECT_EQ(journals[1], absl::StrCat(kKey, ".journal/00000000000000000001-0000000001"));

  {
    absl::StatusOr<Checkpoint> reopened = Open("run-2");
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ(reopened->size(), 2u);
    ASSERT_NE(reopened->Find("posts/1/a.json"), nullptr);
    EXPECT_EQ(*reopened->Find("posts/1/a.json"), a);
    EXPECT_EQ(*reopened->Find("posts/1/b.json"), b2);  // The later commit wins.
    // Opening folded the journal into the snapshot and deleted it.
    EXPECT_TRUE(Keys(absl::StrCat(kKey, ".journal/")).empty());
    absl::StatusOr<std::string> snapshot = store_->Get(bucket_, kKey);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_TRUE(absl::StartsWith(*snapshot, "#generation 2\n")) << *snapshot;
    EXPECT_THAT(*snapshot, HasSubstr("posts/1/a.json\t10\t111\tabcdef0123456789\ti\tetag-a\n"));
  }

  // A journal object the snapshot already holds (its deletion was cut short
  // by a crash) is ignored, so it cannot bring back an older state.
  ASSERT_TRUE(store_
                  ->Put(bucket_, absl::StrCat(kKey, ".journal/00000000000000000002-0000000000"),
                        "posts/1/a.json\t1\t1\t1\tq\told\n")
                  .ok());
  absl::StatusOr<Checkpoint> again = Open("run-3");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again->Find("posts/1/a.json"), a);
}

// A local checkpoint file copied up (no header, five-field lines written
// before ETags were kept) loads as the snapshot.
TEST_F(S3CheckpointTest, ALocalCheckpointCopiedUpLoads) {
  ASSERT_TRUE(store_->Put(bucket_, kKey, "posts/1/a.json\t10\t111\tff\ti\n").ok());
  absl::StatusOr<Checkpoint> checkpoint = Open("run-1");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  ASSERT_NE(checkpoint->Find("posts/1/a.json"), nullptr);
  EXPECT_EQ(*checkpoint->Find("posts/1/a.json"), (FileState{10, 111, 0xff, Outcome::kIndexed, ""}));
}

// Issue 12: two runs of the same shard never interleave. The second is
// refused at start, naming the holder and the expiry (retry later).
TEST_F(S3CheckpointTest, ASecondRunIsRefusedWhileTheLeaseIsLive) {
  absl::StatusOr<Checkpoint> first = Open("run-a");
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::StatusOr<Checkpoint> second = Open("run-b");
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("held by run-a until 20"));
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat(kKey, ".lease")));
  first = absl::UnavailableError("closed");          // A normal exit releases the lease...
  absl::StatusOr<Checkpoint> third = Open("run-c");  // ...so the next run starts at once.
  EXPECT_TRUE(third.ok()) << third.status();
}

// A run that died keeps its lease until it expires; then the next run takes
// it over. A holder whose lease was taken cannot commit (ABORTED) nor
// compact, and what it tried to write is not in the checkpoint.
TEST_F(S3CheckpointTest, AnExpiredLeaseIsTakenOverAndItsOldHolderCannotCommit) {
  const FileState a{1, 1, 1, Outcome::kIndexed, "e1"};
  const FileState b{2, 2, 2, Outcome::kIndexed, "e2"};
  absl::StatusOr<Checkpoint> stalled = Open("run-stalled");
  ASSERT_TRUE(stalled.ok()) << stalled.status();
  ASSERT_TRUE(stalled->Commit({{"a", a}}).ok());

  // Before expiry: refused. A minute and a second later (the TTL is a
  // minute): taken over.
  EXPECT_TRUE(absl::IsUnavailable(Open("run-early").status()));
  const std::unique_ptr<Clock> later = NewFixedClock(absl::Now() + absl::Seconds(61));
  absl::StatusOr<Checkpoint> taker = Open("run-taker", later.get());
  ASSERT_TRUE(taker.ok()) << taker.status();
  ASSERT_NE(taker->Find("a"), nullptr);  // What the stalled run committed is kept.

  // The stalled run wakes up: its next commit renews first and finds the lease gone.
  absl::Status refused = stalled->Commit({{"b", b}});
  EXPECT_TRUE(absl::IsAborted(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("taken by run-taker"));
  EXPECT_EQ(stalled->Find("b"), nullptr);
  EXPECT_TRUE(absl::IsAborted(stalled->Compact()));
  stalled = absl::UnavailableError("gone");  // Its release must not free the taker's lease.
  EXPECT_TRUE(absl::IsUnavailable(Open("run-late").status()));

  ASSERT_TRUE(taker->Commit({{"c", a}}).ok());
  taker = absl::UnavailableError("done");
  absl::StatusOr<Checkpoint> after = Open("run-after");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->Find("a"), nullptr);
  EXPECT_NE(after->Find("c"), nullptr);
  EXPECT_EQ(after->Find("b"), nullptr);
}

// The lease object itself: created, renewed and released by conditional
// writes; an unreadable one counts as free.
TEST_F(S3CheckpointTest, LeaseRenewsAndReleases) {
  const std::string key = "state/x.lease";
  absl::StatusOr<std::unique_ptr<Lease>> lease =
      Lease::Acquire(NewS3VersionedObject(store_, bucket_, key), LeaseFor("one"));
  ASSERT_TRUE(lease.ok()) << lease.status();
  const absl::Time first = (*lease)->expires();
  absl::SleepFor(absl::Milliseconds(1100));
  ASSERT_TRUE((*lease)->Renew().ok());
  EXPECT_GT((*lease)->expires(), first);
  absl::StatusOr<std::string> body = store_->Get(bucket_, key);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("\"holder\":\"one\""));
  EXPECT_THAT(*body, HasSubstr(FormatRfc3339((*lease)->expires())));
  ASSERT_TRUE((*lease)->Release().ok());
  body = store_->Get(bucket_, key);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("1970-01-01T00:00:00Z"));
  EXPECT_TRUE(absl::IsAborted((*lease)->Check()));

  ASSERT_TRUE(store_->Put(bucket_, key, "not json").ok());
  absl::StatusOr<std::unique_ptr<Lease>> over =
      Lease::Acquire(NewS3VersionedObject(store_, bucket_, key), LeaseFor("two"));
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_TRUE((*over)->Check().ok());
}

// While held, the lease renews itself from its own thread, so a long batch
// between two commits does not let it expire.
TEST_F(S3CheckpointTest, ALeaseRenewsItselfWhileHeld) {
  const std::string key = "state/y.lease";
  LeaseOptions options = LeaseFor("renewing");
  options.renew_every = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<Lease>> lease =
      Lease::Acquire(NewS3VersionedObject(store_, bucket_, key), options);
  ASSERT_TRUE(lease.ok()) << lease.status();
  absl::StatusOr<std::string> before = store_->Get(bucket_, key);
  ASSERT_TRUE(before.ok()) << before.status();
  absl::SleepFor(absl::Milliseconds(1600));
  absl::StatusOr<std::string> after = store_->Get(bucket_, key);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(*after, *before);  // A later expiry (seconds resolution).
  EXPECT_TRUE((*lease)->Check().ok());
}

}  // namespace
}  // namespace scout::ingest
