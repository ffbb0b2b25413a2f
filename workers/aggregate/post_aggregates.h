// Per-creator aggregates of the posts of a time window, computed by
// Elasticsearch (a composite aggregation paged with after_key, so memory
// stays bounded however many creators there are). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/base/shard.h"

namespace scout::aggregate {

struct PostAggregate {
  int64_t posts = 0;                    // Every post, stories included.
  int64_t feed_posts = 0;               // Posts with a like count (likes not hidden).
  int64_t likes = 0;                    // Over the feed posts.
  int64_t comments = 0;                 // Over the feed posts too, so eng_avg is per feed post.
  std::optional<double> followers_avg;  // Over posts that carry followers.
};

// Posts with from <= timestamp < to, by owner, for the shard's creators
// (Elasticsearch filters by shard, so each shard reads its own posts only).
// FAILED_PRECONDITION when the alias does not exist.
absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> AggregatePosts(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time to, const Shard& shard);

}  // namespace scout::aggregate
