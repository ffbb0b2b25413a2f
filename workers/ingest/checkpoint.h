// Checkpoint: what scout-ingest has already handled, per lake file (size,
// mtime, content hash, outcome), so a run reads only touched files and writes
// only changed ones. A snapshot plus an append-only journal: Commit appends
// and syncs entries that Elasticsearch acknowledged, so a crash at any point
// loses nothing (uncommitted files are simply redone; writes are
// idempotent). A torn last journal line is ignored on load.
// Not thread-safe: one owner (the ingest run) uses it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace scout::ingest {

enum class Outcome : char {
  kIndexed = 'i',
  kTooOld = 'o',        // Outside the 180-day window: never indexed.
  kQuarantined = 'q',
  kMediaPending = 'm',  // Indexed, but a picture failed: retried next run.
};

struct FileState {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t content_hash = 0;
  Outcome outcome = Outcome::kIndexed;

  bool operator==(const FileState&) const = default;
};

class Checkpoint {
 public:
  // Loads `<path>` and `<path>.journal`; missing files mean a first run.
  static absl::StatusOr<Checkpoint> Open(std::string path);

  Checkpoint(Checkpoint&& other) noexcept
      : path_(std::move(other.path_)),
        entries_(std::move(other.entries_)),
        journal_fd_(std::exchange(other.journal_fd_, -1)) {}
  Checkpoint& operator=(Checkpoint&&) = delete;
  ~Checkpoint();

  const FileState* Find(absl::string_view key) const;
  size_t size() const { return entries_.size(); }

  // Durably records these entries (appended to the journal, then fsync).
  absl::Status Commit(const std::vector<std::pair<std::string, FileState>>& entries);
  // Folds the journal into a new snapshot (atomic rename), then empties it.
  absl::Status Compact();

 private:
  explicit Checkpoint(std::string path) : path_(std::move(path)) {}
  absl::Status Load(const std::string& file);

  std::string path_;
  absl::flat_hash_map<std::string, FileState> entries_;
  int journal_fd_ = -1;
};

}  // namespace scout::ingest
