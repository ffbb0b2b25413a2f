// S3Lease: one holder at a time for something kept on S3 (a worker's
// checkpoint), as a lease object with the holder's id and an expiry, moved
// only by S3 conditional writes: created with `If-None-Match: *`, renewed,
// taken over once expired, and released with `If-Match: <the ETag last
// read or written>`. Whoever writes first wins; the other's write fails
// with 412 and it learns it lost. See docs/s3.md ("Worker state on S3").
//
// Expiry is wall-clock time written by the holder and judged by the next
// taker's clock: clocks are assumed to agree within a few seconds (NTP), far
// below the TTL. A holder renews the lease right before each write it
// guards (Check: one conditional PUT), so a holder whose lease was taken
// learns it before writing, and each write starts with a whole TTL ahead; a
// renewal thread keeps the lease while long work runs between writes.
//
// Thread-safe (a renewal thread and the owner may call at once).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/s3.h"
#include "common/base/clock.h"
#include "common/base/periodic.h"

namespace scout {

struct S3LeaseOptions {
  absl::Duration ttl = absl::Minutes(2);
  // Renews from a thread of its own this often while held (0: only Check
  // renews). Keeps the lease while a long batch runs between checks.
  absl::Duration renew_every = absl::Seconds(40);
  std::string holder;            // Empty: "<host>/<pid>/<random>".
  const Clock* clock = nullptr;  // Null: the wall clock (not --now's).
};

class S3Lease {
 public:
  // Takes the lease object s3://bucket/key: creates it, or takes over one
  // that expired or was released. UNAVAILABLE naming the holder and expiry
  // when another holder's lease is live (retry after it expires).
  static absl::StatusOr<std::unique_ptr<S3Lease>> Acquire(std::shared_ptr<ObjectStore> store,
                                                          std::string bucket, std::string key,
                                                          S3LeaseOptions options);
  // Releases it (if still held).
  ~S3Lease();

  // Renews the lease: OK while held. ABORTED once another holder took it
  // (stop writing; never OK again); UNAVAILABLE when the renewal could not
  // reach S3 and less than half the TTL is left (more: OK, writes go on).
  absl::Status Check();
  // Extends the expiry to now + TTL. ABORTED when the lease was taken.
  absl::Status Renew();
  // Marks the lease expired (the next run takes it at once, without
  // waiting); ABORTED when it was taken meanwhile. Later calls do nothing.
  absl::Status Release();

  const std::string& holder() const { return holder_; }
  absl::Time expires() const;

 private:
  S3Lease(std::shared_ptr<ObjectStore> store, std::string bucket, std::string key,
          S3LeaseOptions options);
  absl::Status Take();
  // One conditional PUT of (holder, expires) over the version `etag_`.
  absl::Status WriteLocked(absl::Time expires, bool create);
  absl::Status RenewLocked(absl::Time now);

  const std::shared_ptr<ObjectStore> store_;
  const std::string bucket_, key_;
  const S3LeaseOptions options_;
  const std::string holder_;
  std::unique_ptr<Clock> own_clock_;
  const Clock* clock_;

  mutable std::mutex mu_;
  std::string etag_;  // Of the lease object as last written by us.
  absl::Time expires_;
  absl::Status lost_;  // Set once another holder took the lease.
  bool held_ = false;  // Taken (Acquire succeeded).
  bool released_ = false;
  std::unique_ptr<Periodic> renewer_;  // Last: stopped first.
};

}  // namespace scout
