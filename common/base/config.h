// Runtime configuration for every binary: SCOUT_* environment variables,
// overridden by the flags defined once in config.cc (--es_url, --pg_dsn,
// --lake, --media, --media_url, --listen, --state, --index_prefix,
// --metrics_listen, --now).
// Call after absl::ParseCommandLine; not thread-safe before then.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/clock.h"
#include "scout/v1/config.pb.h"

namespace scout {

// Where pictures may be fetched from when --media_source_allow is not given
// (Instagram's and Facebook's CDNs), and how big one may be.
inline constexpr absl::string_view kDefaultMediaSourceAllow = ".cdninstagram.com,.fbcdn.net";
inline constexpr int64_t kDefaultMediaMaxBytes = int64_t{30} << 20;

absl::StatusOr<scout::v1::Config> LoadConfig();

// A fixed clock when --now pinned the time, else the wall clock.
std::unique_ptr<Clock> MakeClock(const scout::v1::Config& config);

}  // namespace scout
