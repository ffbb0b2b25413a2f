#include "common/io/lake.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout {
namespace {

class LocalLake final : public Lake {
 public:
  explicit LocalLake(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) override {
    const std::string dir = absl::StrCat(root_, "/", prefix);
    std::vector<LakeEntry> entries;
    DIR* handle = opendir(dir.c_str());
    if (handle == nullptr) {
      if (errno != ENOENT) return ErrnoStatus("cannot list", dir);
      // A missing folder is an empty listing (as a missing S3 prefix is);
      // a missing root is a wrong path or an unmounted volume (a missing
      // bucket), never "no new files".
      struct stat root;
      if (::stat(root_.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) {
        return absl::NotFoundError(absl::StrCat("the lake root ", root_,
                                                " is not a folder (wrong path, or not mounted?)"));
      }
      return entries;
    }
    const int dir_fd = dirfd(handle);
    while (const dirent* ent = readdir(handle)) {
      if (ent->d_name[0] == '.') continue;  // ".", "..", hidden temp files.
      struct stat st;
      if (fstatat(dir_fd, ent->d_name, &st, 0) != 0) continue;  // Raced away.
      LakeEntry& entry = entries.emplace_back();
      entry.name = ent->d_name;
      entry.is_dir = S_ISDIR(st.st_mode);
      entry.size = st.st_size;
      entry.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    closedir(handle);
    std::sort(entries.begin(), entries.end(),
              [](const LakeEntry& a, const LakeEntry& b) { return a.name < b.name; });
    return entries;
  }

  absl::StatusOr<std::string> Read(absl::string_view key) override {
    return ReadFile(absl::StrCat(root_, "/", key));
  }

 private:
  const std::string root_;
};

}  // namespace

std::unique_ptr<Lake> NewLocalLake(std::string root) {
  return std::make_unique<LocalLake>(std::move(root));
}

}  // namespace scout
