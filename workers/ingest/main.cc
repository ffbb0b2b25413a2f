// scout-ingest: lake post files -> Elasticsearch (+ pictures -> media store).
// The checkpoint is a locked local file under --state, or leased S3 objects
// when --state is s3://bucket/prefix (docs/s3.md).
// Prints an IngestReport as JSON on stdout; exit 0 on success (quarantined
// files included), 1 when a backend failed or another run of the shard holds
// the checkpoint, 2 on bad configuration.
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "common/backends/worker.h"
#include "common/base/config.h"
#include "common/base/status.h"
#include "workers/ingest/changes.h"
#include "workers/ingest/events.h"
#include "workers/ingest/follow.h"
#include "workers/ingest/ingest.h"
#include "workers/ingest/s3_checkpoint.h"

ABSL_FLAG(bool, no_media, false, "index posts without copying their pictures");
ABSL_FLAG(int, media_concurrency, 8, "parallel picture fetches");
ABSL_FLAG(int, read_threads, 16,
          "lake files read and normalized at once (S3 GETs wait on the network)");
ABSL_FLAG(int, batch, 2000, "files per Elasticsearch bulk request");
ABSL_FLAG(bool, follow, false,
          "keep running: index new and rewritten post files as they land (docs/follow.md); "
          "SIGTERM drains and prints the report");
ABSL_FLAG(absl::Duration, follow_sweep, absl::Seconds(30),
          "--follow: list the lake this often (the safety net); 0: only at start");
ABSL_FLAG(bool, follow_inotify, true, "--follow on a local lake: watch it with inotify");
ABSL_FLAG(std::string, follow_events_listen, "",
          "--follow on an S3 lake: receive S3 (SNS) and SeaweedFS event notifications on this "
          "host:port (POST /events/s3, /events/seaweedfs); the token, if any, from "
          "SCOUT_EVENTS_TOKEN");
ABSL_FLAG(int, follow_batch, 500,
          "--follow: files per micro-batch; a new post waits for at most the batch in flight");
ABSL_FLAG(absl::Duration, follow_batch_wait, absl::Seconds(1),
          "--follow: a micro-batch closes at --follow_batch files or this long after its oldest "
          "change");

namespace {

constexpr absl::string_view kProgram = "scout-ingest";

// `<state>/<name>`: a local file (locked), or S3 objects under the prefix
// (leased) when the state is s3://bucket/prefix.
absl::StatusOr<scout::ingest::Checkpoint> OpenCheckpoint(const scout::v1::Config& config,
                                                         const scout::WorkerBackends& backends,
                                                         const std::string& name) {
  if (!scout::IsS3Url(config.state())) {
    return scout::ingest::Checkpoint::Open(absl::StrCat(config.state(), "/", name));
  }
  SCOUT_ASSIGN_OR_RETURN(const scout::S3Location location, scout::ParseS3Url(config.state()));
  SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<scout::ingest::CheckpointStorage> storage,
                         scout::ingest::OpenS3CheckpointStorage(
                             backends.s3, location.bucket, absl::StrCat(location.prefix, name)));
  return scout::ingest::Checkpoint::Open(std::move(storage));
}

// --follow: the sources the lake allows, then the loop until SIGTERM.
int Follow(const scout::v1::Config& config, const scout::ingest::IngestOptions& options,
           const scout::ingest::IngestEnv& env) {
  using namespace scout::ingest;
  std::vector<std::unique_ptr<ChangeSource>> sources;
  sources.push_back(NewSweepSource(env.lake, options.shard, absl::GetFlag(FLAGS_follow_sweep)));
  const std::string listen = absl::GetFlag(FLAGS_follow_events_listen);
  if (scout::IsS3Url(config.lake())) {
    if (!listen.empty()) {
      absl::StatusOr<scout::S3Location> lake = scout::ParseS3Url(config.lake());
      if (!lake.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, lake.status().message());
      EventReceiverOptions events;
      events.listen = listen;
      events.lake = *lake;
      if (const char* token = std::getenv("SCOUT_EVENTS_TOKEN"); token != nullptr) {
        events.token = token;
      }
      sources.push_back(NewEventReceiver(std::move(events)));
    }
  } else {
    if (!listen.empty()) {
      return scout::Exit(kProgram, scout::kExitBadUsage,
                         "--follow_events_listen needs an S3 lake (s3://bucket/prefix); a local "
                         "lake is watched with inotify");
    }
    if (absl::GetFlag(FLAGS_follow_inotify)) {
      sources.push_back(NewInotifySource(config.lake(), options.shard));
    }
  }
  std::vector<ChangeSource*> running;
  for (const auto& source : sources) running.push_back(source.get());
  FollowOptions follow;
  follow.batch_files = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_follow_batch)));
  follow.batch_wait = absl::GetFlag(FLAGS_follow_batch_wait);
  ChangeQueue queue;
  const scout::v1::IngestReport report =
      RunFollow(env, options, follow, queue, running, [] { return scout::StopRequested(); });
  return scout::FinishWithReport(kProgram, report, report.error());
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Indexes the data lake's new and changed posts into Elasticsearch.\n"
      "Usage: scout-ingest [--lake DIR] [--es_url URL] [--media DIR] [--state DIR] "
      "[--shard i/N] [--no_media] [--follow [--follow_sweep 30s] [--follow_events_listen "
      "HOST:PORT]]");
  absl::StatusOr<scout::Worker> worker = scout::StartWorker(
      kProgram, argc, argv,
      {{[](const scout::v1::Config& c) { return c.lake(); }, "--lake / SCOUT_LAKE"},
       {[](const scout::v1::Config& c) { return c.es_url(); }, "--es_url / SCOUT_ES_URL"},
       {[](const scout::v1::Config& c) { return c.state(); }, "--state / SCOUT_STATE"}});
  if (!worker.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, worker.status().message());
  const scout::v1::Config& config = worker->config;
  scout::ingest::IngestOptions options;
  options.shard = worker->shard;
  options.index_prefix = config.index_prefix();
  options.fetch_media = !absl::GetFlag(FLAGS_no_media);
  options.media.concurrency = absl::GetFlag(FLAGS_media_concurrency);
  options.media.policy = worker->backends.media_policy;
  options.batch_files = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_batch)));
  options.read_threads = std::max(1, absl::GetFlag(FLAGS_read_threads));
  if (options.fetch_media && config.media().empty()) {
    return scout::Exit(kProgram, scout::kExitBadUsage,
                       "--media / SCOUT_MEDIA is required (or --no_media)");
  }

  // Each shard keeps its own checkpoint: shards never share files.
  const scout::WorkerBackends& backends = worker->backends;
  const std::string checkpoint_name =
      absl::StrCat("ingest-", config.index_prefix(), "-shard-",
                   absl::StrReplaceAll(options.shard.ToString(), {{"/", "-of-"}}), ".ckpt");
  absl::StatusOr<scout::ingest::Checkpoint> checkpoint =
      OpenCheckpoint(config, backends, checkpoint_name);
  if (!checkpoint.ok()) {
    return scout::Exit(kProgram, scout::kExitBackendFailed, checkpoint.status().ToString());
  }

  scout::ingest::IngestEnv env{
      backends.lake.get(),  backends.elastic.get(), backends.media.get(), backends.media_http.get(),
      backends.clock.get(), &*checkpoint,           backends.s3.get()};
  if (absl::GetFlag(FLAGS_follow)) {
    return Follow(config, options, env);
  }
  const scout::v1::IngestReport report = scout::ingest::RunIngest(env, options);

  return scout::FinishWithReport(kProgram, report, report.error());
}
