// Lake: read access to the data lake (a local directory now, an S3-compatible
// store later), listed one level at a time like S3's delimiter listing so a
// worker can skip other shards' creators without listing their files.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

struct LakeEntry {
  std::string name;  // Child name, no slash.
  bool is_dir = false;
  int64_t size = 0;      // Files only.
  int64_t mtime_ns = 0;  // Files only; on S3 the object's LastModified (1 s resolution).
  std::string etag;      // Files only, S3 lake (unquoted): changes with the content.
};

class Lake {
 public:
  virtual ~Lake() = default;
  // Children of `prefix` ("instagram_graph/posts/"), sorted by name. A
  // missing prefix is an empty listing, not an error; a missing lake root
  // is NOT_FOUND.
  virtual absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) = 0;
  virtual absl::StatusOr<std::string> Read(absl::string_view key) = 0;
};

std::unique_ptr<Lake> NewLocalLake(std::string root);

}  // namespace scout
