// Test support for tests that need the warehouse too: on top of ElasticTest,
// a fresh PostgreSQL database per test (a ScratchDatabase, pg_fixture.h),
// dropped afterwards. Not thread-safe.
#pragma once

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/backends/warehouse.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/server.h"
#include "tests/es_fixture.h"
#include "tests/pg_fixture.h"

namespace scout::testing {

class ServicesTest : public ElasticTest {
 protected:
  void SetUp() override {
    ElasticTest::SetUp();
    if (HasFatalFailure()) return;
    database_.Create();
    if (HasFatalFailure()) return;
    dsn_ = database_.dsn();
    absl::StatusOr<std::unique_ptr<Warehouse>> warehouse = Warehouse::Connect(dsn_);
    ASSERT_TRUE(warehouse.ok()) << warehouse.status();
    warehouse_ = *std::move(warehouse);
  }

  void TearDown() override {
    stub_.reset();
    server_.reset();
    warehouse_.reset();
    database_.Drop();
    ElasticTest::TearDown();
  }

  // The single value of a query, or "" (NULL or no row).
  std::string Scalar(absl::string_view sql, const std::vector<SqlValue>& params = {}) {
    absl::StatusOr<SqlRows> rows = warehouse_->Query(sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok() || rows->rows.empty()) return "";
    return rows->rows[0][0].value_or("");
  }

  // A scout-server on 127.0.0.1:0 over this test's index and database, with
  // the clock pinned to `now`, and a stub on a real channel to it.
  // `es_url` overrides the Elasticsearch it searches (to fake an outage).
  void StartServer(absl::Time now, const std::string& es_url = "") {
    scout::v1::Config config;
    config.set_es_url(es_url.empty() ? es_url_ : es_url);
    config.set_pg_dsn(dsn_);
    config.set_listen("127.0.0.1:0");
    config.set_index_prefix(prefix_);
    config.set_now_unix(absl::ToUnixSeconds(now));
    absl::StatusOr<std::unique_ptr<server::ScoutServer>> server =
        server::ScoutServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::BrandService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  ScratchDatabase database_;
  std::string dsn_;  // Of database_.
  std::unique_ptr<server::ScoutServer> server_;
  std::unique_ptr<v1::BrandService::Stub> stub_;
  std::unique_ptr<Warehouse> warehouse_;
};

}  // namespace scout::testing
