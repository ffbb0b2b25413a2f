// Conversions between absl::Time, protobuf Timestamps and the text forms
// Scout reads and writes. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace scout {

google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

// Accepts "2021-02-20T17:05:52+0000" (Instagram), RFC 3339 ("...Z",
// "+00:00", fractional seconds) and a bare "YYYY-MM-DD" (midnight UTC).
absl::StatusOr<absl::Time> ParseTime(absl::string_view text);

// "2026-11-22T06:33:25Z"
std::string FormatRfc3339(absl::Time t);
// "2026-11-22" (UTC)
std::string FormatDay(absl::Time t);

}  // namespace scout
