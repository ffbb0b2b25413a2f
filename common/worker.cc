#include "common/worker.h"

#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_json.h"

ABSL_FLAG(std::string, shard, "0/1", "this run's share of the creators, i/N");

namespace scout {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartWorker(absl::string_view program,
                                                              const scout::v1::Config& config) {
  SetLogProgram(program);
  std::signal(SIGTERM, [](int) { g_stop_requested = 1; });
  std::signal(SIGINT, [](int) { g_stop_requested = 1; });
  if (config.metrics_listen().empty()) return nullptr;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start(config.metrics_listen());
  if (endpoint.ok()) {  // Port 0 picks one: say which.
    const std::string& listen = config.metrics_listen();
    Log(LogLevel::kInfo, "serving metrics",
        {{"metrics", absl::StrCat(listen.substr(0, listen.rfind(':')), ":", (*endpoint)->port())}});
  }
  return endpoint;
}

bool StopRequested() { return g_stop_requested != 0; }

absl::Status Interrupted() {
  return absl::CancelledError(
      "interrupted by a signal between batches: the work done so far is committed; "
      "run again to finish");
}

absl::StatusOr<Shard> ShardFlag() { return Shard::Parse(absl::GetFlag(FLAGS_shard)); }

int Exit(absl::string_view program, ExitCode code, absl::string_view message) {
  SetLogProgram(program);
  Log(LogLevel::kError, message, {{"exit_code", static_cast<int>(code)}});
  return code;
}

absl::Status RequireSettings(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> settings) {
  for (const auto& [value, name] : settings) {
    if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  }
  return absl::OkStatus();
}

int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error) {
  std::cout << ToJson(report) << std::endl;
  if (error.empty()) return kExitOk;
  return Exit(program, kExitBackendFailed, error);
}

}  // namespace scout
