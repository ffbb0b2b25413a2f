// genlake's options and persistent state: defaults and checks of Options, and
// <lake>/_genlake.json, which records the options a lake was generated with
// so that Advance() needs only the lake directory and Generate() can refuse
// a lake made with other options. Internal to the generator.
// Thread-safety: pure functions (AbsolutePath reads the working directory).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/genlake/genlake.h"

namespace scout::genlake {

inline constexpr absl::string_view kStateFile = "_genlake.json";

struct State {
  Options options;
  int64_t anchor = 0;  // First day any post exists (days since 1970-01-01).
};

// The text of _genlake.json. Fails only on paths that are not UTF-8, which
// JSON cannot hold.
absl::StatusOr<std::string> StateJson(const Options& o, int64_t anchor);
// DATA_LOSS naming `path` and the field when the file is not what StateJson
// writes.
absl::StatusOr<State> ParseState(const std::string& text, const std::string& path);

// Absolute, normalized, without a trailing '/'.
std::string AbsolutePath(const std::string& path);
// Paths made absolute, cdn_url and truth defaulted.
Options Resolve(Options o);
// INVALID_ARGUMENT naming the flag that is out of range.
absl::Status Validate(const Options& o, int threads);

}  // namespace scout::genlake
