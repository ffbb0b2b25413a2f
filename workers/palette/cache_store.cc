#include "workers/palette/cache_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/sha256.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout::palette {
namespace {

namespace fs = std::filesystem;

class S3CacheStore final : public CacheStore {
 public:
  S3CacheStore(std::shared_ptr<ObjectStore> store, S3Location root)
      : store_(std::move(store)), root_(std::move(root)) {}

  absl::StatusOr<std::vector<CacheObject>> List(absl::string_view prefix) override {
    SCOUT_ASSIGN_OR_RETURN(S3ListPage listing,
                           store_->List(root_.bucket, absl::StrCat(root_.prefix, prefix), ""));
    std::vector<CacheObject> objects;
    for (const S3Object& object : listing.objects) {
      absl::string_view name = object.key;
      if (!absl::ConsumePrefix(&name, root_.prefix)) continue;
      objects.push_back(CacheObject{std::string(name), object.size});
    }
    return objects;
  }

  absl::StatusOr<VersionedBytes> Get(absl::string_view name) override {
    return NewS3VersionedObject(store_, root_.bucket, absl::StrCat(root_.prefix, name))->Get();
  }

  absl::StatusOr<std::string> Put(absl::string_view name, absl::string_view bytes,
                                  const PutConditions& condition) override {
    return store_->Put(root_.bucket, absl::StrCat(root_.prefix, name), bytes, condition);
  }

  absl::Status Delete(absl::string_view name) override {
    return store_->Delete(root_.bucket, absl::StrCat(root_.prefix, name));
  }

  std::string Where() const override {
    return absl::StrCat("s3://", root_.bucket, "/", root_.prefix);
  }

 private:
  const std::shared_ptr<ObjectStore> store_;
  const S3Location root_;
};

std::string ContentVersion(absl::string_view bytes) { return Sha256Hex(bytes).substr(0, 32); }

class LocalCacheStore final : public CacheStore {
 public:
  explicit LocalCacheStore(std::string dir) : dir_(std::move(dir)) {}

  absl::StatusOr<std::vector<CacheObject>> List(absl::string_view prefix) override {
    std::vector<CacheObject> objects;
    std::error_code ec;
    if (!fs::exists(dir_, ec)) return objects;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string name = fs::relative(it->path(), dir_).generic_string();
      // The lock and WriteFileAtomically's temporary files are dotfiles.
      if (it->path().filename().string().starts_with(".")) continue;
      if (!absl::StartsWith(name, prefix)) continue;
      objects.push_back(CacheObject{name, static_cast<int64_t>(it->file_size())});
    }
    if (ec) return ErrnoStatus("cannot list", dir_, ec.value());
    std::sort(objects.begin(), objects.end(),
              [](const CacheObject& a, const CacheObject& b) { return a.name < b.name; });
    return objects;
  }

  absl::StatusOr<VersionedBytes> Get(absl::string_view name) override {
    SCOUT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(Path(name)));
    std::string version = ContentVersion(bytes);
    return VersionedBytes{std::move(bytes), std::move(version)};
  }

  absl::StatusOr<std::string> Put(absl::string_view name, absl::string_view bytes,
                                  const PutConditions& condition) override {
    const std::string path = Path(name);
    std::lock_guard<std::mutex> lock(mu_);
    SCOUT_RETURN_IF_ERROR(FileSystem::Default()->CreateDirs(fs::path(path).parent_path().string()));
    const std::string lock_path = absl::StrCat(dir_, "/.lock");
    const int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) return ErrnoStatus("cannot open", lock_path);
    while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    absl::StatusOr<std::string> written = [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<std::string> current = ReadFile(path);
      if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();
      if (condition.if_none_match_any && current.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(path, " exists"));
      }
      if (!condition.if_match.empty()) {
        if (!current.ok()) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
        if (ContentVersion(*current) != condition.if_match) {
          return absl::FailedPreconditionError(absl::StrCat(path, " has changed"));
        }
      }
      SCOUT_RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
      return ContentVersion(bytes);
    }();
    close(lock_fd);  // Releases the flock.
    return written;
  }

  absl::Status Delete(absl::string_view name) override {
    absl::Status removed = FileSystem::Default()->Remove(Path(name));
    return absl::IsNotFound(removed) ? absl::OkStatus() : removed;
  }

  std::string Where() const override { return absl::StrCat(dir_, "/"); }

 private:
  std::string Path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }

  const std::string dir_;
  std::mutex mu_;  // flock does not order threads of one process sharing this store.
};

// The lease's one object: names are the store's, and so is what a version
// means (an ETag, or a content hash in a local folder).
class StoreObject final : public VersionedObject {
 public:
  StoreObject(CacheStore* store, std::string name) : store_(store), name_(std::move(name)) {}

  absl::StatusOr<VersionedBytes> Get() override { return store_->Get(name_); }

  absl::StatusOr<std::string> Put(absl::string_view bytes,
                                  const PutConditions& conditions) override {
    return store_->Put(name_, bytes, conditions);
  }

  std::string Where() const override { return absl::StrCat(store_->Where(), name_); }

 private:
  CacheStore* const store_;
  const std::string name_;
};

}  // namespace

std::unique_ptr<CacheStore> NewS3CacheStore(std::shared_ptr<ObjectStore> store, S3Location root) {
  return std::make_unique<S3CacheStore>(std::move(store), std::move(root));
}

std::unique_ptr<CacheStore> NewLocalCacheStore(std::string dir) {
  return std::make_unique<LocalCacheStore>(std::move(dir));
}

absl::StatusOr<std::unique_ptr<CacheStore>> CacheStoreForState(absl::string_view state,
                                                               std::shared_ptr<ObjectStore> s3) {
  if (!IsS3Url(state)) return nullptr;
  SCOUT_ASSIGN_OR_RETURN(S3Location location, ParseS3Url(state));
  if (s3 == nullptr) return absl::InternalError("SCOUT_STATE is on S3 but no S3 client was made");
  location.prefix += "palette-cache/";
  return NewS3CacheStore(std::move(s3), std::move(location));
}

std::unique_ptr<VersionedObject> CacheStoreObject(CacheStore* store, std::string name) {
  return std::make_unique<StoreObject>(store, std::move(name));
}

}  // namespace scout::palette
