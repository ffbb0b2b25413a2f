// genlake's post and stats files: the JSON text the Instagram API client
// writes into the lake, built by appending to one reused string (a DOM per
// file would dominate the cost of writing a million files). Internal to the
// generator.
// Thread-safety: pure functions writing into the caller's string.
#pragma once

#include <cstdint>
#include <string>

#include "tools/genlake/content.h"
#include "tools/genlake/genlake.h"

namespace scout::genlake {

// Appends post `post` of `c` with its metrics as of the end of `as_of_day`,
// broken as `malform` says. `options` must be resolved (cdn_url set).
void AppendPostJson(const Options& options, const Creator& c, const Post& post, int64_t as_of_day,
                    Malform malform, std::string* out);

// Appends the profile and daily insights of `c` on `day`.
void AppendStatsJson(const Options& options, const Creator& c, int64_t day, int64_t media_count,
                     std::string* out);

}  // namespace scout::genlake
