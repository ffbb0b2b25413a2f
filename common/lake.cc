#include "common/lake.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace scout {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  return errno == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
}

class LocalLake final : public Lake {
 public:
  explicit LocalLake(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) override {
    const std::string dir = absl::StrCat(root_, "/", prefix);
    std::vector<LakeEntry> entries;
    DIR* handle = opendir(dir.c_str());
    if (handle == nullptr) {
      if (errno != ENOENT) return ErrnoError("cannot list", dir);
      // A missing folder is an empty listing (as a missing S3 prefix is);
      // a missing root is a wrong path or an unmounted volume (a missing
      // bucket), never "no new files".
      struct stat root;
      if (::stat(root_.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) {
        return absl::NotFoundError(
            absl::StrCat("the lake root ", root_, " is not a folder (wrong path, or not mounted?)"));
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

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("cannot read", path);
      close(fd);
      return status;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return data;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view data) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create directory for ", path, ": ", ec.message()));
  // A dotfile in the same directory: listings skip it, rename is atomic.
  const std::filesystem::path target(path);
  const std::string tmp = (target.parent_path() /
                           absl::StrCat(".", target.filename().string(), ".tmp.", getpid()))
                              .string();
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("cannot write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return ErrnoError("cannot close", tmp);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status status = ErrnoError("cannot rename onto", path);
    unlink(tmp.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace scout
