// Renders API answers for a person reading a terminal. Pure, thread-safe.
#pragma once

#include <string>

#include "scout/v1/service.pb.h"

namespace scout::client {

std::string FormatSearch(const scout::v1::SearchPostsResponse& response);

}  // namespace scout::client
