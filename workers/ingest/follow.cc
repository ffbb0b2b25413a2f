#include "workers/ingest/follow.h"

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/backends/metrics.h"
#include "common/backends/post_index.h"
#include "common/backends/worker.h"
#include "common/base/log.h"

namespace scout::ingest {
namespace {

using scout::v1::IngestReport;

struct FollowMetrics {
  prometheus::Histogram& lag;
  prometheus::Gauge& depth;
};

FollowMetrics& Instruments() {
  static FollowMetrics* metrics = [] {
    auto& lag = prometheus::BuildHistogram()
                    .Name("scout_follow_lag_seconds")
                    .Help(
                        "From a post file landing (event time, or the object's LastModified "
                        "or mtime) to Elasticsearch acknowledging it (searchable within the "
                        "indices' 1 s refresh after that)")
                    .Register(Metrics());
    auto& depth = prometheus::BuildGauge()
                      .Name("scout_follow_queue_depth")
                      .Help("Changed lake files waiting for scout-ingest --follow")
                      .Register(Metrics());
    return new FollowMetrics{
        lag.Add({}, prometheus::Histogram::BucketBoundaries{0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 45,
                                                            60, 120, 300, 600, 1800, 3600}),
        depth.Add({})};
  }();
  return *metrics;
}

// Sleeps `duration` unless `stop` says otherwise first.
void SleepUnlessStopped(absl::Duration duration, const std::function<bool()>& stop) {
  const absl::Time until = absl::Now() + duration;
  while (!stop() && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(100), until - absl::Now()));
  }
}

}  // namespace

void FreshPosts::Indexed(std::string key, absl::Time landed, absl::Time indexed) {
  if (indexed - landed < fresh_for_) indexed_.insert_or_assign(std::move(key), indexed);
}

bool FreshPosts::Contains(const std::string& key, absl::Time now) const {
  const auto it = indexed_.find(key);
  return it != indexed_.end() && now - it->second < fresh_for_;
}

void FreshPosts::Prune(absl::Time now) {
  absl::erase_if(indexed_, [&](const auto& entry) { return now - entry.second >= fresh_for_; });
}

IngestReport RunFollow(const IngestEnv& env, const IngestOptions& options,
                       const FollowOptions& follow, ChangeQueue& queue,
                       const std::vector<ChangeSource*>& sources,
                       const std::function<bool()>& stop) {
  IngestReport report;
  StampStarted(report);
  report.set_shard(options.shard.ToString());
  FollowMetrics& metrics = Instruments();
  const S3RequestCounts s3_before = env.s3 != nullptr ? env.s3->Counts() : S3RequestCounts{};

  absl::Status failed = EnsureIndices(*env.elastic, options.index_prefix);
  std::vector<ChangeSource*> started;
  for (ChangeSource* source : sources) {
    if (!failed.ok()) break;
    failed = source->Start(&queue);
    if (failed.ok()) {
      started.push_back(source);
    } else {
      failed = absl::Status(failed.code(),
                            absl::StrCat("change source ", source->name(), ": ", failed.message()));
    }
  }
  if (failed.ok()) {
    std::vector<std::string> names;
    for (ChangeSource* source : sources) names.push_back(source->name());
    Log(LogLevel::kInfo, "following", {{"sources", names}, {"shard", options.shard.ToString()}});
  }

  absl::Time next_compact = absl::Now() + follow.compact_every;
  absl::Time next_progress = absl::Now() + follow.progress_every;
  absl::Duration backoff = follow.first_backoff;
  int64_t batches = 0;
  int64_t last_logged_indexed = -1;
  absl::Status last_batch;
  FreshPosts fresh(follow.fresh_for);
  // The checkpoint is written by this thread only.
  const auto is_new = [&](const std::string& key) {
    return env.checkpoint->Find(key) == nullptr || fresh.Contains(key, absl::Now());
  };
  while (failed.ok() && !stop()) {
    std::vector<Change> changes = queue.Take(follow.batch_files, follow.batch_wait,
                                             absl::Now() + absl::Milliseconds(200), is_new);
    metrics.depth.Set(static_cast<double>(queue.depth()));
    if (absl::Now() >= next_progress) {
      next_progress = absl::Now() + follow.progress_every;
      if (report.posts_indexed() != last_logged_indexed || queue.depth() > 0) {
        last_logged_indexed = report.posts_indexed();
        Log(LogLevel::kInfo, "follow progress",
            {{"batches", batches},
             {"posts_indexed", report.posts_indexed()},
             {"files_quarantined", report.files_quarantined()},
             {"queue_depth", queue.depth()}});
      }
    }
    if (absl::Now() >= next_compact) {
      next_compact = absl::Now() + follow.compact_every;
      fresh.Prune(absl::Now());
      if (absl::Status compacted = env.checkpoint->Compact(); !compacted.ok()) {
        Log(LogLevel::kWarning, "checkpoint compaction failed", {{"error", compacted.ToString()}});
      }
    }
    if (changes.empty()) continue;

    // A file the checkpoint already has in this version needs no read:
    // listed with the same attributes, or named by an event carrying the
    // ETag the checkpoint holds. SeaweedFS delivers the events of uploads
    // made while no follower ran after the start-up sweep has read those
    // files, and S3 may deliver an event twice.
    std::vector<ChangedFile> files;
    absl::flat_hash_map<std::string, absl::Time> landed;
    std::vector<std::string> first_seen;
    for (Change& change : changes) {
      const FileState* prior = env.checkpoint->Find(change.key);
      if (prior == nullptr) first_seen.push_back(change.key);
      // An event knows no mtime, so only its ETag can say "same version".
      const bool known =
          prior != nullptr &&
          (change.listed
               ? prior->Untouched(change.size, change.mtime_ns, change.etag)
               : !change.etag.empty() && prior->etag == change.etag && prior->size == change.size);
      if (known && !(prior->outcome == Outcome::kMediaPending && options.fetch_media)) {
        report.set_files_untouched(report.files_untouched() + 1);
        continue;
      }
      landed[change.key] = change.landed;
      files.push_back({std::move(change.key), change.size, change.mtime_ns, change.etag});
    }
    if (files.empty()) continue;
    ++batches;
    std::vector<std::string> committed;
    last_batch = IngestFiles(env, options, files, report, &committed);
    const absl::Time acknowledged = absl::Now();
    for (std::string& key : first_seen) {
      if (env.checkpoint->Find(key) != nullptr) {
        const absl::Time at = landed[key];
        fresh.Indexed(std::move(key), at, acknowledged);
      }
    }
    for (const std::string& key : committed) {
      const absl::Time at = landed[key];
      if (at != absl::InfinitePast()) {
        metrics.lag.Observe(std::max(0.0, absl::ToDoubleSeconds(acknowledged - at)));
      }
    }
    if (last_batch.ok()) {
      backoff = follow.first_backoff;
      continue;
    }
    // What was not committed goes back to the queue (events are not sent
    // twice); the next sweep finds it too if the queue is full.
    absl::flat_hash_map<std::string, bool> done;
    for (const std::string& key : committed) done[key] = true;
    int64_t requeued = 0;
    for (const ChangedFile& file : files) {
      if (done.contains(file.key)) continue;
      Change again;
      again.key = file.key;
      again.size = file.size;
      again.mtime_ns = file.mtime_ns;
      again.etag = file.etag;
      again.landed = landed[file.key];
      again.source = "retry";
      requeued += queue.Offer(std::move(again)) ? 1 : 0;
    }
    Log(LogLevel::kWarning, "batch failed; its files wait in the queue",
        {{"error", last_batch.ToString()},
         {"requeued", requeued},
         {"retry_in_s", absl::ToDoubleSeconds(backoff)}});
    SleepUnlessStopped(backoff, stop);
    backoff = std::min(backoff * 2, follow.max_backoff);
  }

  // Drain: the batch in flight has finished (this thread ran it); what is
  // still queued was never acknowledged, so the next start's sweep finds it.
  queue.Close();  // First: a sweep waiting for room returns, receivers answer 503.
  for (ChangeSource* source : started) source->Stop();
  metrics.depth.Set(0);
  if (failed.ok()) failed = last_batch;
  if (absl::Status compacted = env.checkpoint->Compact(); !compacted.ok() && failed.ok()) {
    failed = compacted;
  }
  if (!failed.ok()) report.set_error(failed.ToString());
  SetS3Requests(env, s3_before, report);
  Log(LogLevel::kInfo, "follow stopped",
      {{"batches", batches}, {"posts_indexed", report.posts_indexed()}});
  StampFinished(report);
  return report;
}

}  // namespace scout::ingest
