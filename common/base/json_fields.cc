#include "common/base/json_fields.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace scout {

using nlohmann::json;

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::StatusOr<std::string> IdField(const json& object, const char* field, bool required) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    if (required) return FieldError(field, "missing");
    return std::string();
  }
  if (it->is_string() && !it->get_ref<const std::string&>().empty()) {
    return it->get<std::string>();
  }
  if (it->is_number_integer()) return it->dump();
  return FieldError(field, absl::StrCat("expected an id, got ", it->type_name()));
}

absl::StatusOr<std::string> StringField(const json& object, const char* field) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return FieldError(field, absl::StrCat("expected a string, got ", it->type_name()));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::optional<int64_t>> CountField(const json& object, const char* field) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) {
    return FieldError(field, absl::StrCat("expected an integer, got ", it->type_name()));
  }
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return FieldError(field, absl::StrCat("count too large ", it->get<uint64_t>()));
  }
  const int64_t value = it->get<int64_t>();
  if (value < 0) return FieldError(field, absl::StrCat("negative count ", value));
  return std::optional<int64_t>(value);
}

absl::StatusOr<json> ParseObject(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty file");
  json object;
  try {
    object = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // Truncated or corrupt, invalid UTF-8.
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", e.what()));
  }
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", object.type_name()));
  }
  return object;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace scout
