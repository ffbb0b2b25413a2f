#include "common/worker.h"

#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/proto_json.h"
#include "common/status.h"

ABSL_FLAG(std::string, shard, "0/1", "this run's share of the creators, i/N");

namespace scout {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

}  // namespace

absl::StatusOr<Worker> StartWorker(absl::string_view program, int argc, char** argv,
                                   std::initializer_list<RequiredSetting> required) {
  SetLogProgram(program);
  ParseFlags(argc, argv);
  Worker worker;
  SCOUT_ASSIGN_OR_RETURN(worker.config, LoadConfig());
  for (const auto& [value, how] : required) {
    if ((worker.config.*value)().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(how, " is required"));
    }
  }
  SCOUT_ASSIGN_OR_RETURN(worker.shard, Shard::Parse(absl::GetFlag(FLAGS_shard)));
  std::signal(SIGTERM, [](int) { g_stop_requested = 1; });
  std::signal(SIGINT, [](int) { g_stop_requested = 1; });
  if (const std::string& listen = worker.config.metrics_listen(); !listen.empty()) {
    SCOUT_ASSIGN_OR_RETURN(worker.metrics, MetricsEndpoint::Start(listen));
    // Port 0 picks one: say which.
    Log(LogLevel::kInfo, "serving metrics",
        {{"metrics",
          absl::StrCat(listen.substr(0, listen.rfind(':')), ":", worker.metrics->port())}});
  }
  return worker;
}

bool StopRequested() { return g_stop_requested != 0; }

absl::Status Interrupted() {
  return absl::CancelledError(
      "interrupted by a signal between batches: the work done so far is committed; "
      "run again to finish");
}

int Exit(absl::string_view program, ExitCode code, absl::string_view message) {
  SetLogProgram(program);
  Log(LogLevel::kError, message, {{"exit_code", static_cast<int>(code)}});
  return code;
}

int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error) {
  std::cout << ToJson(report) << std::endl;
  if (error.empty()) return kExitOk;
  return Exit(program, kExitBackendFailed, error);
}

}  // namespace scout
