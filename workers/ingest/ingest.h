// scout-ingest as a library: finds the post files of the lake that changed
// since the last run, normalizes them, copies their pictures into the media
// store and writes them to Elasticsearch with the bulk API, committing the
// checkpoint only for what Elasticsearch acknowledged. Rerunnable at any
// point. One Ingest runs at a time per checkpoint; not thread-safe itself.
#pragma once

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/backends/media_copier.h"
#include "common/backends/s3.h"
#include "common/base/clock.h"
#include "common/base/shard.h"
#include "common/io/lake.h"
#include "scout/v1/jobs.pb.h"
#include "workers/ingest/checkpoint.h"

namespace scout::ingest {

struct IngestOptions {
  std::string index_prefix = "scout-posts";
  Shard shard;
  bool fetch_media = true;
  MediaCopyOptions media;
  size_t batch_files = 2000;  // Files per bulk request.
  int bulk_attempts = 6;      // For 429 / 5xx answers, with backoff.
  absl::Duration bulk_backoff = absl::Milliseconds(250);
  int parse_threads = 2;
};

// The external systems an ingest run touches; all must outlive the run.
struct IngestEnv {
  Lake* lake = nullptr;
  Elastic* elastic = nullptr;
  MediaStore* media = nullptr;  // Unused when !fetch_media.
  HttpClient* http = nullptr;   // Media fetches.
  const Clock* clock = nullptr;
  Checkpoint* checkpoint = nullptr;
  // The S3 client behind the lake, media store or checkpoint, if any: the
  // report counts the requests the run sent through it.
  const ObjectStore* s3 = nullptr;
};

// Runs one ingest. The report's `error` is set when a backend failed; what
// was acknowledged before the failure stays committed.
scout::v1::IngestReport RunIngest(const IngestEnv& env, const IngestOptions& options);

}  // namespace scout::ingest
