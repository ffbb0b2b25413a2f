#include "workers/ingest/s3_checkpoint.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace scout::ingest {
namespace {

constexpr absl::string_view kHeader = "#generation ";

class S3CheckpointStorage final : public CheckpointStorage {
 public:
  S3CheckpointStorage(std::shared_ptr<ObjectStore> store, std::string bucket, std::string key,
                      std::unique_ptr<Lease> lease)
      : store_(std::move(store)),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        journal_prefix_(absl::StrCat(key_, ".journal/")),
        lease_(std::move(lease)) {}

  absl::StatusOr<bool> Load(const std::function<void(absl::string_view)>& apply) override {
    absl::StatusOr<std::string> snapshot = store_->Get(bucket_, key_);
    if (!snapshot.ok() && !absl::IsNotFound(snapshot.status())) return snapshot.status();
    if (snapshot.ok()) {
      absl::string_view text = *snapshot;
      // Without the header: a local checkpoint file copied up, generation 0.
      if (absl::ConsumePrefix(&text, kHeader)) {
        const size_t end = text.find('\n');
        if (end == absl::string_view::npos || !absl::SimpleAtoi(text.substr(0, end), &folded_)) {
          return absl::FailedPreconditionError(
              absl::StrCat("checkpoint s3://", bucket_, "/", key_, ": bad header line"));
        }
        text.remove_prefix(end + 1);
      }
      apply(text);
    }
    SCOUT_ASSIGN_OR_RETURN(std::vector<Journal> journals, ListJournals());
    int64_t newest = folded_;
    bool loaded = false;
    for (const Journal& journal : journals) {
      newest = std::max(newest, journal.generation);
      if (journal.generation <= folded_) continue;  // In the snapshot already.
      absl::StatusOr<std::string> lines = store_->Get(bucket_, journal.key);
      if (!lines.ok()) return lines.status();
      apply(*lines);
      loaded = true;
    }
    generation_ = newest + 1;
    sequence_ = 0;
    return loaded;
  }

  absl::Status Append(absl::string_view lines) override {
    SCOUT_RETURN_IF_ERROR(lease_->Check());
    // A failed PUT may still have landed: the next commit takes a new key
    // (what landed holds acknowledged entries only, so it is true anyway).
    const std::string key = JournalKey(generation_, sequence_++);
    return store_->Put(bucket_, key, lines).status();
  }

  absl::Status Replace(absl::string_view snapshot) override {
    SCOUT_RETURN_IF_ERROR(lease_->Check());
    const int64_t folded = generation_;
    SCOUT_RETURN_IF_ERROR(
        store_->Put(bucket_, key_, absl::StrCat(kHeader, folded, "\n", snapshot)).status());
    folded_ = folded;
    ++generation_;
    sequence_ = 0;
    // The snapshot holds everything now: what is left behind here is
    // ignored on load and deleted next time.
    absl::StatusOr<std::vector<Journal>> journals = ListJournals();
    absl::Status cleaned = journals.status();
    if (journals.ok()) {
      for (const Journal& journal : *journals) {
        if (journal.generation > folded) continue;
        cleaned = store_->Delete(bucket_, journal.key);
        if (!cleaned.ok()) break;
      }
    }
    if (!cleaned.ok()) {
      Log(LogLevel::kWarning, "checkpoint journal objects not deleted",
          {{"checkpoint", absl::StrCat("s3://", bucket_, "/", key_)},
           {"error", cleaned.ToString()}});
    }
    return absl::OkStatus();
  }

 private:
  struct Journal {
    std::string key;
    int64_t generation = 0;
  };

  std::string JournalKey(int64_t generation, int64_t sequence) const {
    return absl::StrFormat("%s%020d-%010d", journal_prefix_, generation, sequence);
  }

  // In key order, which is commit order; keys of another shape are not ours.
  absl::StatusOr<std::vector<Journal>> ListJournals() {
    SCOUT_ASSIGN_OR_RETURN(S3ListPage listing, store_->List(bucket_, journal_prefix_, ""));
    std::vector<Journal> journals;
    for (S3Object& object : listing.objects) {
      absl::string_view name = object.key;
      if (!absl::ConsumePrefix(&name, journal_prefix_)) continue;
      const size_t dash = name.find('-');
      int64_t generation = 0, sequence = 0;
      if (dash != 20 || name.size() != 31 || !absl::SimpleAtoi(name.substr(0, dash), &generation) ||
          !absl::SimpleAtoi(name.substr(dash + 1), &sequence)) {
        continue;
      }
      journals.push_back({std::move(object.key), generation});
    }
    std::sort(journals.begin(), journals.end(),
              [](const Journal& a, const Journal& b) { return a.key < b.key; });
    return journals;
  }

  const std::shared_ptr<ObjectStore> store_;
  const std::string bucket_, key_, journal_prefix_;
  const std::unique_ptr<Lease> lease_;
  int64_t folded_ = 0;      // The snapshot holds journal generations <= this.
  int64_t generation_ = 1;  // Of this run's next journal objects.
  int64_t sequence_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointStorage>> OpenS3CheckpointStorage(
    std::shared_ptr<ObjectStore> store, std::string bucket, std::string key, LeaseOptions lease) {
  SCOUT_ASSIGN_OR_RETURN(
      std::unique_ptr<Lease> held,
      Lease::Acquire(NewS3VersionedObject(store, bucket, absl::StrCat(key, ".lease")),
                     std::move(lease)));
  return std::make_unique<S3CheckpointStorage>(std::move(store), std::move(bucket), std::move(key),
                                               std::move(held));
}

}  // namespace scout::ingest
