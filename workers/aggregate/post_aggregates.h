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
#include "common/elastic.h"
#include "common/shard.h"

namespace scout::aggregate {

struct PostAggregate {
  int64_t posts = 0;       // Every post, stories included.
  int64_t feed_posts = 0;  // Posts with likes and comments.
  int64_t likes = 0;
  int64_t comments = 0;
  std::optional<double> followers_avg;  // Over posts that carry followers.
};

// Posts with from <= timestamp < to, by owner, for the shard's creators.
absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> AggregatePosts(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time to,
    const Shard& shard);

}  // namespace scout::aggregate
