// Object-store event notifications for scout-ingest --follow on an S3 lake:
// the parsers of the two formats (pure functions, thread-safe) and the HTTP
// receiver that offers what they yield to the follow loop's ChangeQueue (a
// ChangeSource, civetweb; its handlers run on civetweb's threads).
//  - AWS: S3 event notification records ({"Records":[...]}, eventName
//    ObjectCreated:*, s3.object.key URL-encoded), posted raw or inside an
//    SNS HTTP(S) envelope (Type Notification, Message = the records JSON;
//    SubscriptionConfirmation is logged with its SubscribeURL, not fetched).
//  - SeaweedFS: the filer's webhook ({"key","event_type","message":
//    EventNotification as Go's encoding/json writes it}), keys under
//    /buckets/<bucket>/.
// Events are hints: a forged one can only make the loop read a key under the
// lake's prefix (its content is what the lake holds); the sweep stays the
// truth. Bodies are hostile input: a size cap, and 400 naming what is wrong.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/config.h"
#include "workers/ingest/changes.h"

namespace scout::ingest {

struct ParsedEvents {
  std::vector<Change> changes;  // Created or rewritten keys inside the lake (lake keys).
  int64_t ignored = 0;          // Records for other buckets, prefixes or event kinds.
  std::string subscribe_url;    // SNS SubscriptionConfirmation: to confirm by hand.
};

// AWS S3 event records, raw or in an SNS envelope; also accepts (and
// ignores) S3's s3:TestEvent. INVALID_ARGUMENT naming the field when the
// body is not one of these.
absl::StatusOr<ParsedEvents> ParseAwsS3Events(absl::string_view body, const S3Location& lake);

// One SeaweedFS filer webhook message. Creates, updates and renames yield
// the new path; deletes and folders are ignored. `buckets_dir`: the filer's
// folder of S3 buckets.
absl::StatusOr<ParsedEvents> ParseSeaweedEvent(absl::string_view body, const S3Location& lake,
                                               absl::string_view buckets_dir = "/buckets");

struct EventReceiverOptions {
  std::string listen = "127.0.0.1:0";  // civetweb syntax; port 0 picks one.
  S3Location lake;
  // When set, requests must carry "Authorization: Bearer <token>" (the
  // SeaweedFS webhook's bearer_token) or HTTP basic auth with it as the
  // password (an SNS endpoint URL https://scout:<token>@host/...).
  std::string token;
  size_t max_body_bytes = 1 << 20;
};

// POST /events/s3 (AWS records, SNS) and POST /events/seaweedfs. Answers
// 200 once the changes are queued, 400 for a body it cannot read, 401
// without the token, 413 over the size cap, 503 when the queue is full (the
// senders retry; the sweep catches anything dropped).
class EventReceiver : public ChangeSource {
 public:
  virtual int port() const = 0;
};

std::unique_ptr<EventReceiver> NewEventReceiver(EventReceiverOptions options);

}  // namespace scout::ingest
