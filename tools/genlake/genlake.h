// genlake: writes a deterministic synthetic Instagram data lake (post and
// stats JSON, fake-CDN JPEGs, ground-truth palettes) for tests and benchmarks.
// Thread-safety: the functions are reentrant; two runs must not share a lake.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace scout::genlake {

// Everything that determines a lake. Persisted in <lake>/_genlake.json so that
// Advance() needs only the lake directory.
struct Options {
  std::string lake;
  uint64_t seed = 1;
  int users = 100;
  int days = 30;
  absl::CivilDay today;
  double business_rate = 0.3;
  double malformed_rate = 0.0;
  int image_size = 640;
  bool no_media = false;
  std::string cdn;      // Required unless no_media.
  std::string cdn_url;  // Empty: "file://<absolute cdn>/".
  std::string truth;    // Empty: "<cdn>/truth.json". Must be outside the lake.
  // Written with truth.json (not with no_media): <truth dir>/topics.json,
  // {"<user id>": "<topic slug>"}, each creator's topic (common/base/topics.h).
};

// The ways a malformed post file is broken, in rotation order.
enum class Malform {
  kNone = -1,
  kEmpty = 0,
  kTruncated,
  kWrongType,  // "like_count": "lots"
  kMissingId,
  kBadTimestamp,
  kArray,  // A JSON array wrapping the post instead of an object.
};
inline constexpr int kMalformKinds = 6;
const char* MalformName(Malform kind);

struct Summary {
  bool advanced = false;
  absl::CivilDay today;
  int users = 0;
  int64_t posts_new = 0;
  int64_t posts_rewritten = 0;
  int64_t stats = 0;
  int64_t images = 0;
  int64_t profile_pictures = 0;
  std::array<int64_t, kMalformKinds> malformed{};
  double seconds = 0;
};

// First generation: every post of the `days` days ending `today`, plus each
// creator's newest 25 posts, a stats file per creator per day, and media.
// Running it again with the same options rewrites the same bytes; a lake
// generated with other options is refused.
absl::StatusOr<Summary> Generate(const Options& options, int threads);

// Simulates the next day on a generated lake: new posts, the newest 25 posts
// of every creator rewritten, one stats file per creator, new media only.
absl::StatusOr<Summary> Advance(const std::string& lake, int threads);

// The run report printed by scout-genlake (one line of JSON).
std::string SummaryToJson(const Summary& summary);

}  // namespace scout::genlake
