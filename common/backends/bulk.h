// Bulk writes to Elasticsearch with per-item handling: the one way Scout
// sends _bulk requests (posts and quarantine records from scout-ingest,
// creator documents from scout-aggregate and scout-palette). The actions are
// sent in requests of bounded size; items Elasticsearch rejects for load
// (429, 5xx) are retried alone with exponential backoff, as is a whole
// request that could not be delivered; every other answer is final and goes
// to the caller's handler, which says whether the item counts as refused or
// is replaced by another action (scout-ingest quarantines a post that
// Elasticsearch refuses for its content). Thread-compatible: one WriteBulk
// call runs on its caller's thread; several may run at once on one Elastic.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"

namespace scout {

// One action of a _bulk body: its header line and, for index / create /
// update, its source line, each ending in "\n" (BulkHeader builds the header).
struct BulkAction {
  std::string ndjson;
  size_t tag = 0;  // The caller's: what the action belongs to.
};

// `{"<op>": {"_index": index, "_id": id}}\n`.
std::string BulkHeader(absl::string_view op, absl::string_view index, absl::string_view id);

// A final answer to one action (any status but 429 / 5xx).
struct BulkItem {
  const BulkAction* action = nullptr;
  int status = 0;
  const nlohmann::json* result = nullptr;  // The item's answer object; never null.

  bool ok() const { return status >= 200 && status < 300; }
  std::string id() const;
  std::string error_type() const;    // "" without an error.
  std::string error_reason() const;  // "<type>: <reason>", or "" without an error.
};

// What the caller makes of a final answer.
struct BulkVerdict {
  bool refused = false;  // Counted in BulkResult::refused, with the reason.
  // Sent in the item's place with the next retry (the item itself is done).
  std::optional<BulkAction> instead;
};
// Returning an error stops the write with that error. The default handler
// (null) takes 2xx as accepted and anything else as refused.
using BulkItemHandler = std::function<absl::StatusOr<BulkVerdict>(const BulkItem& item)>;

struct BulkOptions {
  // Only what the per-item handling reads comes back: a large bulk's full
  // answer costs more to parse than to build the request.
  std::string path =
      "_bulk?filter_path=errors,items.*._index,items.*._id,items.*.status,items.*.error";
  size_t max_actions = 1000;   // Per request; 0: no limit.
  size_t max_bytes = 8 << 20;  // Per request (one larger action goes alone); 0: no limit.
  int attempts = 6;            // Per request, for 429 / 5xx and undelivered requests.
  absl::Duration backoff = absl::Milliseconds(250);  // Doubled each retry.
  absl::Duration timeout = absl::Seconds(120);       // Per request.
};

inline constexpr size_t kMaxBulkRefusals = 100;

struct BulkResult {
  int64_t accepted = 0;               // 2xx answers.
  int64_t refused = 0;                // Final non-2xx answers the handler counted as refused.
  int64_t replaced = 0;               // Items the handler replaced with another action.
  std::vector<std::string> refusals;  // "id: type: reason", the first kMaxBulkRefusals.
  int64_t requests = 0;               // _bulk requests sent, retries included.
};

// Sends `actions` in order. UNAVAILABLE when items were still rejected for
// load (or the request undelivered) after `attempts`; another error of the
// _bulk call or the handler's is returned as it is. On error, the actions of
// the requests before the failing one have been answered (and handled).
absl::StatusOr<BulkResult> WriteBulk(Elastic& elastic, std::vector<BulkAction> actions,
                                     const BulkOptions& options,
                                     const BulkItemHandler& handler = nullptr);

}  // namespace scout
