// scout-palette: the 6-colour palette of each creator of the shard from the
// pictures of their last 90 days of posts, into the warehouse (weekly).
// Prints a PaletteReport as JSON on stdout; exit 0 on success, 1 when a
// backend failed (rerun it: finished batches stay written, decoded samples
// stay cached), 2 on bad configuration. With --state on S3 the sample cache
// is kept there (sample_cache.h) and a second run of the shard is refused
// while the first holds the cache's lease (UNAVAILABLE, exit 1: retry later).
#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "common/backends/worker.h"
#include "workers/palette/palette.h"

ABSL_FLAG(int, max_images, 50, "newest pictures per creator");
ABSL_FLAG(int, threads, 2, "creators processed side by side");
ABSL_FLAG(std::string, scratch, "",
          "with --state on S3: where the sample cache's working copy goes for the run "
          "(default $TMPDIR, else /tmp)");

namespace {

constexpr absl::string_view kProgram = "scout-palette";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Computes creator colour palettes from their recent pictures.\n"
      "Usage: scout-palette [--shard i/N] [--max_images 50] [--threads 2] [--scratch DIR]");
  absl::StatusOr<scout::Worker> worker = scout::StartWorker(
      kProgram, argc, argv,
      {{[](const scout::v1::Config& c) { return c.es_url(); }, "--es_url / SCOUT_ES_URL"},
       {[](const scout::v1::Config& c) { return c.pg_dsn(); }, "--pg_dsn / SCOUT_PG_DSN"},
       {[](const scout::v1::Config& c) { return c.media(); }, "--media / SCOUT_MEDIA"},
       {[](const scout::v1::Config& c) { return c.state(); }, "--state / SCOUT_STATE"}});
  if (!worker.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, worker.status().message());
  const scout::v1::Config& config = worker->config;
  scout::palette::PaletteOptions options;
  options.shard = worker->shard;
  options.index_prefix = config.index_prefix();
  options.state_dir = config.state();
  options.max_images = absl::GetFlag(FLAGS_max_images);
  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.max_images < 1) {
    return scout::Exit(kProgram, scout::kExitBadUsage, "--max_images must be at least 1");
  }
  if (options.threads < 1) {
    return scout::Exit(kProgram, scout::kExitBadUsage, "--threads must be at least 1");
  }

  options.shared_cache.scratch_dir = absl::GetFlag(FLAGS_scratch);

  const scout::WorkerBackends& backends = worker->backends;
  absl::StatusOr<std::unique_ptr<scout::palette::CacheStore>> cache_store =
      scout::palette::CacheStoreForState(config.state(), backends.s3);
  if (!cache_store.ok()) {
    return scout::Exit(kProgram, scout::kExitBadUsage, cache_store.status().message());
  }
  absl::StatusOr<std::unique_ptr<scout::Warehouse>> warehouse = backends.ConnectWarehouse();
  if (!warehouse.ok()) {
    return scout::Exit(kProgram, scout::kExitBackendFailed, warehouse.status().ToString());
  }
  scout::palette::PaletteEnv env{backends.elastic.get(), warehouse->get(),   backends.media.get(),
                                 backends.clock.get(),   cache_store->get(), backends.s3.get()};
  const scout::v1::PaletteReport report = scout::palette::RunPalette(env, options);
  return scout::FinishWithReport(kProgram, report, report.error());
}
