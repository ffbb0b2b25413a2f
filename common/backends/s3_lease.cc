#include "common/backends/s3_lease.h"

#include <unistd.h>

#include <optional>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/json_fields.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/base/time.h"

namespace scout {
namespace {

std::string DefaultHolder() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "unknown-host", "/", getpid(), "/",
                      absl::Hex(std::random_device{}(), absl::kZeroPad8));
}

struct LeaseBody {
  std::string holder;
  absl::Time expires = absl::InfinitePast();
};

std::string Encode(absl::string_view holder, absl::Time expires) {
  return nlohmann::json{{"holder", holder}, {"expires", FormatRfc3339(expires)}}.dump();
}

// The object is ours to judge but may have been written by anything with
// access to the bucket: unreadable means "no valid holder".
std::optional<LeaseBody> Decode(absl::string_view text) {
  absl::StatusOr<nlohmann::json> json = ParseObject(text);
  if (!json.ok()) return std::nullopt;
  absl::StatusOr<std::string> holder = StringField(*json, "holder");
  absl::StatusOr<std::string> expires = StringField(*json, "expires");
  if (!holder.ok() || !expires.ok()) return std::nullopt;
  absl::StatusOr<absl::Time> when = ParseTime(*expires);
  if (!when.ok()) return std::nullopt;
  return LeaseBody{*std::move(holder), *when};
}

// 412 (the version changed or the object exists), 404 (If-Match on a
// deleted object) or 409 (AWS: a conditional write raced another): the
// condition did not hold.
bool ConditionFailed(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) || absl::IsNotFound(status) ||
         absl::IsAlreadyExists(status);
}

}  // namespace

S3Lease::S3Lease(std::shared_ptr<ObjectStore> store, std::string bucket, std::string key,
                 S3LeaseOptions options)
    : store_(std::move(store)),
      bucket_(std::move(bucket)),
      key_(std::move(key)),
      options_(std::move(options)),
      holder_(options_.holder.empty() ? DefaultHolder() : options_.holder),
      own_clock_(options_.clock == nullptr ? NewRealClock() : nullptr),
      clock_(options_.clock == nullptr ? own_clock_.get() : options_.clock) {}

absl::StatusOr<std::unique_ptr<S3Lease>> S3Lease::Acquire(std::shared_ptr<ObjectStore> store,
                                                          std::string bucket, std::string key,
                                                          S3LeaseOptions options) {
  std::unique_ptr<S3Lease> lease(
      new S3Lease(std::move(store), std::move(bucket), std::move(key), std::move(options)));
  SCOUT_RETURN_IF_ERROR(lease->Take());
  if (lease->options_.renew_every > absl::ZeroDuration()) {
    S3Lease* raw = lease.get();
    lease->renewer_ = std::make_unique<Periodic>(lease->options_.renew_every, [raw] {
      std::lock_guard<std::mutex> lock(raw->mu_);
      if (raw->released_ || !raw->lost_.ok()) return;
      if (absl::Status renewed = raw->RenewLocked(raw->clock_->Now()); !renewed.ok()) {
        Log(LogLevel::kWarning, "lease renewal failed",
            {{"lease", absl::StrCat("s3://", raw->bucket_, "/", raw->key_)},
             {"error", renewed.ToString()}});
      }
    });
  }
  return lease;
}

S3Lease::~S3Lease() {
  if (absl::Status released = Release(); !released.ok()) {
    Log(LogLevel::kWarning, "lease not released",
        {{"lease", absl::StrCat("s3://", bucket_, "/", key_)}, {"error", released.ToString()}});
  }
}

absl::Status S3Lease::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string where = absl::StrCat("s3://", bucket_, "/", key_);
  for (int attempt = 0; attempt < 3; ++attempt) {
    // HEAD before GET: if the lease changes in between, the If-Match below
    // carries the older ETag and fails, so a live lease is never taken on
    // the strength of an expired version.
    absl::StatusOr<S3Object> head = store_->Head(bucket_, key_);
    const absl::Time now = clock_->Now();
    if (absl::IsNotFound(head.status())) {
      absl::Status created = WriteLocked(now + options_.ttl, /*create=*/true);
      if (ConditionFailed(created)) continue;  // Created by another run just now.
      held_ = created.ok();
      return created;
    }
    if (!head.ok()) return head.status();
    absl::StatusOr<std::string> text = store_->Get(bucket_, key_);
    if (absl::IsNotFound(text.status())) continue;
    if (!text.ok()) return text.status();
    const std::optional<LeaseBody> body = Decode(*text);
    if (!body.has_value()) {
      Log(LogLevel::kWarning, "unreadable lease taken over",
          {{"lease", where}, {"content", text->substr(0, 200)}});
    } else if (body->expires > now) {
      return absl::UnavailableError(absl::StrCat(
          "the lease ", where, " is held by ", body->holder.substr(0, 200), " until ",
          FormatRfc3339(body->expires),
          ": another run of this shard is under way (retry after it ends or the lease expires)"));
    }
    etag_ = head->etag;
    absl::Status taken = WriteLocked(now + options_.ttl, /*create=*/false);
    if (ConditionFailed(taken)) continue;  // Another run took it first.
    held_ = taken.ok();
    return taken;
  }
  return absl::UnavailableError(absl::StrCat("the lease ", where,
                                             " keeps changing hands: another run of this shard is "
                                             "starting (retry later)"));
}

absl::Status S3Lease::WriteLocked(absl::Time expires, bool create) {
  const std::string body = Encode(holder_, expires);
  PutConditions conditions;
  if (create) {
    conditions.if_none_match_any = true;
  } else {
    // Never unconditional: that would overwrite whoever holds it.
    if (etag_.empty()) return absl::InternalError("lease write without a version to replace");
    conditions.if_match = etag_;
  }
  absl::StatusOr<std::string> etag = store_->Put(bucket_, key_, body, conditions);
  if (ConditionFailed(etag.status())) {
    // A PUT retried after its first attempt landed fails its own
    // condition: it succeeded if the object is what we wrote.
    absl::StatusOr<S3Object> head = store_->Head(bucket_, key_);
    absl::StatusOr<std::string> now = store_->Get(bucket_, key_);
    if (head.ok() && now.ok() && *now == body) etag = head->etag;
  }
  if (!etag.ok()) return etag.status();
  etag_ = *std::move(etag);
  expires_ = expires;
  return absl::OkStatus();
}

absl::Status S3Lease::RenewLocked(absl::Time now) {
  absl::Status written = WriteLocked(now + options_.ttl, /*create=*/false);
  if (written.ok() || !ConditionFailed(written)) return written;
  std::string by = "deleted";
  if (absl::StatusOr<std::string> text = store_->Get(bucket_, key_); text.ok()) {
    if (const std::optional<LeaseBody> body = Decode(*text); body.has_value()) {
      by = absl::StrCat("taken by ", body->holder.substr(0, 200), " until ",
                        FormatRfc3339(body->expires));
    } else {
      by = "overwritten";
    }
  }
  lost_ = absl::AbortedError(absl::StrCat("the lease s3://", bucket_, "/", key_, " of ", holder_,
                                          " was lost (", by,
                                          "): another run of this shard took over; stopping "
                                          "without writing more"));
  return lost_;
}

absl::Status S3Lease::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::AbortedError(absl::StrCat("the lease of ", holder_, " was released"));
  const absl::Time now = clock_->Now();
  absl::Status renewed = RenewLocked(now);
  if (renewed.ok() || absl::IsAborted(renewed)) return renewed;
  // S3 unreachable for now: writes may go on while half the TTL is left.
  if (expires_ - now > options_.ttl / 2) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("the lease s3://", bucket_, "/", key_,
                                             " could not be renewed: ", renewed.message()));
}

absl::Status S3Lease::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::AbortedError(absl::StrCat("the lease of ", holder_, " was released"));
  return RenewLocked(clock_->Now());
}

absl::Status S3Lease::Release() {
  std::unique_ptr<Periodic> renewer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    renewer = std::move(renewer_);
  }
  renewer.reset();  // Joins the thread, which takes mu_: not under it.
  std::lock_guard<std::mutex> lock(mu_);
  if (!held_ || released_ || !lost_.ok()) return absl::OkStatus();
  released_ = true;
  absl::Status written = WriteLocked(absl::UnixEpoch(), /*create=*/false);
  if (ConditionFailed(written)) {
    return absl::AbortedError(
        absl::StrCat("the lease s3://", bucket_, "/", key_, " was taken before its release"));
  }
  return written;
}

absl::Time S3Lease::expires() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expires_;
}

}  // namespace scout
