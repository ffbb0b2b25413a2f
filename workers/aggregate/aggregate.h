// scout-aggregate as a library: for each date, loads that day's creator stats
// files into the warehouse, aggregates the creators' last 30 days of posts
// from Elasticsearch and swaps in their rebuilt profile facts, all in one
// transaction per date that also runs the data-quality checks: readers see
// the old facts or the new ones, never half, and a failed check or a crash
// leaves the old ones. Rerunning a date gives the same tables. Not
// thread-safe (one Warehouse connection).
#pragma once

#include <functional>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/backends/elastic.h"
#include "common/backends/media_copier.h"
#include "common/backends/warehouse.h"
#include "common/base/clock.h"
#include "common/base/shard.h"
#include "common/io/lake.h"
#include "scout/v1/jobs.pb.h"

namespace scout::aggregate {

struct AggregateOptions {
  std::string index_prefix = "scout-posts";
  Shard shard;
  bool fetch_pictures = true;
  MediaCopyOptions media;
  int read_threads = 4;
  // Facts only move forward: loading a date older than a creator's facts
  // keeps their newer facts (the stats are still loaded, for the series)
  // unless `backfill`, which replaces them with the loaded date's.
  bool backfill = false;
  // Writes the loaded creators' documents to the creators index
  // (`<index_prefix>.creators`) after each date's transaction.
  bool index_creators = true;
  // Test seam: runs after the date's files, pictures and posts are read,
  // just before its warehouse transaction.
  std::function<void()> before_transaction;
};

struct AggregateEnv {
  Lake* lake = nullptr;
  Warehouse* warehouse = nullptr;
  Elastic* elastic = nullptr;
  MediaStore* media = nullptr;  // Unused when !fetch_pictures.
  HttpClient* http = nullptr;
  const Clock* clock = nullptr;
};

// Runs the dates in order. The report's `error` is set when a backend failed
// or a data-quality check did not pass (then `quality_failures` says which
// rows, and rerunning cannot help); dates before the failing one stay
// loaded. Files that cannot be read (bad JSON, inconsistent fields) are
// quarantined with their reason and the rest loads; text is cleaned and cut
// to the column sizes.
scout::v1::AggregateReport RunAggregate(const AggregateEnv& env, const AggregateOptions& options,
                                        const std::vector<absl::CivilDay>& dates);

}  // namespace scout::aggregate
