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
    absl::StatusOr<std::vector<LakeEntry>> entries = ReadDir(dir);
    if (absl::IsNotFound(entries.status())) return MissingFolder();
    if (!entries.ok()) return entries.status();
    std::sort(entries->begin(), entries->end(),
              [](const LakeEntry& a, const LakeEntry& b) { return a.name < b.name; });
    return entries;
  }

  absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) override {
    const std::string dir = absl::StrCat(root_, "/", prefix);
    std::vector<LakeEntry> page;
    SCOUT_RETURN_IF_ERROR(Walk(dir, "", 0, page, visit));
    return page.empty() ? absl::OkStatus() : visit(page);
  }

  absl::StatusOr<std::string> Read(absl::string_view key) override {
    return ReadFile(absl::StrCat(root_, "/", key));
  }

 private:
  static constexpr size_t kPageSize = 1000;  // As S3's listing pages.
  static constexpr int kMaxDepth = 64;       // Symlink loops end here.

  // A missing folder is an empty listing (as a missing S3 prefix is); a
  // missing root is a wrong path or an unmounted volume (a missing bucket),
  // never "no new files".
  absl::StatusOr<std::vector<LakeEntry>> MissingFolder() const {
    struct stat root;
    if (::stat(root_.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("the lake root ", root_, " is not a folder (wrong path, or not mounted?)"));
    }
    return std::vector<LakeEntry>();
  }

  // The visible children of `dir`, unsorted; NOT_FOUND when it is missing.
  static absl::StatusOr<std::vector<LakeEntry>> ReadDir(const std::string& dir) {
    std::vector<LakeEntry> entries;
    DIR* handle = opendir(dir.c_str());
    if (handle == nullptr) {
      if (errno == ENOENT) return absl::NotFoundError(dir);
      return ErrnoStatus("cannot list", dir);
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
    return entries;
  }

  // Depth first, each folder's children in the order their paths sort in:
  // a folder "a" sorts as "a/", so its files come after the file "a-b" and
  // before "a0", as S3 lists keys.
  absl::Status Walk(const std::string& dir, const std::string& relative, int depth,
                    std::vector<LakeEntry>& page, const FilePageVisitor& visit) const {
    absl::StatusOr<std::vector<LakeEntry>> children = ReadDir(dir);
    if (absl::IsNotFound(children.status())) {
      // Below the prefix: raced away. The prefix itself: nothing to list, or no lake.
      return depth > 0 ? absl::OkStatus() : MissingFolder().status();
    }
    if (!children.ok()) return children.status();
    auto sort_key = [](const LakeEntry& entry) {
      return entry.is_dir ? absl::StrCat(entry.name, "/") : entry.name;
    };
    std::sort(children->begin(), children->end(),
              [&](const LakeEntry& a, const LakeEntry& b) { return sort_key(a) < sort_key(b); });
    for (LakeEntry& child : *children) {
      if (child.is_dir) {
        if (depth + 1 >= kMaxDepth) continue;
        SCOUT_RETURN_IF_ERROR(Walk(absl::StrCat(dir, "/", child.name),
                                   absl::StrCat(relative, child.name, "/"), depth + 1, page,
                                   visit));
        continue;
      }
      child.name = absl::StrCat(relative, child.name);
      page.push_back(std::move(child));
      if (page.size() >= kPageSize) {
        SCOUT_RETURN_IF_ERROR(visit(page));
        page.clear();
      }
    }
    return absl::OkStatus();
  }

  const std::string root_;
};

}  // namespace

std::unique_ptr<Lake> NewLocalLake(std::string root) {
  return std::make_unique<LocalLake>(std::move(root));
}

}  // namespace scout
