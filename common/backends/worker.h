// What every worker's main does alike: start-up (log name, stop signals,
// metrics endpoint, required settings, the backends), the stamps on the
// closing JSON report and printing it on stdout (Airflow reads it; progress
// went to stderr). Exit codes and the stop flag are in common/base/process.h,
// which the server shares. Call from main, except StopRequested and
// Interrupted (any thread) and the Stamp* functions (the run's thread).
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/backends/elastic.h"
#include "common/backends/http.h"
#include "common/backends/media_fetch.h"
#include "common/backends/metrics.h"
#include "common/backends/s3.h"
#include "common/backends/warehouse.h"
#include "common/base/clock.h"
#include "common/base/process.h"
#include "common/base/shard.h"
#include "common/base/time.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"
#include "scout/v1/config.pb.h"

namespace scout {

// A setting a worker cannot run without, and how to give it:
// {[](const v1::Config& c) { return c.lake(); }, "--lake / SCOUT_LAKE"}.
struct RequiredSetting {
  std::function<std::string(const scout::v1::Config&)> value;
  absl::string_view how;
};

// The backends every worker builds the same way from the configuration.
// HTTP calls are counted and timed (scout_backend_*) as the server's are.
struct WorkerBackends {
  std::unique_ptr<Clock> clock;              // --now pins it.
  std::unique_ptr<HttpClient> elastic_http;  // backend="elasticsearch".
  std::unique_ptr<HttpClient> media_http;    // Picture fetches: backend="media".
  std::unique_ptr<Elastic> elastic;          // Null without --es_url.
  std::shared_ptr<ObjectStore> s3;           // Null unless a location is s3://.
  std::unique_ptr<Lake> lake;                // Null without --lake.
  std::unique_ptr<MediaStore> media;         // Null without --media.
  MediaFetchPolicy media_policy;             // Which picture URLs may be fetched.
  std::string pg_dsn;

  // A new warehouse connection (UNAVAILABLE when it cannot be reached).
  absl::StatusOr<std::unique_ptr<Warehouse>> ConnectWarehouse() const {
    return Warehouse::Connect(pg_dsn);
  }
};

struct Worker {
  scout::v1::Config config;
  Shard shard;  // From --shard i/N (Airflow fans shards out with it).
  WorkerBackends backends;
  std::unique_ptr<MetricsEndpoint> metrics;  // Null without --metrics_listen.
};

// The start of every worker's main: parses the flags (--shard is defined
// once, in worker.cc), loads the configuration, checks `required`, names the
// log lines, turns SIGTERM and SIGINT into StopRequested(), builds the
// backends, and serves /metrics while the worker runs when --metrics_listen
// says where. Errors are the caller's (INVALID_ARGUMENT naming what is
// wrong: exit 2). Keep the Worker alive for the run.
absl::StatusOr<Worker> StartWorker(absl::string_view program, int argc, char** argv,
                                   std::initializer_list<RequiredSetting> required);

// Workers check StopRequested() between batches and stop with
// Interrupted(): what is done is committed and checkpointed, so running
// again finishes the job.
absl::Status Interrupted();

// The run's span on its report (started_at, finished_at, seconds), the same
// for every worker. Wall clock on purpose: --now pins the data's "now", not
// how long the run took.
template <typename Report>
void StampStarted(Report& report) {
  *report.mutable_started_at() = ToTimestamp(absl::Now());
}
template <typename Report>
void StampFinished(Report& report) {
  const absl::Time finished = absl::Now();
  *report.mutable_finished_at() = ToTimestamp(finished);
  report.set_seconds(absl::ToDoubleSeconds(finished - FromTimestamp(report.started_at())));
}

// Prints `report` as JSON on stdout; kExitOk when `error` is empty, else
// says it on stderr and returns kExitBackendFailed.
int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error);

}  // namespace scout
