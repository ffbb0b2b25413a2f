// Typed reads of fields from lake JSON objects, with errors that name the
// field (INVALID_ARGUMENT "like_count: expected an integer, got string").
// Absent or null fields are "absent", never 0. And the one way to write
// JSON that may carry lake text. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

absl::Status FieldError(absl::string_view field, absl::string_view problem);

// Instagram ids arrive as strings, sometimes as numbers. Empty when absent
// and not `required`.
absl::StatusOr<std::string> IdField(const nlohmann::json& object, const char* field, bool required);
// Empty when absent.
absl::StatusOr<std::string> StringField(const nlohmann::json& object, const char* field);
// A non-negative integer, or nullopt when absent.
absl::StatusOr<std::optional<int64_t>> CountField(const nlohmann::json& object, const char* field);

// Parses a whole file as one JSON object; names what is wrong otherwise.
absl::StatusOr<nlohmann::json> ParseObject(absl::string_view text);

// Compact JSON text. Lake text may hold invalid UTF-8, on which nlohmann's
// dump throws: such bytes become U+FFFD instead.
std::string DumpJson(const nlohmann::json& value);

}  // namespace scout
