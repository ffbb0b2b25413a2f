#include "common/base/shard.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/hash.h"

namespace scout {

int ShardBucket(absl::string_view creator_id) {
  return static_cast<int>(StableHash(creator_id) % static_cast<uint64_t>(kShardBuckets));
}

absl::StatusOr<Shard> Shard::Parse(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  int index = 0, count = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &index) ||
      !absl::SimpleAtoi(parts[1], &count) || count < 1 || count > kShardBuckets || index < 0 ||
      index >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard wants i/N with 0 <= i < N <= ", kShardBuckets, ", got \"", text, "\""));
  }
  return Shard(index, count);
}

bool Shard::OwnsBucket(int bucket) const { return bucket % count_ == index_; }

bool Shard::Owns(absl::string_view creator_id) const {
  return count_ == 1 || OwnsBucket(ShardBucket(creator_id));
}

std::vector<int> Shard::Buckets() const {
  std::vector<int> buckets;
  for (int bucket = index_; bucket < kShardBuckets; bucket += count_) buckets.push_back(bucket);
  return buckets;
}

std::string Shard::ToString() const { return absl::StrCat(index_, "/", count_); }

}  // namespace scout
