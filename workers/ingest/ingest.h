// scout-ingest as a library: finds the post files of the lake that changed
// since the last run, normalizes them, copies their pictures into the media
// store and writes them to Elasticsearch with the bulk API, committing the
// checkpoint only for what Elasticsearch acknowledged. Rerunnable at any
// point. One Ingest runs at a time per checkpoint; not thread-safe itself.
#pragma once

#include <optional>
#include <string>
#include <vector>

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
  // Files read and normalized at once. More than the cores: a read from an
  // S3 lake is a GET that mostly waits on the network (loopback ~1 ms, AWS
  // tens of ms), so 2 in flight capped a first load at a few hundred files/s.
  int read_threads = 16;
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

// Where the API client writes post files, one per post:
// kPostsRoot + "<owner_id>/<post_id>.json".
inline constexpr absl::string_view kPostsRoot = "instagram_graph/posts/";

// The owner of a post file, from its path under kPostsRoot; nullopt when the
// path is not a post file: deeper or shallower than owner/post, not .json, a
// hidden segment (".tmp…", as the lake listings skip), or a tab or line
// break (S3 allows them; the checkpoint's lines could not hold them). The
// one test of "is this a post file" for the run and every change source.
std::optional<absl::string_view> PostFileOwner(absl::string_view name);

// A lake file a change source says was written (scout-ingest --follow).
struct ChangedFile {
  std::string key;       // "instagram_graph/posts/<owner_id>/<post_id>.json"
  int64_t size = 0;      // As Lake::List reports it; recorded in the checkpoint.
  int64_t mtime_ns = 0;  // As Lake::List reports it; 0 when the source cannot
                         // know it (the next listing then reads the file once more).
  std::string etag;      // S3 lakes, when the source knows it (events and listings do).
};

// For --follow: takes `files` through the same steps as RunIngest takes its
// candidates (read, hash, normalize or quarantine, pictures, _bulk, commit
// what Elasticsearch acknowledged), one bulk request per batch_files. Keys
// outside posts/<owner>/*.json or of another shard are skipped. No listing,
// no refresh (the indices refresh every second), no index upkeep, no
// Compact. Adds its counts to `report`, and to `committed` (if given) the
// keys committed with new content (indexed, quarantined or too old; not
// those whose hash was unchanged). Returns the first failure; what was
// committed stays so.
absl::Status IngestFiles(const IngestEnv& env, const IngestOptions& options,
                         const std::vector<ChangedFile>& files, scout::v1::IngestReport& report,
                         std::vector<std::string>* committed);

// The requests sent through env.s3 since `before` (its Counts() then) as
// the report's s3_requests; nothing without an S3 client.
void SetS3Requests(const IngestEnv& env, const S3RequestCounts& before,
                   scout::v1::IngestReport& report);

// Runs one ingest. The report's `error` is set when a backend failed; what
// was acknowledged before the failure stays committed.
scout::v1::IngestReport RunIngest(const IngestEnv& env, const IngestOptions& options);

}  // namespace scout::ingest
