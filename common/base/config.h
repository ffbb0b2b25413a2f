// Runtime configuration for every binary: SCOUT_* environment variables,
// overridden by the flags defined once in config.cc (--es_url, --pg_dsn,
// --lake, --media, --state (each a directory or s3://bucket/prefix),
// --media_url, --listen, --index_prefix, --metrics_listen, --now).
// Call after absl::ParseCommandLine; not thread-safe before then.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/clock.h"
#include "scout/v1/config.pb.h"

namespace scout {

// Where pictures may be fetched from when --media_source_allow is not given
// (Instagram's and Facebook's CDNs), and how big one may be.
inline constexpr absl::string_view kDefaultMediaSourceAllow = ".cdninstagram.com,.fbcdn.net";
inline constexpr int64_t kDefaultMediaMaxBytes = int64_t{30} << 20;

// LoadConfig checks that an s3:// lake, media or state location parses.
absl::StatusOr<scout::v1::Config> LoadConfig();

// Where an s3:// location points: "s3://bucket/some/prefix" is bucket
// "bucket", prefix "some/prefix/" (empty for the whole bucket).
struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or ending in "/".
};

// True for anything starting "s3:" (so "s3:/x" is a malformed URL, not a
// local path).
bool IsS3Url(absl::string_view location);
// INVALID_ARGUMENT naming what is wrong: no bucket, a bucket name S3
// refuses (3-63 of a-z 0-9 . -), empty, "." or ".." path segments.
absl::StatusOr<S3Location> ParseS3Url(absl::string_view url);

// A fixed clock when --now pinned the time, else the wall clock.
std::unique_ptr<Clock> MakeClock(const scout::v1::Config& config);

}  // namespace scout
