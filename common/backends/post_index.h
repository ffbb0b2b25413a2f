// The Elasticsearch side of posts, shared by scout-ingest (writes) and
// scout-server, scout-aggregate and scout-palette (reads): the one owner of
// the post document. Index names, the index template and its setup, the
// document's field names, the mapping between a Post and its document and
// the query fragments readers filter with. Everything but EnsureIndices is a
// pure function; all are thread-safe.
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

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/elastic.h"
#include "common/base/shard.h"
#include "scout/v1/types.pb.h"

namespace scout {

// The indexed fields of a post document. The first ones are the Post's own
// fields, written under their proto names as protobuf's JSON printer would
// (post_document_test holds the names equal); the rest are ours.
namespace post_field {
inline constexpr char kId[] = "id";
inline constexpr char kOwnerId[] = "owner_id";
inline constexpr char kUsername[] = "username";
inline constexpr char kTimestamp[] = "timestamp";
inline constexpr char kEngagement[] = "engagement";
inline constexpr char kLikeCount[] = "like_count";
inline constexpr char kCommentsCount[] = "comments_count";
inline constexpr char kFollowersAtPost[] = "followers_at_post";
inline constexpr char kMedia[] = "media";  // _source only: the pictures.
// Ours: not Post fields (media_type is, but is written in our spelling).
inline constexpr char kMediaType[] = "media_type";    // MediaTypeKeyword.
inline constexpr char kTextFolded[] = "text_folded";  // Indexed, not in _source.
inline constexpr char kHashtagKeys[] = "hashtag_keys";
inline constexpr char kMentionKeys[] = "mention_keys";
inline constexpr char kLakeKey[] = "lake_key";
inline constexpr char kShardBucket[] = "shard_bucket";  // ShardBucket(owner_id).
}  // namespace post_field

// The stored spelling of a media type, both ways. Explicit so that renaming
// the proto enum never silently changes what is indexed or matched. (The
// spellings are those protobuf printed before this table existed, so older
// documents still match.) "" for MEDIA_TYPE_UNSPECIFIED, which is not stored.
absl::string_view MediaTypeKeyword(scout::v1::MediaType type);
std::optional<scout::v1::MediaType> MediaTypeFromKeyword(absl::string_view keyword);

// Posts older than this are never indexed nor returned.
inline constexpr absl::Duration kSearchWindow = absl::Hours(24 * 180);

std::string MonthlyIndex(absl::string_view prefix, absl::Time post_time);
// The month an index of `prefix` covers, or nullopt for other indices.
std::optional<absl::Time> MonthOfIndex(absl::string_view prefix, absl::string_view index);
// Whether every post `index` can hold is older than the window at `now`.
bool IndexIsExpired(absl::string_view prefix, absl::string_view index, absl::Time now);

// The composable index template: settings, alias and explicit mappings.
nlohmann::json PostIndexTemplate(absl::string_view prefix);

// The quarantine index of `prefix`: one document per unusable lake file.
std::string QuarantineIndex(absl::string_view prefix);
std::string QuarantineDocument(absl::string_view key, absl::string_view reason, int64_t size,
                               uint64_t content_hash, absl::Time quarantined_at);

// Puts the index template, teaches existing monthly indices the fields added
// since they were created, and creates the quarantine index if missing.
// Idempotent; scout-ingest runs it before every run.
absl::Status EnsureIndices(Elastic& elastic, absl::string_view prefix);

// The indexed document: the Post as proto JSON (proto field names) except
// `media_type` (MediaTypeKeyword), plus the folded search fields
// `text_folded`, `hashtag_keys`, `mention_keys`, the owner's `shard_bucket`
// and the lake key it came from.
// Written directly (no printer, no JSON DOM): this runs once per indexed
// post. The bytes are those protobuf 3.21's JSON printer gave (its string
// escaping and invalid-UTF-8 dropping included), except that a timestamp
// outside years 1..9999 is "InvalidTime" where the printer failed, and
// invalid UTF-8 in `lake_key` becomes U+FFFD where nlohmann threw.
std::string PostToDocument(const scout::v1::Post& post, absl::string_view lake_key);
// INTERNAL when `source` is not a post document.
absl::StatusOr<scout::v1::Post> PostFromDocument(const nlohmann::json& source);

// --- Query fragments (filters of a bool query) ---

// from <= timestamp, and timestamp <= until (or < until when !inclusive).
nlohmann::json TimestampRange(absl::Time from, std::optional<absl::Time> until,
                              bool until_inclusive = true);
// Posts of the shard's creators only, so each shard reads its own posts
// rather than everyone's. nullopt for the whole set (no filter needed).
//
// Posts indexed before `shard_bucket` existed lack it; they still match (so
// no post is lost) and readers must drop other shards' ones themselves with
// Shard::Owns. Reindexing (rerun scout-ingest with fresh checkpoints) gives
// every post its bucket and makes the filter exact.
std::optional<nlohmann::json> ShardFilter(const Shard& shard);

}  // namespace scout
