// The seam between where scout-ingest --follow learns that lake files were
// written and what it does about it (LevelDB-Env style): a ChangeSource
// offers Changes to a ChangeQueue; the follow loop (follow.h) takes them in
// micro-batches. Sources here: the periodic listing sweep (the safety net,
// and the truth: events are only hints) and inotify for a local lake; the
// HTTP event receiver (S3 and SeaweedFS notifications) is in events.h.
// ChangeQueue is thread-safe; a source's Start and Stop are called from one
// thread, its own threads then offer changes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/shard.h"
#include "common/io/lake.h"

namespace scout::ingest {

// One lake file that was (or may have been) written.
struct Change {
  std::string key;  // Lake key: "instagram_graph/posts/<owner>/<post>.json".
  int64_t size = 0;
  // As Lake::List reports it; 0 when the source cannot know it (an AWS
  // event's time is not the object's LastModified).
  int64_t mtime_ns = 0;
  std::string etag;  // When known (S3), unquoted.
  // When the object landed (event time, LastModified, mtime): the lag is
  // measured from here.
  absl::Time landed = absl::InfinitePast();
  // From a listing: skipped without reading when the checkpoint already
  // has this size and mtime (or ETag). An event is skipped only when it
  // carries the ETag the checkpoint has; otherwise read (the hash decides).
  bool listed = false;
  std::string source;  // "sweep", "inotify", "s3", "seaweedfs": counted per source.
};

// Pending changes, deduplicated by key (the later offer's size, mtime and
// ETag win; the earlier landing time stays, so the lag counts from the
// first write not yet indexed). Two lanes, each FIFO by first offer: keys
// the taker's `first` predicate picks (the follower: posts it has never
// indexed) are taken before the rest, so a new post stays seconds from
// searchable while a backlog of rewrites (the daily refresh of every
// creator's newest posts, or a restart's catch-up) waits its turn. Accepted
// offers are counted in scout_follow_changes_total{source}.
class ChangeQueue {
 public:
  // Above `max_depth` pending keys, listed changes wait (the sweep slows
  // down) and events are refused (their sender retries later).
  explicit ChangeQueue(size_t max_depth = 200'000) : max_depth_(max_depth) {}

  // False when refused (full, or closed).
  bool Offer(Change change);
  // For listings: waits while the queue is full; false once closed.
  bool OfferListed(std::vector<Change> changes);
  // Waits until a change is pending (or `deadline`, or Close), then until
  // `max` are pending or `linger` after the oldest was offered; returns at
  // most `max` of one lane, oldest first: the `first` lane's while it has
  // any (a new post waits for the batch in flight, never for a full batch
  // of rewrites of its own), else the rest's. `first`
  // is called once per key, on this thread with the queue locked (so it may
  // read state only this thread writes); none: one FIFO lane.
  std::vector<Change> Take(size_t max, absl::Duration linger, absl::Time deadline,
                           const std::function<bool(const std::string& key)>& first = nullptr);
  // Wakes every waiter; later offers are refused, Take returns what is left.
  void Close();
  size_t depth() const;

 private:
  struct Pending {
    Change change;
    absl::Time offered;
  };
  bool AddLocked(Change change);
  absl::Time OldestLocked() const;

  const size_t max_depth_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  // Keys in order of first offer: not yet sorted (Take sorts them), and
  // the two lanes.
  std::deque<std::string> arrived_, first_, rest_;
  absl::flat_hash_map<std::string, Pending> pending_;
  bool closed_ = false;
};

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual std::string name() const = 0;
  // Starts offering changes to `queue` (which outlives the source) from the
  // source's own thread(s).
  virtual absl::Status Start(ChangeQueue* queue) = 0;
  // Stops and joins; idempotent.
  virtual void Stop() = 0;
};

// Lists the shard's post files (one flat listing of posts/, as a run does)
// at once and then every `interval` (never again when zero),
// offering every file as a listed change: the follow loop skips those its
// checkpoint already has. `on_pass` (optional) is called after each pass
// with its outcome.
std::unique_ptr<ChangeSource> NewSweepSource(
    Lake* lake, Shard shard, absl::Duration interval,
    std::function<void(const absl::Status&, int64_t files)> on_pass = nullptr);

// inotify on a local lake folder: files closed after writing
// (IN_CLOSE_WRITE) or renamed into place (IN_MOVED_TO) under
// instagram_graph/posts/, folders watched as they appear (a file written in
// a new folder before its watch exists is offered by a scan of the folder).
// Hidden names (".tmp") are ignored, as the lake listing ignores them.
// Only the shard's owners' folders are watched (one watch each: the kernel's
// fs.inotify.max_user_watches bounds them; Start says so when it is hit).
std::unique_ptr<ChangeSource> NewInotifySource(std::string lake_root, Shard shard);

}  // namespace scout::ingest
