// What a Scout process (the server and every worker) does alike at its
// edges: the exit codes Airflow and operators act on, turning SIGTERM and
// SIGINT into a flag, draining on that flag, and exiting with a logged
// reason. InstallStopHandlers, WaitThenDrain and Exit are for main;
// StopRequested may be called from any thread (and is async-signal-safe).
#pragma once

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace scout {

// Chosen by what the caller (Airflow, an operator) should do next.
enum ExitCode : int {
  kExitOk = 0,             // Done (quarantined input included).
  kExitBackendFailed = 1,  // A backend failed: run it again.
  kExitBadUsage = 2,       // Flags or configuration are wrong: fix them first.
  kExitCheckFailed = 3,    // A data check failed: do not retry; look at the data.
};

// From now on SIGTERM and SIGINT set the flag StopRequested() reads, and
// nothing else: the process stops where it chooses to.
void InstallStopHandlers();

// True once SIGTERM or SIGINT arrived (after InstallStopHandlers).
bool StopRequested();

// Blocks until StopRequested(), then logs "draining" and calls
// drain(now + grace): in-flight work gets until then to finish.
void WaitThenDrain(absl::Duration grace, absl::FunctionRef<void(absl::Time deadline)> drain);

// Logs `message` as an error with the exit code; returns `code` for main
// to return.
int Exit(absl::string_view program, ExitCode code, absl::string_view message);

}  // namespace scout
