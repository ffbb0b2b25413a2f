#include "common/shard.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/hash.h"

namespace scout {

absl::StatusOr<Shard> Shard::Parse(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  int index = 0, count = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &index) ||
      !absl::SimpleAtoi(parts[1], &count) || count < 1 || index < 0 || index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard wants i/N with 0 <= i < N, got \"", text, "\""));
  }
  return Shard(index, count);
}

bool Shard::Owns(absl::string_view creator_id) const {
  return count_ == 1 || StableHash(creator_id) % static_cast<uint64_t>(count_) ==
                            static_cast<uint64_t>(index_);
}

std::string Shard::ToString() const { return absl::StrCat(index_, "/", count_); }

}  // namespace scout
