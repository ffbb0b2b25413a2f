// Renders API answers for a person reading a terminal. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scout/v1/service.pb.h"

namespace scout::client {

std::string FormatSearch(const scout::v1::SearchPostsResponse& response);
std::string FormatProfile(const scout::v1::UserProfile& profile);

// "▁▂▄█": one block per value, scaled between the series' min and max.
std::string Sparkline(const std::vector<int64_t>& values);

}  // namespace scout::client
