// The Elasticsearch side of posts, shared by scout-ingest (writes) and
// scout-server (reads): index names, the index template and the mapping
// between a Post and its document. Pure functions, thread-safe.
//
// Posts live in monthly indices `<prefix>-YYYY.MM` (by post time) read
// through the alias `<prefix>`; dropping a month past the 180-day window is
// one index deletion. A post's time never changes, so its index and id are
// deterministic and a rerun overwrites rather than duplicates.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "scout/v1/types.pb.h"

namespace scout {

// Posts older than this are never indexed nor returned.
inline constexpr absl::Duration kSearchWindow = absl::Hours(24 * 180);

std::string MonthlyIndex(absl::string_view prefix, absl::Time post_time);
// The month an index of `prefix` covers, or nullopt for other indices.
std::optional<absl::Time> MonthOfIndex(absl::string_view prefix, absl::string_view index);
// Whether every post `index` can hold is older than the window at `now`.
bool IndexIsExpired(absl::string_view prefix, absl::string_view index, absl::Time now);

// The composable index template: settings, alias and explicit mappings.
nlohmann::json PostIndexTemplate(absl::string_view prefix);

// The indexed document: the Post as proto JSON (proto field names) plus the
// folded search fields `text_folded`, `hashtag_keys`, `mention_keys` and the
// lake key it came from.
// Serialized directly (no JSON DOM): this runs once per indexed post.
std::string PostToDocument(const scout::v1::Post& post, absl::string_view lake_key);
absl::StatusOr<scout::v1::Post> PostFromDocument(const nlohmann::json& source);

}  // namespace scout
