#include "common/backends/lease.h"

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

class S3VersionedObject final : public VersionedObject {
 public:
  S3VersionedObject(std::shared_ptr<ObjectStore> store, std::string bucket, std::string key)
      : store_(std::move(store)), bucket_(std::move(bucket)), key_(std::move(key)) {}

  absl::StatusOr<VersionedBytes> Get() override {
    // HEAD before GET: if the object changes in between, the version is the
    // older one and a write conditioned on it fails (never the other way).
    SCOUT_ASSIGN_OR_RETURN(S3Object head, store_->Head(bucket_, key_));
    SCOUT_ASSIGN_OR_RETURN(std::string bytes, store_->Get(bucket_, key_));
    return VersionedBytes{std::move(bytes), std::move(head.etag)};
  }

  absl::StatusOr<std::string> Put(absl::string_view bytes,
                                  const PutConditions& conditions) override {
    return store_->Put(bucket_, key_, bytes, conditions);
  }

  std::string Where() const override { return absl::StrCat("s3://", bucket_, "/", key_); }

 private:
  const std::shared_ptr<ObjectStore> store_;
  const std::string bucket_, key_;
};

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
// access to the store: unreadable means "no valid holder", so junk cannot
// block the shard forever.
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

std::unique_ptr<VersionedObject> NewS3VersionedObject(std::shared_ptr<ObjectStore> store,
                                                      std::string bucket, std::string key) {
  return std::make_unique<S3VersionedObject>(std::move(store), std::move(bucket), std::move(key));
}

Lease::Lease(std::unique_ptr<VersionedObject> object, LeaseOptions options)
    : object_(std::move(object)),
      where_(object_->Where()),
      options_(std::move(options)),
      holder_(options_.holder.empty() ? DefaultHolder() : options_.holder),
      own_clock_(options_.clock == nullptr ? NewRealClock() : nullptr),
      clock_(options_.clock == nullptr ? own_clock_.get() : options_.clock) {}

absl::StatusOr<std::unique_ptr<Lease>> Lease::Acquire(std::unique_ptr<VersionedObject> object,
                                                      LeaseOptions options) {
  std::unique_ptr<Lease> lease(new Lease(std::move(object), std::move(options)));
  SCOUT_RETURN_IF_ERROR(lease->Take());
  if (lease->options_.renew_every > absl::ZeroDuration()) {
    Lease* raw = lease.get();
    lease->renewer_ = std::make_unique<Periodic>(lease->options_.renew_every, [raw] {
      std::lock_guard<std::mutex> lock(raw->mu_);
      if (raw->released_ || !raw->lost_.ok()) return;
      if (absl::Status renewed = raw->RenewLocked(raw->clock_->Now()); !renewed.ok()) {
        Log(LogLevel::kWarning, "lease renewal failed",
            {{"lease", raw->where_}, {"error", renewed.ToString()}});
      }
    });
  }
  return lease;
}

Lease::~Lease() {
  if (absl::Status released = Release(); !released.ok()) {
    Log(LogLevel::kWarning, "lease not released",
        {{"lease", where_}, {"error", released.ToString()}});
  }
}

absl::Status Lease::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<VersionedBytes> current = object_->Get();
    const absl::Time now = clock_->Now();
    if (absl::IsNotFound(current.status())) {
      absl::Status created = WriteLocked(now + options_.ttl, /*create=*/true);
      if (ConditionFailed(created)) continue;  // Created by another run just now.
      held_ = created.ok();
      return created;
    }
    if (!current.ok()) return current.status();
    const std::optional<LeaseBody> body = Decode(current->bytes);
    if (!body.has_value()) {
      Log(LogLevel::kWarning, "unreadable lease taken over",
          {{"lease", where_}, {"content", current->bytes.substr(0, 200)}});
    } else if (body->expires > now) {
      return absl::UnavailableError(absl::StrCat(
          "the lease ", where_, " is held by ", body->holder.substr(0, 200), " until ",
          FormatRfc3339(body->expires),
          ": another run of this shard is under way (retry after it ends or the lease expires)"));
    }
    version_ = std::move(current->version);
    absl::Status taken = WriteLocked(now + options_.ttl, /*create=*/false);
    if (ConditionFailed(taken)) continue;  // Another run took it first.
    held_ = taken.ok();
    return taken;
  }
  return absl::UnavailableError(absl::StrCat("the lease ", where_,
                                             " keeps changing hands: another run of this shard is "
                                             "starting (retry later)"));
}

absl::Status Lease::WriteLocked(absl::Time expires, bool create) {
  const std::string body = Encode(holder_, expires);
  PutConditions conditions;
  if (create) {
    conditions.if_none_match_any = true;
  } else {
    // Never unconditional: that would overwrite whoever holds it.
    if (version_.empty()) return absl::InternalError("lease write without a version to replace");
    conditions.if_match = version_;
  }
  absl::StatusOr<std::string> version = object_->Put(body, conditions);
  if (ConditionFailed(version.status())) {
    // A write retried after its first attempt landed fails its own
    // condition: it succeeded if the object is what we wrote.
    absl::StatusOr<VersionedBytes> now = object_->Get();
    if (now.ok() && now->bytes == body) version = std::move(now->version);
  }
  if (!version.ok()) return version.status();
  version_ = *std::move(version);
  expires_ = expires;
  return absl::OkStatus();
}

absl::Status Lease::RenewLocked(absl::Time now) {
  absl::Status written = WriteLocked(now + options_.ttl, /*create=*/false);
  if (written.ok() || !ConditionFailed(written)) return written;
  std::string by = "deleted";
  if (absl::StatusOr<VersionedBytes> current = object_->Get(); current.ok()) {
    if (const std::optional<LeaseBody> body = Decode(current->bytes); body.has_value()) {
      by = absl::StrCat("taken by ", body->holder.substr(0, 200), " until ",
                        FormatRfc3339(body->expires));
    } else {
      by = "overwritten";
    }
  }
  lost_ = absl::AbortedError(absl::StrCat("the lease ", where_, " of ", holder_, " was lost (", by,
                                          "): another run of this shard took over; stopping "
                                          "without writing more"));
  return lost_;
}

absl::Status Lease::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::AbortedError(absl::StrCat("the lease of ", holder_, " was released"));
  const absl::Time now = clock_->Now();
  absl::Status renewed = RenewLocked(now);
  if (renewed.ok() || absl::IsAborted(renewed)) return renewed;
  // The store unreachable for now: writes may go on while half the TTL is left.
  if (expires_ - now > options_.ttl / 2) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("the lease ", where_, " could not be renewed: ", renewed.message()));
}

absl::Status Lease::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::AbortedError(absl::StrCat("the lease of ", holder_, " was released"));
  return RenewLocked(clock_->Now());
}

absl::Status Lease::Release() {
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
    return absl::AbortedError(absl::StrCat("the lease ", where_, " was taken before its release"));
  }
  return written;
}

absl::Status Lease::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_.ok()) return lost_;
  if (released_) return absl::AbortedError(absl::StrCat("the lease of ", holder_, " was released"));
  if (clock_->Now() >= expires_) {
    return absl::UnavailableError(absl::StrCat(
        "the lease ", where_, " expired before it could be renewed: another run may take it"));
  }
  return absl::OkStatus();
}

absl::Time Lease::expires() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expires_;
}

}  // namespace scout
