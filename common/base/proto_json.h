// Proto <-> JSON with the options Scout uses everywhere: proto field names,
// zero values printed (a report says "0", not nothing). Thread-safe.
#pragma once

#include <string>

#include <google/protobuf/message.h>

namespace scout {

std::string ToJson(const google::protobuf::Message& message);

}  // namespace scout
