// Shard: which creators a worker run owns (`--shard i/N`), so Airflow can fan
// one job out over N tasks. A creator's id hashes (stably) to one of
// kShardBuckets buckets and shard i/N owns the buckets b with b % N == i, so
// a creator always lands in the same shard. The bucket is also indexed with
// every post (common/backends/post_index.h), so Elasticsearch can hand each shard its
// own posts only. Immutable, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

// Fixed forever: it is persisted in every indexed post. Changing it means
// reindexing every post (rerun scout-ingest with fresh checkpoints).
inline constexpr int kShardBuckets = 1024;

// The bucket of a creator: StableHash(id) mod kShardBuckets.
int ShardBucket(absl::string_view creator_id);

class Shard {
 public:
  Shard() = default;  // The whole set: 0/1.
  // "i/N" with 0 <= i < N <= kShardBuckets.
  static absl::StatusOr<Shard> Parse(absl::string_view text);

  bool Owns(absl::string_view creator_id) const;
  bool OwnsBucket(int bucket) const;
  // Whether this is the whole set (0/1): no filtering needed at all.
  bool IsWhole() const { return count_ == 1; }
  // The buckets this shard owns, ascending.
  std::vector<int> Buckets() const;
  std::string ToString() const;

 private:
  Shard(int index, int count) : index_(index), count_(count) {}
  int index_ = 0;
  int count_ = 1;
};

}  // namespace scout
