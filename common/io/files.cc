#include "common/io/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace scout {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    for (size_t written = 0; written < data.size();) {
      const ssize_t n = write(fd_, data.data() + written, data.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("cannot write", path_);
      written += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (fdatasync(fd_) != 0) return ErrnoStatus("cannot sync", path_);
    return absl::OkStatus();
  }
  absl::Status Close() override {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && close(fd) != 0) return ErrnoStatus("cannot close", path_);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { close(fd_); }  // Releases the flock.

 private:
  const int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path, int64_t max_bytes) override {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ErrnoStatus("cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      absl::Status status = ErrnoStatus("cannot stat", path);
      close(fd);
      return status;
    }
    // A device (/dev/zero) or a FIFO never ends or blocks: only regular
    // files are read when a cap is asked for.
    if (max_bytes >= 0 && !S_ISREG(st.st_mode)) {
      close(fd);
      return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
    }
    std::string data;
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        absl::Status status = ErrnoStatus("cannot read", path);
        close(fd);
        return status;
      }
      if (n == 0) break;
      data.append(buffer, static_cast<size_t>(n));
      if (max_bytes >= 0 && static_cast<int64_t>(data.size()) > max_bytes) {
        close(fd);
        return absl::FailedPreconditionError(
            absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
      }
    }
    close(fd);
    return data;
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path,
                                                             bool append) override {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    const int fd = open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("cannot open", path);
    return std::make_unique<PosixWritableFile>(path, fd);
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("cannot rename onto", to);
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open directory", dir);
    const int rc = fsync(fd);
    const int err = errno;
    close(fd);
    if (rc != 0) return ErrnoStatus("cannot sync directory", dir, err);
    return absl::OkStatus();
  }

  absl::Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return ErrnoStatus("cannot remove", path);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot open", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      close(fd);
      if (err == EWOULDBLOCK) {
        return absl::UnavailableError(
            absl::StrCat(path, " is locked: another run of the same job is under way"));
      }
      return ErrnoStatus("cannot lock", path, err);
    }
    return std::make_unique<PosixFileLock>(fd);
  }
};

}  // namespace

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path, int err) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case ENOSPC:
    case EDQUOT:
    case EIO:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

FileSystem* FileSystem::Default() {
  static FileSystem* const fs = new PosixFileSystem();
  return fs;
}

absl::Status WriteFileAtomically(FileSystem& fs, const std::string& path, absl::string_view data) {
  const std::filesystem::path target(path);
  const std::string dir = target.parent_path().string();
  if (!dir.empty()) SCOUT_RETURN_IF_ERROR(fs.CreateDirs(dir));
  // A dotfile in the same directory (listings skip it, rename is atomic),
  // unique per process, thread and call.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      (target.parent_path() /
       absl::StrCat(".", target.filename().string(), ".tmp.", getpid(), ".",
                    std::hash<std::thread::id>()(std::this_thread::get_id()) % 1000000, ".",
                    counter.fetch_add(1)))
          .string();
  absl::Status status = [&]() -> absl::Status {
    SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.OpenForWrite(tmp, false));
    SCOUT_RETURN_IF_ERROR(file->Append(data));
    SCOUT_RETURN_IF_ERROR(file->Sync());
    SCOUT_RETURN_IF_ERROR(file->Close());
    return fs.Rename(tmp, path);
  }();
  if (!status.ok()) {
    fs.Remove(tmp).IgnoreError();
    return status;
  }
  // The rename itself is durable only once its directory is synced.
  return fs.SyncDir(dir);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  return FileSystem::Default()->ReadFile(path, -1);
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view data) {
  return WriteFileAtomically(*FileSystem::Default(), path, data);
}

}  // namespace scout
