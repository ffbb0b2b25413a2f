// Checkpoint: what scout-ingest has already handled, per lake file (size,
// mtime, ETag on S3, content hash, outcome), so a run reads only touched
// files and writes only changed ones. A snapshot plus a journal of commits:
// Commit durably records entries that Elasticsearch acknowledged, so a crash
// at any point loses nothing (uncommitted files are simply redone; writes
// are idempotent). Compact folds the journal into a new snapshot.
//
// Where the bytes live is a CheckpointStorage:
//  - local files (Open(path)): `<path>` and the append-only `<path>.journal`,
//    synced on each commit; a torn last journal line is ignored on load;
//    Compact writes the snapshot durably (fsync, rename, directory fsync)
//    before it empties the journal; an exclusive lock (`<path>.lock`) is
//    held for the checkpoint's life, so two runs of one shard never
//    interleave;
//  - S3 objects (workers/ingest/s3_checkpoint.h): a snapshot object, one
//    journal object per commit, and a lease instead of the lock.
// Not thread-safe: one owner (the ingest run) uses it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/io/files.h"

namespace scout::ingest {

enum class Outcome : char {
  kIndexed = 'i',
  kTooOld = 'o',  // Outside the 180-day window: never indexed.
  kQuarantined = 'q',
  kMediaPending = 'm',  // Indexed, but a picture failed: retried next run.
};

struct FileState {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t content_hash = 0;
  Outcome outcome = Outcome::kIndexed;
  // The lake's ETag (S3), empty for a local lake or a line written before
  // ETags were kept: on S3 size + ETag say "untouched", not size + mtime.
  std::string etag = {};  // "= {}": initializers that leave it out build warning-free.

  bool operator==(const FileState&) const = default;

  // Whether a lake file listed with these attributes is untouched since, so
  // not read again. When both sides know the ETag (S3): same size and ETag,
  // since LastModified's 1 s resolution would let a same-size rewrite within
  // the second pass for untouched. Otherwise (a local lake, a line written
  // before ETags were kept, a file --follow took from an event without one):
  // same size and mtime.
  bool Untouched(int64_t listed_size, int64_t listed_mtime_ns,
                 absl::string_view listed_etag) const {
    if (size != listed_size) return false;
    if (!listed_etag.empty() && !etag.empty()) return etag == listed_etag;
    return mtime_ns == listed_mtime_ns;
  }
};

// A checkpoint's bytes: a snapshot and a journal of records (each record a
// block of whole lines). Implementations hold what keeps a second run out
// (a lock, a lease) for their life.
class CheckpointStorage {
 public:
  virtual ~CheckpointStorage() = default;
  // Hands the snapshot's text, then each journal record's, in commit order,
  // to `apply`. True when journal records exist that a Replace would fold.
  virtual absl::StatusOr<bool> Load(const std::function<void(absl::string_view)>& apply) = 0;
  // Durably adds one record: durable once this returns OK.
  virtual absl::Status Append(absl::string_view lines) = 0;
  // Durably replaces the snapshot with `snapshot` (every entry), then drops
  // the records it folds in. A failure keeps what was durable before.
  virtual absl::Status Replace(absl::string_view snapshot) = 0;
};

// Local files `<path>`, `<path>.journal` and the lock `<path>.lock`;
// UNAVAILABLE when another process holds the lock (retry later).
absl::StatusOr<std::unique_ptr<CheckpointStorage>> OpenLocalCheckpointStorage(
    std::string path, FileSystem* fs = FileSystem::Default());

class Checkpoint {
 public:
  // Local files (OpenLocalCheckpointStorage); missing files mean a first run.
  // UNAVAILABLE when another process holds the checkpoint (retry later).
  static absl::StatusOr<Checkpoint> Open(std::string path, FileSystem* fs = FileSystem::Default());
  // Loads from `storage`, folding a non-empty journal into a new snapshot.
  static absl::StatusOr<Checkpoint> Open(std::unique_ptr<CheckpointStorage> storage);

  Checkpoint(Checkpoint&& other) noexcept = default;
  Checkpoint& operator=(Checkpoint&&) = delete;
  ~Checkpoint() = default;

  const FileState* Find(absl::string_view key) const;
  size_t size() const { return entries_.size(); }

  // Durably records these entries. Local: after a failed commit the journal
  // may end in a torn line, so later commits fail too until a Compact
  // succeeds (which rewrites both files).
  absl::Status Commit(const std::vector<std::pair<std::string, FileState>>& entries);
  // Folds the journal into a new snapshot, then empties it. Nothing to do
  // (and no write) when nothing was committed since the last one.
  absl::Status Compact();

 private:
  explicit Checkpoint(std::unique_ptr<CheckpointStorage> storage) : storage_(std::move(storage)) {}
  void Apply(absl::string_view lines);

  std::unique_ptr<CheckpointStorage> storage_;
  absl::flat_hash_map<std::string, FileState> entries_;
  bool journal_dirty_ = false;  // Records (or a failed append) since the last snapshot.
};

}  // namespace scout::ingest
