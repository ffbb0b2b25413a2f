// scout-ingest --follow: keeps one shard's checkpoint open and indexes lake
// files as change sources (changes.h, events.h) report them, in
// micro-batches through the same path as a run (IngestFiles), so new and
// rewritten posts become searchable seconds after they land; new posts
// (never indexed, or first indexed within FollowOptions::fresh_for) are
// taken before rewrites of older ones (ChangeQueue's lanes). The commit
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
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "scout/v1/jobs.pb.h"
#include "workers/ingest/changes.h"
#include "workers/ingest/ingest.h"

namespace scout::ingest {

struct FollowOptions {
  // A micro-batch closes at batch_files changes or batch_wait after its
  // oldest change was queued. Smaller than a run's bulk (2,000): a new post
  // waits for the batch in flight, which behind a backlog is a full one
  // (500 files kept the trickle's p99 at 3.9-4.6 s behind 50,000 rewrites
  // where 2,000 gave 6.2 s; bench/RESULTS.md), and the backlog drained as
  // fast.
  size_t batch_files = 500;
  absl::Duration batch_wait = absl::Seconds(1);
  // The checkpoint's journal is folded into its snapshot this often (and at
  // exit): a snapshot write is the size of the whole checkpoint.
  absl::Duration compact_every = absl::Minutes(10);
  // After a failed batch (Elasticsearch or the lake down), its files go back
  // to the queue and the loop waits, doubling up to max_backoff.
  absl::Duration first_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration progress_every = absl::Seconds(10);  // A progress line on stderr.
  // A post this follower first indexed less than this long ago keeps the
  // new posts' lane for its rewrites: its first minutes are when its
  // numbers move fastest and brands see it first, while a backlog of old
  // posts' refreshes (the daily burst, a restart's catch-up) waits.
  absl::Duration fresh_for = absl::Minutes(10);
};

// The posts that landed lately and that the follower first indexed: their
// rewrites keep the new posts' lane until `fresh_for` after indexing.
// Posts of a first load or of a restart's catch-up landed long before and
// are not kept, so the set holds minutes of new posts, not a lake. Not
// thread-safe (the follow loop's own).
class FreshPosts {
 public:
  explicit FreshPosts(absl::Duration fresh_for) : fresh_for_(fresh_for) {}
  // `key` was indexed for the first time at `indexed`, having landed at
  // `landed` (InfinitePast when unknown: not kept).
  void Indexed(std::string key, absl::Time landed, absl::Time indexed);
  bool Contains(const std::string& key, absl::Time now) const;
  // Forgets what is no longer fresh at `now`.
  void Prune(absl::Time now);
  size_t size() const { return indexed_.size(); }

 private:
  const absl::Duration fresh_for_;
  absl::flat_hash_map<std::string, absl::Time> indexed_;
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
