#include "common/base/config.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/base/time.h"

ABSL_FLAG(std::string, es_url, "", "Elasticsearch URL (env SCOUT_ES_URL)");
ABSL_FLAG(std::string, pg_dsn, "", "warehouse libpq connection string (env SCOUT_PG_DSN)");
ABSL_FLAG(std::string, lake, "",
          "data lake root: a directory or s3://bucket/prefix (env SCOUT_LAKE)");
ABSL_FLAG(std::string, media, "",
          "media store root: a directory or s3://bucket/prefix (env SCOUT_MEDIA)");
ABSL_FLAG(std::string, media_url, "",
          "URL prefix of the media store (env SCOUT_MEDIA_URL; default file://<media>/)");
ABSL_FLAG(std::string, listen, "", "server address (env SCOUT_LISTEN; default 127.0.0.1:50051)");
ABSL_FLAG(std::string, state, "",
          "worker state: a directory or s3://bucket/prefix (env SCOUT_STATE)");
ABSL_FLAG(
    std::string, index_prefix, "",
    "Elasticsearch index prefix and read alias (env SCOUT_INDEX_PREFIX; default scout-posts)");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9464 "
          "(env SCOUT_METRICS_LISTEN; default none)");
ABSL_FLAG(std::string, media_source_allow, "",
          "where pictures may be fetched from, comma-separated: .domain.suffix (public "
          "addresses only), host[:port], http(s)://host/prefix/, file:///dir/ "
          "(env SCOUT_MEDIA_SOURCE_ALLOW; default .cdninstagram.com,.fbcdn.net)");
ABSL_FLAG(std::string, media_max_bytes, "",
          "largest picture fetched, in bytes (env SCOUT_MEDIA_MAX_BYTES; default 31457280)");
ABSL_FLAG(std::string, now, "",
          "pin the current time, e.g. 2026-11-22T00:00:00Z (env SCOUT_NOW), for reproducible runs");

namespace scout {
namespace {

std::string Setting(const absl::Flag<std::string>& flag, const char* env,
                    std::string fallback = "") {
  std::string value = absl::GetFlag(flag);
  if (!value.empty()) return value;
  if (const char* from_env = std::getenv(env); from_env != nullptr && *from_env != '\0') {
    return from_env;
  }
  return fallback;
}

}  // namespace

absl::StatusOr<scout::v1::Config> LoadConfig() {
  scout::v1::Config config;
  config.set_es_url(Setting(FLAGS_es_url, "SCOUT_ES_URL"));
  config.set_pg_dsn(Setting(FLAGS_pg_dsn, "SCOUT_PG_DSN"));
  config.set_lake(Setting(FLAGS_lake, "SCOUT_LAKE"));
  config.set_media(Setting(FLAGS_media, "SCOUT_MEDIA"));
  config.set_media_base_url(Setting(FLAGS_media_url, "SCOUT_MEDIA_URL"));
  config.set_state(Setting(FLAGS_state, "SCOUT_STATE"));
  for (auto [location, name] : {std::pair{&config.lake(), "--lake / SCOUT_LAKE"},
                                std::pair{&config.media(), "--media / SCOUT_MEDIA"},
                                std::pair{&config.state(), "--state / SCOUT_STATE"}}) {
    if (!IsS3Url(*location)) continue;
    if (absl::StatusOr<S3Location> parsed = ParseS3Url(*location); !parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", parsed.status().message()));
    }
  }
  config.set_listen(Setting(FLAGS_listen, "SCOUT_LISTEN", "127.0.0.1:50051"));
  config.set_index_prefix(Setting(FLAGS_index_prefix, "SCOUT_INDEX_PREFIX", "scout-posts"));
  config.set_metrics_listen(Setting(FLAGS_metrics_listen, "SCOUT_METRICS_LISTEN"));
  config.set_media_source_allow(Setting(FLAGS_media_source_allow, "SCOUT_MEDIA_SOURCE_ALLOW",
                                        std::string(kDefaultMediaSourceAllow)));
  const std::string max_bytes =
      Setting(FLAGS_media_max_bytes, "SCOUT_MEDIA_MAX_BYTES", absl::StrCat(kDefaultMediaMaxBytes));
  int64_t media_max_bytes = 0;
  if (!absl::SimpleAtoi(max_bytes, &media_max_bytes) || media_max_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--media_max_bytes: not a positive number of bytes: \"", max_bytes, "\""));
  }
  config.set_media_max_bytes(media_max_bytes);
  while (!config.es_url().empty() && config.es_url().back() == '/') {
    config.mutable_es_url()->pop_back();
  }
  if (const std::string now = Setting(FLAGS_now, "SCOUT_NOW"); !now.empty()) {
    absl::StatusOr<absl::Time> pinned = ParseTime(now);
    if (!pinned.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--now: ", pinned.status().message()));
    }
    config.set_now_unix(absl::ToUnixSeconds(*pinned));
  }
  return config;
}

bool IsS3Url(absl::string_view location) { return absl::StartsWithIgnoreCase(location, "s3:"); }

absl::StatusOr<S3Location> ParseS3Url(absl::string_view url) {
  const auto bad = [url](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed S3 location \"", url, "\": ", why,
                                                   " (want s3://bucket or s3://bucket/prefix)"));
  };
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "s3://")) return bad("it does not start with s3://");
  S3Location location;
  const size_t slash = rest.find('/');
  location.bucket = std::string(rest.substr(0, slash));
  if (location.bucket.empty()) return bad("no bucket");
  if (location.bucket.size() < 3 || location.bucket.size() > 63 ||
      !std::all_of(location.bucket.begin(), location.bucket.end(), [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.';
      })) {
    return bad(absl::StrCat("bucket \"", location.bucket, "\" is not 3-63 of a-z 0-9 . -"));
  }
  if (slash == absl::string_view::npos) return location;
  absl::string_view prefix = rest.substr(slash + 1);
  absl::ConsumeSuffix(&prefix, "/");
  if (prefix.empty()) return location;
  for (absl::string_view segment : absl::StrSplit(prefix, '/')) {
    if (segment.empty() || segment == "." || segment == "..") {
      return bad("an empty, \".\" or \"..\" path segment");
    }
  }
  location.prefix = absl::StrCat(prefix, "/");
  return location;
}

std::unique_ptr<Clock> MakeClock(const scout::v1::Config& config) {
  if (config.now_unix() != 0) return NewFixedClock(absl::FromUnixSeconds(config.now_unix()));
  return NewRealClock();
}

}  // namespace scout
