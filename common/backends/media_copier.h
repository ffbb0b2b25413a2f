// MediaCopier: copies pictures from their source URLs (Instagram's CDN) into
// our media store, once (a stored key is never fetched again), with bounded
// concurrency and retries with exponential backoff. Source URLs are hostile
// input: they are fetched only as MediaFetchPolicy allows, and only bodies
// that are pictures (by their magic bytes) are stored. Thread-safe; CopyBatch
// blocks until the batch is done.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/backends/http.h"
#include "common/backends/media_fetch.h"
#include "common/io/media_store.h"

namespace scout {

struct MediaCopyOptions {
  int concurrency = 8;
  int attempts = 3;
  absl::Duration first_backoff = absl::Milliseconds(200);
  absl::Duration timeout = absl::Seconds(20);  // Per attempt, redirects included.
  MediaFetchPolicy policy;
};

struct MediaCopyJob {
  std::string source_url;
  std::string key;  // Where it goes in the media store.
};

struct MediaCopyStats {
  int64_t fetched = 0;
  int64_t already_stored = 0;
  int64_t failed = 0;   // Refused ones included.
  int64_t refused = 0;  // URLs the policy refused (PERMISSION_DENIED).
};

class MediaCopier {
 public:
  MediaCopier(HttpClient* http, MediaStore* store, MediaCopyOptions options)
      : http_(http), store_(store), options_(options) {}

  // One status per job, in order: OK when the picture is (now) stored;
  // PERMISSION_DENIED when the policy refused the URL (or a redirect);
  // FAILED_PRECONDITION when the body is too large or not a picture.
  std::vector<absl::Status> CopyBatch(const std::vector<MediaCopyJob>& jobs, MediaCopyStats& stats);

 private:
  absl::Status Fetch(const std::string& url, std::string& bytes);
  absl::Status FetchOnce(const std::string& url, std::string& bytes);

  HttpClient* const http_;
  MediaStore* const store_;
  const MediaCopyOptions options_;
};

}  // namespace scout
