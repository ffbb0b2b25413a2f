// Test support for integration tests against the real local PostgreSQL
// (started by scripts/services; SCOUT_PG_DSN names the server): a throwaway
// database per test, created empty and dropped afterwards, so tests and
// helpers sharing the server never see each other's rows. ScratchDatabase is
// the shared part (ServicesTest holds one too); PgTest is the fixture for
// tests that need PostgreSQL only. Not thread-safe.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/backends/warehouse.h"

namespace scout::testing {

// A database of its own on the server SCOUT_PG_DSN names.
class ScratchDatabase {
 public:
  ScratchDatabase() = default;
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ~ScratchDatabase() { Drop(); }

  // Creates the database for `name` (by default the current test's suite
  // and name), dropping first a leftover of a crashed run. The name is
  // lowered, every byte but [a-z0-9] made '_', and cut so that the process
  // id appended still fits PostgreSQL's 63 bytes: concurrent runs of one
  // test on the shared server stay apart. Fails the test fatally when the
  // server is missing or refuses; callers check HasFatalFailure().
  void Create(absl::string_view name = "") {
    const char* dsn = std::getenv("SCOUT_PG_DSN");
    ASSERT_TRUE(dsn != nullptr && *dsn != '\0')
        << "SCOUT_PG_DSN is not set: run through scripts/test, which starts the services";
    server_dsn_ = dsn;
    std::string base(name);
    if (base.empty()) {
      const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
      base = absl::StrCat(info->test_suite_name(), "_", info->name());
    }
    // Identifiers cannot be parameters.
    absl::AsciiStrToLower(&base);
    for (char& c : base) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    const std::string suffix = absl::StrCat("_", getpid());
    base.resize(std::min(base.size(), kMaxIdentifierBytes - suffix.size()));
    const std::string database = base + suffix;
    absl::StatusOr<std::unique_ptr<Warehouse>> admin = Warehouse::Connect(server_dsn_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    (void)(*admin)->Exec(absl::StrCat("DROP DATABASE IF EXISTS ", database, " WITH (FORCE)"));
    const absl::Status created = (*admin)->Exec(absl::StrCat("CREATE DATABASE ", database));
    ASSERT_TRUE(created.ok()) << created;
    database_ = database;
    // In a libpq connection string the last value of a keyword wins.
    dsn_ = absl::StrCat(server_dsn_, " dbname=", database_);
  }

  // Drops the database (FORCE: connections still open, such as a server
  // under test's, are ended). Safe to call twice or after a failed Create.
  void Drop() {
    if (database_.empty()) return;
    absl::StatusOr<std::unique_ptr<Warehouse>> admin = Warehouse::Connect(server_dsn_);
    if (admin.ok()) {
      (void)(*admin)->Exec(absl::StrCat("DROP DATABASE IF EXISTS ", database_, " WITH (FORCE)"));
    }
    database_.clear();
  }

  // A connection to the scratch database.
  absl::StatusOr<std::unique_ptr<Warehouse>> Connect() const { return Warehouse::Connect(dsn_); }

  const std::string& dsn() const { return dsn_; }  // Of the scratch database.
  const std::string& name() const { return database_; }

 private:
  static constexpr size_t kMaxIdentifierBytes = 63;

  std::string server_dsn_, dsn_, database_;
};

// A scratch database per test, named after the test; `warehouse_` is
// connected to it (no migrations run: call Migrate where the tables matter).
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_.Create();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<Warehouse>> warehouse = database_.Connect();
    ASSERT_TRUE(warehouse.ok()) << warehouse.status();
    warehouse_ = *std::move(warehouse);
  }
  void TearDown() override {
    warehouse_.reset();
    database_.Drop();
  }

  ScratchDatabase database_;
  std::unique_ptr<Warehouse> warehouse_;
};

}  // namespace scout::testing
