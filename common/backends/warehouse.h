// Warehouse: one libpq connection to the warehouse (PostgreSQL 15 locally,
// Amazon Redshift in production) with parameterized statements only, bulk
// COPY, transactions and versioned schema migrations. Errors: UNAVAILABLE
// when the server cannot be reached, ABORTED for a serialization failure or
// a deadlock (SQLSTATE 40001, 40P01: run the transaction again), INTERNAL
// for any other failed statement (with the server's message). Not
// thread-safe: one connection per user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace scout {

using SqlValue = std::optional<std::string>;  // nullopt is SQL NULL.

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;

  // Position of the column named `name`, so readers do not depend on the
  // order of a SELECT list; nullopt when the result has no such column.
  std::optional<size_t> ColumnIndex(absl::string_view name) const;
};

// Sizes of the VARCHAR columns of the migrations, in bytes (Redshift counts
// VARCHAR(n) in bytes, PostgreSQL in characters: n bytes fit both). Text
// from outside is cut to these with WarehouseText before it is loaded;
// warehouse_test checks them against the migrated schema.
namespace column_bytes {
inline constexpr size_t kCreatorId = 32;
inline constexpr size_t kUsername = 256;
inline constexpr size_t kName = 512;
inline constexpr size_t kBiography = 4096;
inline constexpr size_t kWebsite = 1024;
inline constexpr size_t kPictureUrl = 2048;  // profile_picture_source / _url.
inline constexpr size_t kSourceKey = 512;
inline constexpr size_t kQuarantineReason = 2048;
inline constexpr size_t kDailyJson = 65535;
inline constexpr size_t kPaletteJson = 4096;   // And creator_palette.colors_json.
inline constexpr size_t kTopicsJson = 1024;    // profile_facts and creator_content.
inline constexpr size_t kContentJson = 65535;  // creator_content hashtags/mentions/captions.
}  // namespace column_bytes

// `text` as a warehouse column takes it: invalid UTF-8 bytes replaced by
// U+FFFD, NUL characters dropped (COPY and libpq reject them), then cut at
// a character boundary to at most `max_bytes` bytes.
std::string WarehouseText(absl::string_view text, size_t max_bytes);

// An optional count as a column value: absent is NULL, never 0.
inline SqlValue SqlCount(const std::optional<int64_t>& value) {
  return value ? SqlValue(std::to_string(*value)) : std::nullopt;
}

class Warehouse {
 public:
  static absl::StatusOr<std::unique_ptr<Warehouse>> Connect(const std::string& dsn);
  ~Warehouse();

  absl::StatusOr<SqlRows> Query(absl::string_view sql, const std::vector<SqlValue>& params = {});
  absl::Status Exec(absl::string_view sql, const std::vector<SqlValue>& params = {});
  // Streams `data` (COPY text format: tab-separated, \N for NULL, one row a
  // line; build it with AppendCopyRow) into `copy_statement`
  // ("COPY t (a, b) FROM STDIN").
  absl::Status CopyIn(absl::string_view copy_statement, absl::string_view data);

  // Runs `body` in one transaction: committed if it returns OK, rolled back
  // otherwise, so readers see all of it or none of it.
  template <typename Body>
  absl::Status InTransaction(Body&& body) {
    if (absl::Status begun = Exec("BEGIN"); !begun.ok()) return begun;
    absl::Status status = body();
    if (!status.ok()) {
      (void)Exec("ROLLBACK");
      return status;
    }
    return Exec("COMMIT");
  }

 private:
  explicit Warehouse(PGconn* conn) : conn_(conn) {}
  // `result` (may be null) carries the SQLSTATE that picks the code.
  absl::Status ConnectionError(absl::string_view what, const PGresult* result = nullptr) const;

  PGconn* conn_;
};

// Appends one row in COPY text format, escaping tabs, newlines and
// backslashes.
void AppendCopyRow(const std::vector<SqlValue>& values, std::string& out);

// Applies the numbered migrations not applied yet, each in its own
// transaction, recording them in schema_migrations. Safe to run twice and
// from concurrent workers (a lock serializes them).
absl::Status Migrate(Warehouse& warehouse);

}  // namespace scout
