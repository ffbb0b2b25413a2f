// What each creator of a shard posted about in the last 90 days, read from
// the posts alias (the shard's posts only, `_source` cut to the fields used,
// paged with search_after in (owner, newest first) order so a creator is
// complete when the owner changes): hashtags and mentions with counts, a
// bounded sample of the newest captions, topics, the newest post's time and
// the average reach / impressions of the last 30 days' posts that carry
// them. Memory per creator is its tag counts plus the bounded caption
// sample. Thread-compatible (one call per thread).
#pragma once

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/creator_content.h"
#include "common/backends/elastic.h"
#include "common/base/shard.h"
#include "common/base/topics.h"

namespace scout::aggregate {

struct CreatorContent {
  CreatorContentRow row;  // creator_id, posts_90d, tags, captions, topics (as_of left unset).
  std::optional<absl::Time> last_post_at;
  // Over the posts of [recent_from, to) that carry reach / impressions
  // (business connections' posts only); absent otherwise, never 0.
  std::optional<double> avg_reach, avg_impressions;
};

struct ContentReadStats {
  int64_t posts_read = 0;
  int64_t pages = 0;
};

// Posts with from <= timestamp < to, by owner, for the shard's creators.
// `recent_from` starts the window of the reach / impressions averages.
// FAILED_PRECONDITION when the alias does not exist.
absl::StatusOr<absl::flat_hash_map<std::string, CreatorContent>> ReadCreatorContents(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time recent_from,
    absl::Time to, const Shard& shard, ContentReadStats* stats = nullptr, int page_size = 1000);

// One creator's content from its posts, fed newest first (as the reader
// does); exposed for unit tests.
class ContentBuilder {
 public:
  ContentBuilder(std::string creator_id, absl::Time recent_from);
  // `timestamp` must not be newer than the previous post's.
  void AddPost(absl::Time timestamp, absl::string_view caption,
               const std::vector<std::string>& hashtags, const std::vector<std::string>& mentions,
               std::optional<int64_t> reach, std::optional<int64_t> impressions);
  CreatorContent Finish() &&;

 private:
  struct Tally {
    std::string shown;  // The spelling of the oldest post using it.
    int64_t count = 0;
  };
  static void Count(const std::vector<std::string>& tags,
                    absl::flat_hash_map<std::string, Tally>& tally);
  static std::vector<scout::v1::TagCount> Top(const absl::flat_hash_map<std::string, Tally>& tally);

  CreatorContent content_;
  absl::Time recent_from_;
  absl::flat_hash_map<std::string, Tally> hashtags_, mentions_;
  size_t caption_bytes_ = 0;
  double reach_sum_ = 0, impressions_sum_ = 0;
  int64_t reach_posts_ = 0, impressions_posts_ = 0;
  TopicCounter topics_;
};

}  // namespace scout::aggregate
