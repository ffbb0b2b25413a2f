// MediaCopier: copies the pictures of posts from Instagram's URLs into our
// media store, once (a stored picture is never fetched again), with bounded
// concurrency and retries with exponential backoff. Thread-safe; CopyAll
// blocks until the batch is done.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "common/http.h"
#include "common/media_store.h"
#include "scout/v1/jobs.pb.h"
#include "scout/v1/types.pb.h"

namespace scout::ingest {

struct MediaCopyOptions {
  int concurrency = 8;
  int attempts = 3;
  absl::Duration first_backoff = absl::Milliseconds(200);
};

struct MediaCopyStats {
  int64_t fetched = 0;
  int64_t already_stored = 0;
  int64_t failed = 0;
  std::vector<scout::v1::FailedMedia> failures;
};

class MediaCopier {
 public:
  MediaCopier(HttpClient* http, MediaStore* store, MediaCopyOptions options)
      : http_(http), store_(store), options_(options) {}

  // Sets `url` on every media item that is (now) in the store and points
  // post.media_url at the first one. Returns, per post, whether all of its
  // pictures are stored. `post_keys[i]` names posts[i] in failure reports.
  std::vector<bool> CopyAll(const std::vector<scout::v1::Post*>& posts,
                            const std::vector<std::string>& post_keys,
                            MediaCopyStats& stats);

 private:
  absl::Status Fetch(const std::string& url, std::string& bytes);

  HttpClient* const http_;
  MediaStore* const store_;
  const MediaCopyOptions options_;
};

}  // namespace scout::ingest
