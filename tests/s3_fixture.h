// Test support for tests against the real S3 server of scripts/services
// (SeaweedFS): a client from the environment, a local folder copied into a
// bucket, a bucket emptied and removed. Not thread-safe.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/backends/s3.h"
#include "common/io/files.h"

namespace scout::testing {

// Fails the test fatally when the services' S3 variables are not set.
inline void RequireS3() {
  const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
  ASSERT_TRUE(endpoint != nullptr && *endpoint != '\0')
      << "AWS_ENDPOINT_URL is not set: run through scripts/test, which starts the services";
}

// Curl and the credential chain, as the workers make it.
inline std::shared_ptr<ObjectStore> S3FromEnv() {
  S3Options options = S3Options::FromEnv();
  std::string region = options.region;
  return NewS3ObjectStore(NewCurlHttpClient(), NewAwsCredentialsChain(NewCurlHttpClient(), region),
                          std::move(options));
}

// Every file under `folder` to `<key_prefix><path relative to folder>`;
// returns how many.
inline int UploadFolder(ObjectStore& store, const std::string& bucket,
                        const std::filesystem::path& folder, const std::string& key_prefix) {
  int uploaded = 0;
  for (const auto& file : std::filesystem::recursive_directory_iterator(folder)) {
    if (!file.is_regular_file()) continue;
    absl::StatusOr<std::string> bytes = ReadFile(file.path().string());
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    if (!bytes.ok()) continue;
    const std::string key =
        absl::StrCat(key_prefix, std::filesystem::relative(file.path(), folder).string());
    const absl::StatusOr<std::string> put = store.Put(bucket, key, *bytes);
    EXPECT_TRUE(put.ok()) << key << ": " << put.status();
    ++uploaded;
  }
  return uploaded;
}

// Deletes every object, then the bucket (best effort: a test's TearDown).
inline void RemoveBucket(ObjectStore& store, const std::string& bucket) {
  absl::StatusOr<S3ListPage> all = store.List(bucket, "", "");
  if (all.ok()) {
    for (const S3Object& object : all->objects) (void)store.Delete(bucket, object.key);
  }
  (void)store.DeleteBucket(bucket);
}

}  // namespace scout::testing
