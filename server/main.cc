// scout-server: the BrandService gRPC server. Configuration from SCOUT_*
// environment variables and flags (see --help); stops cleanly on SIGINT or
// SIGTERM, letting in-flight RPCs finish.
#include <csignal>
#include <iostream>

#include "common/flags.h"
#include "absl/flags/usage.h"
#include "common/config.h"
#include "server/server.h"

namespace {

std::atomic<bool> g_stop{false};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves scout.v1.BrandService.\nUsage: scout-server [--listen HOST:PORT] [--es_url URL]");
  scout::ParseFlags(argc, argv);
  absl::StatusOr<scout::v1::Config> config = scout::LoadConfig();
  if (!config.ok()) {
    std::cerr << "scout-server: " << config.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<scout::server::ScoutServer>> server =
      scout::server::ScoutServer::Start(*config);
  if (!server.ok()) {
    std::cerr << "scout-server: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "scout-server: listening on " << config->listen().substr(0, config->listen().rfind(':'))
            << ":" << (*server)->port() << "\n";

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) absl::SleepFor(absl::Milliseconds(100));
  std::cerr << "scout-server: stopping\n";
  (*server)->Shutdown(absl::Now() + absl::Seconds(10));
  return 0;
}
