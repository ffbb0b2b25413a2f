// What every worker's main does alike: start-up (log name, stop signals,
// metrics endpoint), exit codes, required settings and the closing JSON
// report on stdout (Airflow reads it; progress went to stderr). Call from
// main, except StopRequested, which any thread may call.
#pragma once

#include <initializer_list>
#include <utility>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics.h"
#include "common/shard.h"
#include "scout/v1/config.pb.h"

namespace scout {

enum ExitCode : int {
  kExitOk = 0,             // Done (quarantined input included).
  kExitBackendFailed = 1,  // A backend failed or a check did not pass: rerun it.
  kExitBadUsage = 2,       // Flags or configuration are wrong.
};

// Names the log lines, turns SIGTERM and SIGINT into StopRequested(), and
// serves /metrics while the worker runs when config.metrics_listen() says
// where. Keep the endpoint (null without one) alive for the run.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartWorker(absl::string_view program,
                                                              const scout::v1::Config& config);

// True once SIGTERM or SIGINT arrived. Workers check it between batches and
// stop with Interrupted(): what is done is committed and checkpointed, so
// running again finishes the job.
bool StopRequested();
absl::Status Interrupted();

// Logs `message` as an error with the exit code; returns `code`.
int Exit(absl::string_view program, ExitCode code, absl::string_view message);

// INVALID_ARGUMENT naming the first empty one: {value, "--lake / SCOUT_LAKE"}.
absl::Status RequireSettings(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> settings);

// This run's share of the creators, from the --shard i/N flag (defined once
// in worker.cc for every worker; Airflow fans shards out with it).
absl::StatusOr<Shard> ShardFlag();

// Prints `report` as JSON on stdout; kExitOk when `error` is empty, else
// says it on stderr and returns kExitBackendFailed.
int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error);

}  // namespace scout
