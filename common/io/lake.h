// Lake: read access to the data lake (a local directory, or an S3 bucket:
// common/backends/s3_stores.h). Two listings: one level at a time like S3's
// delimiter listing (List), and every file under a prefix at any depth
// (ListFiles), which on S3 costs one LIST per 1,000 files however many
// folders hold them. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

struct LakeEntry {
  std::string name;  // List: the child's name, no slash. ListFiles: the path under the prefix.
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
  // Every file under `prefix` at any depth, in the byte order of their paths
  // (S3's listing order), handed to `visit` a page at a time so a listing of
  // millions of files is never held whole: on S3 ListObjectsV2 without a
  // delimiter, 1,000 keys a page, continuation tokens followed; locally a
  // recursive walk (pages of 1,000 too). Names are paths relative to the
  // prefix ("17841/9001.json"); paths with a hidden segment (starting with
  // ".") or an empty one are skipped, as List skips hidden names. A missing
  // prefix lists nothing; a missing lake root is NOT_FOUND. An error from
  // `visit` stops the listing and is returned.
  using FilePageVisitor = std::function<absl::Status(std::vector<LakeEntry>& page)>;
  virtual absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) = 0;
  virtual absl::StatusOr<std::string> Read(absl::string_view key) = 0;
};

std::unique_ptr<Lake> NewLocalLake(std::string root);

}  // namespace scout
