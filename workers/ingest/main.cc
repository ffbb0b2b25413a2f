// scout-ingest: lake post files -> Elasticsearch (+ pictures -> media store).
// Prints an IngestReport as JSON on stdout; exit 0 on success (quarantined
// files included), 1 when a backend failed, 2 on bad configuration.
#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/backends/worker.h"
#include "workers/ingest/ingest.h"

ABSL_FLAG(bool, no_media, false, "index posts without copying their pictures");
ABSL_FLAG(int, media_concurrency, 8, "parallel picture fetches");
ABSL_FLAG(int, batch, 2000, "files per Elasticsearch bulk request");

namespace {

constexpr absl::string_view kProgram = "scout-ingest";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Indexes the data lake's new and changed posts into Elasticsearch.\n"
      "Usage: scout-ingest [--lake DIR] [--es_url URL] [--media DIR] [--state DIR] "
      "[--shard i/N] [--no_media]");
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
  if (options.fetch_media && config.media().empty()) {
    return scout::Exit(kProgram, scout::kExitBadUsage,
                       "--media / SCOUT_MEDIA is required (or --no_media)");
  }

  // Each shard keeps its own checkpoint: shards never share files.
  const std::string checkpoint_path =
      absl::StrCat(config.state(), "/ingest-", config.index_prefix(), "-shard-",
                   absl::StrReplaceAll(options.shard.ToString(), {{"/", "-of-"}}), ".ckpt");
  absl::StatusOr<scout::ingest::Checkpoint> checkpoint =
      scout::ingest::Checkpoint::Open(checkpoint_path);
  if (!checkpoint.ok()) {
    return scout::Exit(kProgram, scout::kExitBackendFailed, checkpoint.status().ToString());
  }

  const scout::WorkerBackends& backends = worker->backends;
  scout::ingest::IngestEnv env{
      backends.lake.get(),  backends.elastic.get(), backends.media.get(), backends.media_http.get(),
      backends.clock.get(), &*checkpoint,           backends.s3.get()};
  const scout::v1::IngestReport report = scout::ingest::RunIngest(env, options);

  return scout::FinishWithReport(kProgram, report, report.error());
}
