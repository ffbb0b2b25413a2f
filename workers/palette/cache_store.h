// CacheStore: where scout-palette keeps a shard's sample cache between runs
// when the local disk does not outlive the run (SCOUT_STATE on S3, a pod
// that may come back on another machine): a few named objects under one
// root, each written whole, with create-once and compare-and-swap writes
// (S3's If-None-Match / If-Match) for the lease. One implementation over S3
// (common/backends/s3.h), one over a local directory (unit tests).
//
// CacheLease: the lease object that keeps two runs of one shard from
// interleaving: taken by a conditional write, renewed on its own thread,
// released at the end of the run; a run that died leaves it to expire.
//
// Both are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/s3.h"
#include "common/base/config.h"
#include "common/base/periodic.h"

namespace scout::palette {

struct CacheObject {
  std::string name;  // Relative to the store's root.
  int64_t size = 0;
};

struct VersionedBytes {
  std::string bytes;
  std::string version;  // The ETag on S3: what PutConditions::if_match compares.
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  // The objects whose names start with `prefix`, sorted by name.
  virtual absl::StatusOr<std::vector<CacheObject>> List(absl::string_view prefix) = 0;
  // NOT_FOUND when missing.
  virtual absl::StatusOr<VersionedBytes> Get(absl::string_view name) = 0;
  // Returns the new version. A condition not met is FAILED_PRECONDITION
  // (ALREADY_EXISTS or NOT_FOUND in some races): any error means "not
  // written by this call".
  virtual absl::StatusOr<std::string> Put(absl::string_view name, absl::string_view bytes,
                                          const PutConditions& condition) = 0;
  // A missing object is fine.
  virtual absl::Status Delete(absl::string_view name) = 0;
  // Where the store is, for messages: "s3://bucket/prefix/" or a directory.
  virtual std::string Where() const = 0;
};

// Names are keys under `root` (its prefix "" or ending in "/").
std::unique_ptr<CacheStore> NewS3CacheStore(std::shared_ptr<ObjectStore> store, S3Location root);
// Names are paths under `dir` ("/" makes folders). Versions are content
// hashes; conditions are checked under an flock of `<dir>/.lock`.
std::unique_ptr<CacheStore> NewLocalCacheStore(std::string dir);

// The store of the sample caches for SCOUT_STATE: `<prefix>palette-cache/`
// of its bucket when it is s3:// (through `s3`), null for a local
// directory (the cache is then a local file, sample_cache.h).
absl::StatusOr<std::unique_ptr<CacheStore>> CacheStoreForState(absl::string_view state,
                                                               std::shared_ptr<ObjectStore> s3);

struct LeaseOptions {
  absl::Duration duration = absl::Minutes(10);
  absl::Duration renew_every = absl::Minutes(2);  // Zero: no renewal thread.
  std::string owner;                              // For messages; default: host name and pid.
};

// The lease object holds JSON {"owner": ..., "expires_ms": unix ms} in the
// holder's wall clock (clocks of machines a few seconds apart do not
// matter at minutes of lease).
class CacheLease {
 public:
  // Takes `name`: creates it if missing (If-None-Match), or replaces an
  // expired, released or unreadable one (If-Match its version).
  // FAILED_PRECONDITION naming the holder and expiry when another run holds
  // it or wins the race for it; UNAVAILABLE when the store cannot be reached.
  static absl::StatusOr<std::unique_ptr<CacheLease>> Acquire(CacheStore* store, std::string name,
                                                             LeaseOptions options);
  // Stops renewing; does not release (a crash must not either): the lease
  // then expires.
  ~CacheLease();

  // Extends the lease (If-Match the version last written). Lost (someone
  // else replaced it, or it expired before a renewal got through) is
  // FAILED_PRECONDITION and stays so.
  absl::Status Renew();
  // OK while held: the last renewal got through and the lease has not
  // expired since.
  absl::Status Check() const;
  // Marks it released (If-Match): the next run takes it at once.
  absl::Status Release();

 private:
  CacheLease(CacheStore* store, std::string name, LeaseOptions options)
      : store_(store), name_(std::move(name)), options_(std::move(options)) {}
  std::string Body(absl::Time expires) const;

  CacheStore* const store_;
  const std::string name_;
  const LeaseOptions options_;
  mutable std::mutex mu_;
  std::string version_;                // Guarded by mu_.
  absl::Time expires_;                 // Guarded by mu_.
  absl::Status lost_;                  // Guarded by mu_; sticky.
  bool released_ = false;              // Guarded by mu_.
  std::unique_ptr<Periodic> renewal_;  // Last: stopped first.
};

}  // namespace scout::palette
