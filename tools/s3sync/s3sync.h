// S3 sync: makes s3://bucket/prefix hold the regular files under a local
// directory, as `aws s3 sync` does, so a lake generated on disk can be read
// from S3. An object is uploaded only when it is missing or differs: same
// size and an ETag equal to the file's MD5 (what S3 gives a single PUT) mean
// equal. Hidden names (starting ".") are skipped, as the lake skips them.
// `rewritten_since` re-uploads files written since then even when equal, as
// the Instagram API client rewrites a creator's newest posts every day
// whether or not they changed (benchmarks replay that day).
// Not thread-safe itself; it runs its uploads on `threads` threads.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/s3.h"
#include "common/base/config.h"

namespace scout::tools {

struct SyncOptions {
  int threads = 16;           // Uploads in flight: S3 requests are latency-bound.
  bool delete_extra = false;  // Also delete objects with no local file.
  bool create_bucket = false;
  absl::Time rewritten_since = absl::InfiniteFuture();
};

struct SyncReport {
  int64_t files = 0;           // Local regular files.
  int64_t objects_before = 0;  // Under the prefix before the sync.
  int64_t uploaded = 0;
  int64_t unchanged = 0;  // Equal and not rewritten since.
  int64_t deleted = 0;
  int64_t bytes_uploaded = 0;
};

// Stops at the first failed request (what was uploaded stays: running it
// again finishes the job).
absl::StatusOr<SyncReport> SyncDirectory(const std::string& dir, ObjectStore& store,
                                         const S3Location& destination, const SyncOptions& options);

}  // namespace scout::tools
