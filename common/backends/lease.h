// Lease: one holder at a time for state that several runs could write (a
// shard's ingest checkpoint, the palette's sample cache), as a lease object
// with the holder's id and an expiry, moved only by conditional writes:
// created with `If-None-Match: *`, renewed, taken over once expired, and
// released with `If-Match: <the version last read or written>`. Whoever
// writes first wins; the other's write fails its condition and it learns it
// lost. See docs/s3.md ("The lease: two runs of a shard never interleave").
//
// The object lives behind VersionedObject, the one seam (read it with its
// version, write it on a condition): over S3 here (NewS3VersionedObject),
// over the palette's CacheStore (workers/palette/cache_store.h), which has
// a local-folder implementation for unit tests.
//
// Expiry is wall-clock time written by the holder and judged by the next
// taker's clock: clocks are assumed to agree within a few seconds (NTP), far
// below the TTL. A holder renews the lease right before each write it
// guards (Check: one conditional write), so a holder whose lease was taken
// learns it before writing, and each write starts with a whole TTL ahead; a
// renewal thread keeps the lease while long work runs between writes.
//
// Lease is thread-safe (a renewal thread and the owner may call at once);
// it calls its VersionedObject under its own mutex, one call at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/s3.h"
#include "common/base/clock.h"
#include "common/base/periodic.h"

namespace scout {

struct VersionedBytes {
  std::string bytes;
  std::string version;  // The ETag on S3: what PutConditions::if_match compares.
};

// One object, read with its version and written on a condition.
class VersionedObject {
 public:
  virtual ~VersionedObject() = default;
  // NOT_FOUND when missing. The version is never newer than the bytes (a
  // write conditioned on it fails if the object changed since they were
  // read).
  virtual absl::StatusOr<VersionedBytes> Get() = 0;
  // Returns the new version. A condition not met is FAILED_PRECONDITION
  // (ALREADY_EXISTS or NOT_FOUND in some races): any error means "not
  // written by this call" (though a retried write may have landed).
  virtual absl::StatusOr<std::string> Put(absl::string_view bytes,
                                          const PutConditions& conditions) = 0;
  // "s3://bucket/key" or a path, for messages.
  virtual std::string Where() const = 0;
};

// s3://bucket/key through `store`. Get is a HEAD then a GET (ObjectStore's
// GET does not return the ETag): if the object changes in between, the
// version is the older one, so a lease is never taken on the strength of a
// version newer than the bytes judged.
std::unique_ptr<VersionedObject> NewS3VersionedObject(std::shared_ptr<ObjectStore> store,
                                                      std::string bucket, std::string key);

struct LeaseOptions {
  absl::Duration ttl = absl::Minutes(2);
  // Renews from a thread of its own this often while held (0: only Check
  // and Renew renew). Keeps the lease while a long batch runs between checks.
  absl::Duration renew_every = absl::Seconds(40);
  std::string holder;            // Empty: "<host>/<pid>/<random>".
  const Clock* clock = nullptr;  // Null: the wall clock (not --now's).
};

class Lease {
 public:
  // Takes the lease object: creates it, or takes over one that expired,
  // was released or is unreadable. UNAVAILABLE naming the object, the
  // holder and the expiry when another holder's lease is live (retry after
  // it expires); other errors of the store as they are.
  static absl::StatusOr<std::unique_ptr<Lease>> Acquire(std::unique_ptr<VersionedObject> object,
                                                        LeaseOptions options);
  // Releases it (if still held). Only an orderly exit runs this; a run that
  // died leaves its lease to expire.
  ~Lease();

  // Renews the lease: OK while held. ABORTED once another holder took it
  // (stop writing; never OK again); UNAVAILABLE when the renewal could not
  // reach the store and less than half the TTL is left (more: OK, writes go
  // on).
  absl::Status Check();
  // Extends the expiry to now + TTL. ABORTED when the lease was taken.
  absl::Status Renew();
  // Marks the lease expired (the next run takes it at once, without
  // waiting); ABORTED when it was taken meanwhile. Later calls do nothing.
  absl::Status Release();
  // What is known without a request, for "go on working?" between writes
  // (a write itself is guarded by Check): ABORTED once lost or released,
  // UNAVAILABLE once past the expiry without a renewal, else OK.
  absl::Status status() const;

  const std::string& holder() const { return holder_; }
  absl::Time expires() const;

 private:
  Lease(std::unique_ptr<VersionedObject> object, LeaseOptions options);
  absl::Status Take();
  // One conditional write of (holder, expires) over the version `version_`.
  absl::Status WriteLocked(absl::Time expires, bool create);
  absl::Status RenewLocked(absl::Time now);

  const std::unique_ptr<VersionedObject> object_;
  const std::string where_;
  const LeaseOptions options_;
  const std::string holder_;
  std::unique_ptr<Clock> own_clock_;
  const Clock* clock_;

  mutable std::mutex mu_;
  std::string version_;  // Of the lease object as last written by us.
  absl::Time expires_;
  absl::Status lost_;  // Set once another holder took the lease.
  bool held_ = false;  // Taken (Acquire succeeded).
  bool released_ = false;
  std::unique_ptr<Periodic> renewer_;  // Last: stopped first.
};

}  // namespace scout
