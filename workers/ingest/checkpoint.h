// Checkpoint: what scout-ingest has already handled, per lake file (size,
// mtime, ETag on S3, content hash, outcome), so a run reads only touched files and writes
// only changed ones. A snapshot plus an append-only journal: Commit appends
// and syncs entries that Elasticsearch acknowledged, so a crash at any point
// loses nothing (uncommitted files are simply redone; writes are
// idempotent). A torn last journal line is ignored on load. Compact writes
// the snapshot durably (fsync, rename, directory fsync) before it empties
// the journal. Open takes an exclusive lock (`<path>.lock`) held for the
// checkpoint's life, so two runs of one shard never interleave.
// Not thread-safe: one owner (the ingest run) uses it.
#pragma once

#include <cstdint>
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
};

class Checkpoint {
 public:
  // Loads `<path>` and `<path>.journal`; missing files mean a first run.
  // UNAVAILABLE when another process holds the checkpoint (retry later).
  static absl::StatusOr<Checkpoint> Open(std::string path, FileSystem* fs = FileSystem::Default());

  Checkpoint(Checkpoint&& other) noexcept = default;
  Checkpoint& operator=(Checkpoint&&) = delete;
  ~Checkpoint() = default;

  const FileState* Find(absl::string_view key) const;
  size_t size() const { return entries_.size(); }

  // Durably records these entries (appended to the journal, then fsync).
  // After a failed commit the journal may end in a torn line: later commits
  // fail too until a Compact succeeds (which rewrites both files).
  absl::Status Commit(const std::vector<std::pair<std::string, FileState>>& entries);
  // Folds the journal into a new snapshot (atomic rename), then empties it.
  absl::Status Compact();

 private:
  Checkpoint(std::string path, FileSystem* fs) : path_(std::move(path)), fs_(fs) {}
  absl::Status Load(const std::string& file);

  std::string path_;
  FileSystem* fs_;
  std::unique_ptr<FileLock> lock_;
  absl::flat_hash_map<std::string, FileState> entries_;
  std::unique_ptr<WritableFile> journal_;
  absl::Status broken_;  // Why the journal cannot be appended to (until Compact).
};

}  // namespace scout::ingest
