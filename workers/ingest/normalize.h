// Turns one lake post file (any of the 5 media types x basic/business
// connection shapes) into a scout.v1.Post, or a reason to quarantine it.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scout/v1/types.pb.h"

namespace scout::ingest {

// `owner_hint` is the creator id from the file's lake path, used when the
// JSON carries no owner. Errors are INVALID_ARGUMENT naming the field.
// Media items come back with source_url set and url empty.
absl::StatusOr<scout::v1::Post> NormalizePost(absl::string_view json_text,
                                              absl::string_view owner_hint);

}  // namespace scout::ingest
