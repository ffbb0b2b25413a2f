// Test support: a generated lake in a test's scratch folder and the ingest of
// it, shared by the worker integration tests. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/backends/elastic.h"
#include "common/backends/media_fetch.h"
#include "common/base/clock.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"
#include "tools/genlake/genlake.h"
#include "workers/ingest/ingest.h"

namespace scout::testing {

// genlake options for a lake under `root` (lake/, cdn/), small pictures.
inline genlake::Options LakeOptions(const std::filesystem::path& root, absl::CivilDay today) {
  genlake::Options options;
  options.lake = (root / "lake").string();
  options.cdn = (root / "cdn").string();
  options.today = today;
  options.image_size = 32;
  return options;
}

// genlake's "CDN" is the folder cdn/ of local files: allowed explicitly, as
// the demo does (the default policy allows only Instagram's CDN).
inline MediaFetchPolicy GenlakeCdnPolicy(const std::filesystem::path& root) {
  absl::StatusOr<MediaFetchPolicy> policy = MediaFetchPolicy::Parse(
      absl::StrCat("file://", std::filesystem::absolute(root / "cdn").lexically_normal().string(),
                   "/"),
      1 << 20);
  return *std::move(policy);  // A folder path is always a valid entry.
}

// Runs scout-ingest over the lake with the checkpoint `<root>/ingest-<i>.ckpt`
// of the options' shard; `s3`: the client behind the lake or media store.
inline v1::IngestReport IngestLake(const std::filesystem::path& root, Lake& lake, Elastic& elastic,
                                   MediaStore& media, HttpClient& http, const Clock& clock,
                                   const ingest::IngestOptions& options,
                                   const ObjectStore* s3 = nullptr) {
  absl::StatusOr<ingest::Checkpoint> checkpoint = ingest::Checkpoint::Open(
      (root / absl::StrCat("ingest-", options.shard.ToString().substr(0, 1), ".ckpt")).string());
  if (!checkpoint.ok()) {
    v1::IngestReport failed;
    failed.set_error(checkpoint.status().ToString());
    return failed;
  }
  ingest::IngestEnv env{&lake, &elastic, &media, &http, &clock, &*checkpoint, s3};
  return ingest::RunIngest(env, options);
}

}  // namespace scout::testing
