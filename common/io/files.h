// Files: the local file system behind a small interface (LevelDB's Env
// style) so the checkpoint, the media store and the sample cache can be
// tested with injected faults (a failing fsync, rename or short write), plus
// the whole-file helpers everything else uses (API keys, TLS files, the
// client). FileSystem::Default() is thread-safe; a WritableFile is used by
// one thread at a time.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

// The one errno -> Status mapping: `what path: strerror(err)`. ENOENT is
// NOT_FOUND; ENOSPC/EDQUOT/EIO are UNAVAILABLE (free space or fix the disk,
// then rerun); the rest INTERNAL.
absl::Status ErrnoStatus(absl::string_view what, absl::string_view path, int err = errno);

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // All of `data`, or an error (a short write leaves a prefix behind).
  virtual absl::Status Append(absl::string_view data) = 0;
  // fdatasync: the data is on disk when this returns OK.
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
};

// Held while alive; released on destruction (or when the process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // The real one (POSIX). Never null, never destroyed.
  static FileSystem* Default();

  // At most `max_bytes` (negative: no cap); a longer file or one that is not
  // a regular file (a device, a FIFO) is FAILED_PRECONDITION.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path, int64_t max_bytes = -1) = 0;
  // Creates or truncates (append=false), or appends (append=true).
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path,
                                                                     bool append) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory: makes the renames and creations in it durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  virtual absl::Status CreateDirs(const std::string& dir) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;
  // An exclusive flock on `path` (created if missing), without waiting:
  // held by another process (or another lock in this one) is UNAVAILABLE.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& path) = 0;
};

// Forwards everything to `target`: tests subclass it and override the calls
// they want to fail.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}
  absl::StatusOr<std::string> ReadFile(const std::string& path, int64_t max_bytes) override {
    return target_->ReadFile(path, max_bytes);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path,
                                                             bool append) override {
    return target_->OpenForWrite(path, append);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  absl::Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  absl::Status CreateDirs(const std::string& dir) override { return target_->CreateDirs(dir); }
  absl::Status Remove(const std::string& path) override { return target_->Remove(path); }
  absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    return target_->Lock(path);
  }

 protected:
  FileSystem* target() const { return target_; }

 private:
  FileSystem* const target_;
};

// Writes a temporary file beside `path` (a dotfile with a name unique to
// this process, thread and call, so concurrent writers of one path never
// share it), fsyncs it, renames it onto `path` and fsyncs the directory.
// Readers see the old file or the whole new one, never a part, and a crash
// at any point leaves one of the two: so a file that exists under its final
// name is complete. On failure the temporary file is removed.
absl::Status WriteFileAtomically(FileSystem& fs, const std::string& path, absl::string_view data);

// The same on FileSystem::Default().
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data);

}  // namespace scout
