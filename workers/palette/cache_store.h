// CacheStore: where scout-palette keeps a shard's sample cache between runs
// when the local disk does not outlive the run (SCOUT_STATE on S3, a pod
// that may come back on another machine): a few named objects under one
// root, each written whole, with create-once and compare-and-swap writes
// (S3's If-None-Match / If-Match) for the lease. One implementation over S3
// (common/backends/s3.h), one over a local directory (unit tests).
//
// The shard's lease is the common one (common/backends/lease.h) over one
// object of the store (CacheStoreObject), so the local directory serves the
// unit tests of the lease as well as of the cache.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/backends/lease.h"
#include "common/backends/s3.h"
#include "common/base/config.h"

namespace scout::palette {

struct CacheObject {
  std::string name;  // Relative to the store's root.
  int64_t size = 0;
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  // The objects whose names start with `prefix`, sorted by name.
  virtual absl::StatusOr<std::vector<CacheObject>> List(absl::string_view prefix) = 0;
  // NOT_FOUND when missing. The version is never newer than the bytes.
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

// The object `name` of `store` (not owned; outlives the result), for a Lease.
std::unique_ptr<VersionedObject> CacheStoreObject(CacheStore* store, std::string name);

}  // namespace scout::palette
