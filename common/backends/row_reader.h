// Reads the columns of one warehouse result row by name, keeping the first
// problem: a missing column (a broken contract: INTERNAL) or a value that
// cannot be read (DATA_LOSS naming the row and column). Shared by the
// readers of profile_facts and creator_content. Not thread-safe (one row,
// one reader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/backends/warehouse.h"

namespace scout {

class RowReader {
 public:
  // `table` names the table in error messages.
  RowReader(const SqlRows& rows, size_t index, absl::string_view table)
      : rows_(rows), row_(rows.rows[index]), table_(table) {}

  // The raw value; a missing column sets the error.
  const SqlValue* Get(const char* column) {
    const std::optional<size_t> at = rows_.ColumnIndex(column);
    if (!at || *at >= row_.size()) {
      if (missing_.empty()) missing_ = column;
      return nullptr;
    }
    return &row_[*at];
  }
  std::string Text(const char* column) {
    const SqlValue* value = Get(column);
    return value && *value ? **value : std::string();
  }
  std::optional<int64_t> OptionalCount(const char* column) {
    const SqlValue* value = Get(column);
    if (value == nullptr || !*value) return std::nullopt;
    int64_t n;
    if (absl::SimpleAtoi(**value, &n)) return n;
    Bad(column, **value);
    return std::nullopt;
  }
  int64_t Count(const char* column) {
    const SqlValue* value = Get(column);
    if (value != nullptr && !*value) Bad(column, "NULL");
    return OptionalCount(column).value_or(0);
  }
  std::optional<double> OptionalDouble(const char* column) {
    const SqlValue* value = Get(column);
    if (value == nullptr || !*value) return std::nullopt;
    double d;
    if (absl::SimpleAtod(**value, &d)) return d;
    Bad(column, **value);
    return std::nullopt;
  }
  void Bad(const char* column, absl::string_view value) {
    if (bad_.empty()) bad_ = absl::StrCat(column, " = \"", value.substr(0, 40), "\"");
  }
  absl::Status Status(absl::string_view row_id) const {
    if (!missing_.empty()) {
      return absl::InternalError(absl::StrCat(table_, ": no column ", missing_));
    }
    if (!bad_.empty()) {
      return absl::DataLossError(absl::StrCat(table_, " row of ", row_id, ": cannot read ", bad_));
    }
    return absl::OkStatus();
  }

 private:
  const SqlRows& rows_;
  const std::vector<SqlValue>& row_;
  std::string table_;
  std::string missing_, bad_;
};

}  // namespace scout
