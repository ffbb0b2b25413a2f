// Shard: which creators a worker run owns (`--shard i/N`), so Airflow can fan
// one job out over N tasks. Creators are assigned by a stable hash of their
// id, so a creator always lands in the same shard. Immutable, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"

namespace scout {

class Shard {
 public:
  Shard() = default;  // The whole set: 0/1.
  // "i/N" with 0 <= i < N.
  static absl::StatusOr<Shard> Parse(absl::string_view text);

  bool Owns(absl::string_view creator_id) const;
  std::string ToString() const;

 private:
  Shard(int index, int count) : index_(index), count_(count) {}
  int index_ = 0;
  int count_ = 1;
};

}  // namespace scout
