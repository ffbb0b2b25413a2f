// scout-s3sync DIR s3://bucket/prefix: uploads what differs (see s3sync.h)
// and prints a JSON report on stdout. Credentials and endpoint follow the
// AWS conventions (docs/s3.md).
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "common/base/config.h"
#include "common/base/flags.h"
#include "common/base/process.h"
#include "tools/s3sync/s3sync.h"

ABSL_FLAG(int, threads, 16, "Uploads in flight.");
ABSL_FLAG(bool, delete, false, "Also delete objects under the prefix that have no local file.");
ABSL_FLAG(bool, create_bucket, false, "Create the bucket when it does not exist.");
ABSL_FLAG(int64_t, rewritten_since, 0,
          "Unix seconds: also upload files modified since then when equal (replays a day "
          "of rewrites); 0: off.");

int main(int argc, char** argv) {
  constexpr char kProgram[] = "scout-s3sync";
  const std::vector<char*> args = scout::ParseFlags(argc, argv);
  if (args.size() != 3 || !scout::IsS3Url(args[2])) {
    return scout::Exit(kProgram, scout::kExitBadUsage,
                       "usage: scout-s3sync DIR s3://bucket/prefix [--threads N] [--delete] "
                       "[--create_bucket]");
  }
  const absl::StatusOr<scout::S3Location> destination = scout::ParseS3Url(args[2]);
  if (!destination.ok()) {
    return scout::Exit(kProgram, scout::kExitBadUsage, destination.status().message());
  }
  scout::tools::SyncOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.delete_extra = absl::GetFlag(FLAGS_delete);
  options.create_bucket = absl::GetFlag(FLAGS_create_bucket);
  if (const int64_t since = absl::GetFlag(FLAGS_rewritten_since); since > 0) {
    options.rewritten_since = absl::FromUnixSeconds(since);
  }
  const std::unique_ptr<scout::ObjectStore> store = scout::NewS3ObjectStoreFromEnv();
  const absl::StatusOr<scout::tools::SyncReport> report =
      scout::tools::SyncDirectory(args[1], *store, *destination, options);
  if (!report.ok()) {
    return scout::Exit(kProgram, scout::kExitBackendFailed, report.status().ToString());
  }
  const scout::S3RequestCounts counts = store->Counts();
  std::cout << nlohmann::json{{"files", report->files},
                              {"objects_before", report->objects_before},
                              {"uploaded", report->uploaded},
                              {"unchanged", report->unchanged},
                              {"deleted", report->deleted},
                              {"bytes_uploaded", report->bytes_uploaded},
                              {"s3_requests",
                               {{"lists", counts.list},
                                {"gets", counts.get},
                                {"heads", counts.head},
                                {"puts", counts.put},
                                {"deletes", counts.del}}}}
                   .dump()
            << std::endl;
  return scout::kExitOk;
}
