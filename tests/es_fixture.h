// Test support for integration tests against the real local Elasticsearch
// (started by scripts/services; SCOUT_ES_URL). Each test gets its own index
// prefix and removes its indices afterwards. Not thread-safe.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/backends/elastic.h"
#include "common/backends/http.h"

namespace scout::testing {

class ElasticTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("SCOUT_ES_URL");
    // Not a skip: an integration test that silently does nothing could never fail.
    ASSERT_TRUE(url != nullptr && *url != '\0')
        << "SCOUT_ES_URL is not set: run through scripts/test, which starts the services";
    es_url_ = url;
    elastic_ = std::make_unique<Elastic>(http_.get(), es_url_);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = absl::AsciiStrToLower(
        absl::StrCat("test-", info->test_suite_name(), "-", info->name(), "-", getpid()));
    Cleanup();
  }
  void TearDown() override {
    if (elastic_ != nullptr) Cleanup();
  }

  // Elasticsearch refuses wildcard deletes, so each index is named.
  void Cleanup() {
    absl::StatusOr<nlohmann::json> indices = elastic_->Call(
        "GET", absl::StrCat("_cat/indices/", prefix_, "-*,", prefix_, ".quarantine*,", prefix_,
                            ".creators*?format=json&h=index"));
    if (indices.ok()) {
      for (const nlohmann::json& row : *indices) {
        (void)elastic_->Call("DELETE", row["index"].get<std::string>());
      }
    }
    (void)elastic_->Call("DELETE", absl::StrCat("_index_template/", prefix_));
  }

  int64_t Count(const std::string& index) {
    (void)elastic_->Call("POST", absl::StrCat(index, "/_refresh"));
    absl::StatusOr<nlohmann::json> answer = elastic_->Call("GET", absl::StrCat(index, "/_count"));
    if (!answer.ok()) return -1;
    return (*answer)["count"].get<int64_t>();
  }

  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  std::string es_url_;
  std::unique_ptr<Elastic> elastic_;
  std::string prefix_;
};

}  // namespace scout::testing
