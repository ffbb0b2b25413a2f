// Test support: a generated lake in a test's scratch folder and the ingest of
// it, shared by the worker integration tests. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/elastic.h"
#include "common/lake.h"
#include "common/media_store.h"
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

// Runs scout-ingest over the lake with the checkpoint `<root>/ingest-<i>.ckpt`
// of the options' shard.
inline v1::IngestReport IngestLake(const std::filesystem::path& root, Lake& lake,
                                   Elastic& elastic, MediaStore& media, HttpClient& http,
                                   const Clock& clock, const ingest::IngestOptions& options) {
  absl::StatusOr<ingest::Checkpoint> checkpoint = ingest::Checkpoint::Open(
      (root / absl::StrCat("ingest-", options.shard.ToString().substr(0, 1), ".ckpt")).string());
  if (!checkpoint.ok()) {
    v1::IngestReport failed;
    failed.set_error(checkpoint.status().ToString());
    return failed;
  }
  ingest::IngestEnv env{&lake, &elastic, &media, &http, &clock, &*checkpoint};
  return ingest::RunIngest(env, options);
}

}  // namespace scout::testing
