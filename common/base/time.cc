#include "common/base/time.h"

#include "absl/strings/str_cat.h"

namespace scout {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  // Whole seconds first: Unix nanoseconds only reach years 1678..2261.
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // Rounds toward the past.
  ts.set_seconds(seconds);
  if (t != absl::InfiniteFuture() && t != absl::InfinitePast()) {
    ts.set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  }
  return ts;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::StatusOr<absl::Time> ParseTime(absl::string_view text) {
  const std::string input(text);
  absl::Time t;
  std::string error;
  // Instagram, RFC 3339, SQL timestamps (UTC), dates.
  for (const char* format :
       {"%Y-%m-%dT%H:%M:%E*S%z", "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, input, absl::UTCTimeZone(), &t, &error)) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a timestamp: \"", text.substr(0, 40),
                   "\" (want 2021-02-20T17:05:52+0000 or YYYY-MM-DD)"));
}

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatDay(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

}  // namespace scout
