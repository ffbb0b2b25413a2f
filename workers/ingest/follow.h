// scout-ingest --follow: keeps one shard's checkpoint open and indexes lake
// files as change sources (changes.h, events.h) report them, in
// micro-batches through the same path as a run (IngestFiles), so new and
// rewritten posts become searchable seconds after they land; posts never
// indexed are taken before rewrites (ChangeQueue's lanes). The commit
// rule is the run's: only what Elasticsearch acknowledged is committed, so a
// crash anywhere and a restart lose nothing (the restart's first sweep
// finds whatever was pending). Posts become searchable through the indices'
// 1 s refresh interval (post_index.cc), not an explicit refresh per batch.
// Metrics: scout_follow_lag_seconds (landed -> acknowledged),
// scout_follow_queue_depth, scout_follow_changes_total{source}.
// RunFollow runs on the caller's thread; the queue and the sources are
// thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "scout/v1/jobs.pb.h"
#include "workers/ingest/changes.h"
#include "workers/ingest/ingest.h"

namespace scout::ingest {

struct FollowOptions {
  // A micro-batch closes at options.batch_files changes or this long after
  // its oldest change was queued.
  absl::Duration batch_wait = absl::Seconds(1);
  // The checkpoint's journal is folded into its snapshot this often (and at
  // exit): a snapshot write is the size of the whole checkpoint.
  absl::Duration compact_every = absl::Minutes(10);
  // After a failed batch (Elasticsearch or the lake down), its files go back
  // to the queue and the loop waits, doubling up to max_backoff.
  absl::Duration first_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration progress_every = absl::Seconds(10);  // A progress line on stderr.
};

// Starts `sources` on `queue` and processes what they offer until `stop`
// returns true (checked between batches and at least every 200 ms); then
// the batch in flight finishes, the sources stop, the checkpoint is
// compacted and the report returned (counts over the whole run; `error`
// when a source could not start, or the last batch failed).
scout::v1::IngestReport RunFollow(const IngestEnv& env, const IngestOptions& options,
                                  const FollowOptions& follow, ChangeQueue& queue,
                                  const std::vector<ChangeSource*>& sources,
                                  const std::function<bool()>& stop);

}  // namespace scout::ingest
