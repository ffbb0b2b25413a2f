// Test support: a FileSystem that records every call and fails the ones a
// test asks for (fsync, directory fsync, rename, a short write). Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/io/files.h"

namespace scout::testing {

// Records every call, in order, and fails the ones it is told to.
class RecordingFileSystem : public FileSystemWrapper {
 public:
  RecordingFileSystem() : FileSystemWrapper(FileSystem::Default()) {}

  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path,
                                                             bool append) override {
    Record(absl::StrCat("open ", path));
    absl::StatusOr<std::unique_ptr<WritableFile>> file = target()->OpenForWrite(path, append);
    if (!file.ok()) return file;
    return std::unique_ptr<WritableFile>(new Recorded(this, path, *std::move(file)));
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    Record(absl::StrCat("rename ", from, " ", to));
    if (fail_rename) return absl::InternalError("injected rename failure");
    return target()->Rename(from, to);
  }
  absl::Status SyncDir(const std::string& dir) override {
    Record(absl::StrCat("syncdir ", dir));
    if (fail_sync_dir) return absl::UnavailableError("injected directory fsync failure");
    return target()->SyncDir(dir);
  }

  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  bool fail_sync = false, fail_rename = false, fail_sync_dir = false;
  int short_write_after = -1;  // Bytes an Append writes before failing.

 private:
  class Recorded : public WritableFile {
   public:
    Recorded(RecordingFileSystem* fs, std::string path, std::unique_ptr<WritableFile> file)
        : fs_(fs), path_(std::move(path)), file_(std::move(file)) {}
    absl::Status Append(absl::string_view data) override {
      fs_->Record(absl::StrCat("append ", path_));
      if (fs_->short_write_after >= 0 &&
          data.size() > static_cast<size_t>(fs_->short_write_after)) {
        file_->Append(data.substr(0, fs_->short_write_after)).IgnoreError();
        return absl::UnavailableError("injected short write (disk full)");
      }
      return file_->Append(data);
    }
    absl::Status Sync() override {
      fs_->Record(absl::StrCat("sync ", path_));
      if (fs_->fail_sync) return absl::UnavailableError("injected fsync failure");
      return file_->Sync();
    }
    absl::Status Close() override {
      fs_->Record(absl::StrCat("close ", path_));
      return file_->Close();
    }

   private:
    RecordingFileSystem* fs_;
    std::string path_;
    std::unique_ptr<WritableFile> file_;
  };

  void Record(std::string call) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(std::move(call));
  }

  std::mutex mu_;
  std::vector<std::string> calls_;
};

}  // namespace scout::testing
