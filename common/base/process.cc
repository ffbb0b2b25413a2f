#include "common/base/process.h"

#include <csignal>

#include "absl/time/clock.h"
#include "common/base/log.h"

namespace scout {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

}  // namespace

void InstallStopHandlers() {
  std::signal(SIGTERM, [](int) { g_stop_requested = 1; });
  std::signal(SIGINT, [](int) { g_stop_requested = 1; });
}

bool StopRequested() { return g_stop_requested != 0; }

void WaitThenDrain(absl::Duration grace, absl::FunctionRef<void(absl::Time deadline)> drain) {
  while (!StopRequested()) absl::SleepFor(absl::Milliseconds(100));
  Log(LogLevel::kInfo, "draining", {{"drain_seconds", absl::ToInt64Seconds(grace)}});
  drain(absl::Now() + grace);
  Log(LogLevel::kInfo, "stopped");
}

int Exit(absl::string_view program, ExitCode code, absl::string_view message) {
  SetLogProgram(program);
  Log(LogLevel::kError, message, {{"exit_code", static_cast<int>(code)}});
  return code;
}

}  // namespace scout
