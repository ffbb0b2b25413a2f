// The ingest checkpoint's storage on S3 (SCOUT_STATE=s3://bucket/prefix),
// so a shard that dies on one machine resumes on another with an empty disk.
// Under `key` (prefix + the local file's name):
//   <key>                 the snapshot: a header line "#generation <g>",
//                         then the entries' lines (as the local file);
//   <key>.journal/<g>-<n> one object per Commit (g: generation, n: its
//                         sequence; zero-padded so keys sort in order);
//   <key>.lease           the lease (common/backends/lease.h).
// A commit is durable once its PUT returned OK. The snapshot of generation g
// folds in every journal object of generations <= g: Load reads the snapshot
// and the journal objects of later generations in key order; Replace writes
// the snapshot, then deletes the folded objects (one left behind by a crash
// is ignored on load and deleted by the next Replace). Every write first
// checks the lease, so a run that lost it stops with ABORTED. Not
// thread-safe (the checkpoint's owner uses it; the lease renews itself).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/backends/lease.h"
#include "common/backends/s3.h"
#include "workers/ingest/checkpoint.h"

namespace scout::ingest {

// Takes the lease (UNAVAILABLE naming its holder while another run holds it).
absl::StatusOr<std::unique_ptr<CheckpointStorage>> OpenS3CheckpointStorage(
    std::shared_ptr<ObjectStore> store, std::string bucket, std::string key,
    LeaseOptions lease = {});

}  // namespace scout::ingest
