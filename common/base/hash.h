// A stable 64-bit hash (FNV-1a): unlike absl::Hash it is the same in every
// process, so it can be persisted (checkpoints, page tokens, shard choice).
#pragma once

#include "absl/strings/string_view.h"

#include <cstdint>
#include <string_view>

namespace scout {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;

constexpr uint64_t StableHash(absl::string_view data, uint64_t h = kFnvOffset) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace scout
