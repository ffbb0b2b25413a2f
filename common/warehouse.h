// Warehouse: one libpq connection to the warehouse (PostgreSQL 15 locally,
// Amazon Redshift in production) with parameterized statements only, bulk
// COPY, transactions and versioned schema migrations. Errors: UNAVAILABLE
// when the server cannot be reached, INTERNAL for a failed statement (with
// the server's message). Not thread-safe: one connection per user.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct pg_conn PGconn;

namespace scout {

using SqlValue = std::optional<std::string>;  // nullopt is SQL NULL.

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

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
  absl::Status ConnectionError(absl::string_view what) const;

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
