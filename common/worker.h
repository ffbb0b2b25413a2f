// What every worker's main does alike: start-up (log name, stop signals,
// metrics endpoint), exit codes, required settings and the closing JSON
// report on stdout (Airflow reads it; progress went to stderr). Call from
// main, except StopRequested, which any thread may call.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

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
  kExitCheckFailed = 3,    // A data-quality check failed: do not retry.
};

// A setting a worker cannot run without, and how to give it:
// {&v1::Config::lake, "--lake / SCOUT_LAKE"}.
struct RequiredSetting {
  const std::string& (scout::v1::Config::*value)() const;
  absl::string_view how;
};

struct Worker {
  scout::v1::Config config;
  Shard shard;  // From --shard i/N (Airflow fans shards out with it).
  std::unique_ptr<MetricsEndpoint> metrics;  // Null without --metrics_listen.
};

// The start of every worker's main: parses the flags (--shard is defined
// once, in worker.cc), loads the configuration, checks `required`, names the
// log lines, turns SIGTERM and SIGINT into StopRequested(), and serves
// /metrics while the worker runs when --metrics_listen says where. Errors
// are the caller's (INVALID_ARGUMENT naming what is wrong: exit 2). Keep
// the Worker alive for the run.
absl::StatusOr<Worker> StartWorker(absl::string_view program, int argc, char** argv,
                                   std::initializer_list<RequiredSetting> required);

// True once SIGTERM or SIGINT arrived. Workers check it between batches and
// stop with Interrupted(): what is done is committed and checkpointed, so
// running again finishes the job.
bool StopRequested();
absl::Status Interrupted();

// Logs `message` as an error with the exit code; returns `code`.
int Exit(absl::string_view program, ExitCode code, absl::string_view message);

// Prints `report` as JSON on stdout; kExitOk when `error` is empty, else
// says it on stderr and returns kExitBackendFailed.
int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error);

}  // namespace scout
