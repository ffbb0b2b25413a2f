#include "workers/palette/cache_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/sha256.h"
#include "common/base/status.h"
#include "common/base/time.h"
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

  // HEAD, then GET: when the object changes in between, the version is the
  // older one, so a write conditioned on it fails (never the other way).
  absl::StatusOr<VersionedBytes> Get(absl::string_view name) override {
    const std::string key = absl::StrCat(root_.prefix, name);
    SCOUT_ASSIGN_OR_RETURN(S3Object head, store_->Head(root_.bucket, key));
    SCOUT_ASSIGN_OR_RETURN(std::string bytes, store_->Get(root_.bucket, key));
    return VersionedBytes{std::move(bytes), std::move(head.etag)};
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

std::string DefaultOwner() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "unknown-host", " pid ", getpid());
}

struct LeaseBody {
  std::string owner;
  absl::Time expires = absl::InfinitePast();
};

// An unreadable lease counts as expired: junk must not block the shard forever.
LeaseBody ParseLease(absl::string_view bytes) {
  LeaseBody body;
  const nlohmann::json parsed = nlohmann::json::parse(bytes, nullptr, false);
  if (!parsed.is_object()) return body;
  if (const auto owner = parsed.find("owner"); owner != parsed.end() && owner->is_string()) {
    body.owner = owner->get<std::string>();
  }
  if (const auto ms = parsed.find("expires_ms"); ms != parsed.end() && ms->is_number_integer()) {
    body.expires = absl::FromUnixMillis(ms->get<int64_t>());
  }
  return body;
}

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

absl::StatusOr<std::unique_ptr<CacheLease>> CacheLease::Acquire(CacheStore* store, std::string name,
                                                                LeaseOptions options) {
  if (options.owner.empty()) options.owner = DefaultOwner();
  std::unique_ptr<CacheLease> lease(new CacheLease(store, std::move(name), std::move(options)));
  const std::string where = absl::StrCat(store->Where(), lease->name_);
  PutConditions condition;
  absl::StatusOr<VersionedBytes> current = store->Get(lease->name_);
  if (absl::IsNotFound(current.status())) {
    condition.if_none_match_any = true;
  } else if (!current.ok()) {
    return current.status();
  } else {
    const LeaseBody held = ParseLease(current->bytes);
    if (held.expires > absl::Now()) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": another run of this shard holds the lease (", held.owner, ", until ",
          FormatRfc3339(held.expires), "); wait for it to finish or the lease to expire"));
    }
    condition.if_match = current->version;
  }
  const absl::Time expires = absl::Now() + lease->options_.duration;
  absl::StatusOr<std::string> version = store->Put(lease->name_, lease->Body(expires), condition);
  if (!version.ok()) {
    // A condition not met: someone wrote it since we read it. Anything else
    // (no bucket, no rights, the store down) is said as it is.
    const absl::Status& status = version.status();
    if (absl::IsFailedPrecondition(status) || absl::IsAlreadyExists(status) ||
        (absl::IsNotFound(status) && !condition.if_match.empty())) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": another run of this shard took the lease first (", status.message(), ")"));
    }
    return status;
  }
  lease->version_ = *std::move(version);
  lease->expires_ = expires;
  if (lease->options_.renew_every > absl::ZeroDuration()) {
    CacheLease* self = lease.get();
    lease->renewal_ =
        std::make_unique<Periodic>(lease->options_.renew_every, [self] { (void)self->Renew(); });
  }
  return lease;
}

CacheLease::~CacheLease() { renewal_.reset(); }

std::string CacheLease::Body(absl::Time expires) const {
  return nlohmann::json{{"owner", options_.owner}, {"expires_ms", absl::ToUnixMillis(expires)}}
      .dump();
}

absl::Status CacheLease::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::FailedPreconditionError("the lease was released");
  const absl::Time expires = absl::Now() + options_.duration;
  PutConditions condition;
  condition.if_match = version_;
  absl::StatusOr<std::string> version = store_->Put(name_, Body(expires), condition);
  if (version.ok()) {
    version_ = *std::move(version);
    expires_ = expires;
    return absl::OkStatus();
  }
  // A store out of reach: the lease still holds until it expires.
  if (absl::IsUnavailable(version.status()) && absl::Now() < expires_) return version.status();
  lost_ = absl::FailedPreconditionError(
      absl::StrCat(store_->Where(), name_, ": the lease of this shard was lost (",
                   version.status().message(), "): another run may have taken it"));
  return lost_;
}

absl::Status CacheLease::Check() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (absl::Now() >= expires_) {
    return absl::FailedPreconditionError(absl::StrCat(
        store_->Where(), name_, ": the lease of this shard expired before it could be renewed"));
  }
  return absl::OkStatus();
}

absl::Status CacheLease::Release() {
  renewal_.reset();  // No renewal after this.
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok() || released_) return lost_;
  PutConditions condition;
  condition.if_match = version_;
  released_ = true;
  return store_->Put(name_, Body(absl::UnixEpoch()), condition).status();
}

}  // namespace scout::palette
