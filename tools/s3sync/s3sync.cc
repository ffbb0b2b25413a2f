#include "tools/s3sync/s3sync.h"

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include <openssl/evp.h>
#include <sys/stat.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/backends/progress.h"
#include "common/base/parallel.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout::tools {
namespace {

namespace fs = std::filesystem;

struct LocalFile {
  std::string path;
  std::string key;
  int64_t size = 0;
  absl::Time modified;
};

// S3's ETag of a single-PUT object is the MD5 of its bytes, in hex.
std::string Md5Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

absl::StatusOr<std::vector<LocalFile>> ListLocal(const std::string& dir, absl::string_view prefix) {
  std::vector<LocalFile> files;
  std::error_code error;
  fs::recursive_directory_iterator it(dir, error), end;
  if (error) return ErrnoStatus("list", dir, error.value());
  for (; it != end; it.increment(error)) {
    if (error) return ErrnoStatus("list", dir, error.value());
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    struct stat info;
    if (stat(it->path().c_str(), &info) != 0) return ErrnoStatus("stat", it->path().string());
    files.push_back({it->path().string(),
                     absl::StrCat(prefix, fs::relative(it->path(), dir).generic_string()),
                     static_cast<int64_t>(info.st_size), absl::TimeFromTimespec(info.st_mtim)});
  }
  return files;
}

}  // namespace

absl::StatusOr<SyncReport> SyncDirectory(const std::string& dir, ObjectStore& store,
                                         const S3Location& destination,
                                         const SyncOptions& options) {
  SyncReport report;
  if (options.create_bucket) {
    const absl::Status created = store.CreateBucket(destination.bucket);
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  }
  SCOUT_ASSIGN_OR_RETURN(const std::vector<LocalFile> files, ListLocal(dir, destination.prefix));
  SCOUT_ASSIGN_OR_RETURN(const S3ListPage listing,
                         store.List(destination.bucket, destination.prefix, ""));
  report.files = static_cast<int64_t>(files.size());
  report.objects_before = static_cast<int64_t>(listing.objects.size());
  absl::flat_hash_map<absl::string_view, const S3Object*> remote;
  for (const S3Object& object : listing.objects) remote.emplace(object.key, &object);

  Progress progress("s3sync", report.files);
  std::atomic<int64_t> uploaded{0}, unchanged{0}, bytes{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  absl::Status first_error;
  ParallelFor(files.size(), options.threads, [&](size_t i) {
    if (failed.load()) return;
    const LocalFile& file = files[i];
    absl::Status status = [&]() -> absl::Status {
      const auto it = remote.find(file.key);
      const bool may_match = it != remote.end() && it->second->size == file.size &&
                             file.modified < options.rewritten_since;
      SCOUT_ASSIGN_OR_RETURN(const std::string data, ReadFile(file.path));
      if (may_match && it->second->etag == Md5Hex(data)) {
        ++unchanged;
        return absl::OkStatus();
      }
      SCOUT_RETURN_IF_ERROR(store.Put(destination.bucket, file.key, data).status());
      ++uploaded;
      bytes += static_cast<int64_t>(data.size());
      return absl::OkStatus();
    }();
    progress.Add();
    if (!status.ok() && !failed.exchange(true)) {
      std::lock_guard lock(mu);
      first_error = std::move(status);
    }
  });
  if (failed.load()) return first_error;
  report.uploaded = uploaded.load();
  report.unchanged = unchanged.load();
  report.bytes_uploaded = bytes.load();

  if (options.delete_extra) {
    absl::flat_hash_map<absl::string_view, bool> local;
    for (const LocalFile& file : files) local.emplace(file.key, true);
    for (const S3Object& object : listing.objects) {
      if (local.contains(object.key)) continue;
      SCOUT_RETURN_IF_ERROR(store.Delete(destination.bucket, object.key));
      ++report.deleted;
    }
  }
  return report;
}

}  // namespace scout::tools
