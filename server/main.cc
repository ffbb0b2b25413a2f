// scout-server: the BrandService gRPC server. Shared settings come from
// SCOUT_* environment variables and flags (see --help); the flags below are
// the server's own. On SIGINT or SIGTERM it drains: health turns
// NOT_SERVING, new calls are refused, calls in flight get --drain_seconds
// to finish, then it exits 0.
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/config.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/process.h"
#include "server/server.h"

ABSL_FLAG(std::string, api_keys, "",
          "file of SHA-256 hashes of the API keys allowed in (reread when it changes); "
          "required unless listening on loopback");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; with --tls_key, serve TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(bool, allow_plaintext, false,
          "allow plaintext on a non-loopback address (when a proxy terminates TLS)");
ABSL_FLAG(std::string, reflection, "auto",
          "serve gRPC reflection (for grpcurl): true, false, or auto: on without --api_keys, "
          "off with them, since reflection cannot check a key");
ABSL_FLAG(int64_t, max_request_bytes, scout::server::kDefaultMaxRequestBytes,
          "larger requests get INVALID_ARGUMENT");
ABSL_FLAG(bool, log_requests, true, "log every call (errors are logged regardless)");
ABSL_FLAG(int64_t, max_queued_calls, 256,
          "calls that may wait for a backend thread; more get RESOURCE_EXHAUSTED at once");
ABSL_FLAG(int, drain_seconds, 10, "on SIGTERM, how long calls in flight may take to finish");

int main(int argc, char** argv) {
  constexpr char kProgram[] = "scout-server";
  scout::SetLogProgram(kProgram);
  absl::SetProgramUsageMessage(
      "Serves scout.v1.BrandService.\nUsage: scout-server [--listen HOST:PORT] [--es_url URL] "
      "[--api_keys FILE] [--tls_cert PEM --tls_key PEM] [--metrics_listen HOST:PORT]");
  scout::ParseFlags(argc, argv);
  absl::StatusOr<scout::v1::Config> config = scout::LoadConfig();
  if (!config.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, config.status().message());
  if (absl::GetFlag(FLAGS_max_request_bytes) <= 0) {
    return scout::Exit(kProgram, scout::kExitBadUsage, "--max_request_bytes must be positive");
  }

  scout::server::ServerOptions options;
  options.api_keys_file = absl::GetFlag(FLAGS_api_keys);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.allow_plaintext = absl::GetFlag(FLAGS_allow_plaintext);
  // "auto" is the library's own default (see ServerOptions::reflection).
  if (const std::string reflection = absl::GetFlag(FLAGS_reflection); reflection != "auto") {
    bool on = false;
    if (!absl::SimpleAtob(reflection, &on)) {
      return scout::Exit(
          kProgram, scout::kExitBadUsage,
          absl::StrCat("--reflection: true, false or auto, not \"", reflection, "\""));
    }
    options.reflection = on;
  }
  options.service.rpc.max_request_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_request_bytes));
  options.service.rpc.log_requests = absl::GetFlag(FLAGS_log_requests);
  if (absl::GetFlag(FLAGS_max_queued_calls) < 0) {
    return scout::Exit(kProgram, scout::kExitBadUsage, "--max_queued_calls must not be negative");
  }
  options.service.max_queued_calls = static_cast<size_t>(absl::GetFlag(FLAGS_max_queued_calls));
  absl::StatusOr<std::unique_ptr<scout::server::ScoutServer>> server =
      scout::server::ScoutServer::Start(*config, options);
  if (!server.ok()) {
    const bool usage = absl::IsInvalidArgument(server.status());
    return scout::Exit(kProgram, usage ? scout::kExitBadUsage : scout::kExitBackendFailed,
                       server.status().message());
  }
  const std::string host = config->listen().substr(0, config->listen().rfind(':'));
  nlohmann::ordered_json fields = {{"address", absl::StrCat(host, ":", (*server)->port())},
                                   {"tls", !options.tls_cert_file.empty()},
                                   {"api_keys", !options.api_keys_file.empty()}};
  if ((*server)->metrics_port() != 0) {
    const std::string& metrics = config->metrics_listen();
    fields["metrics"] =
        absl::StrCat(metrics.substr(0, metrics.rfind(':')), ":", (*server)->metrics_port());
  }
  // The message carries the address too, for people and scripts that grep.
  scout::Log(scout::LogLevel::kInfo,
             absl::StrCat("listening on ", fields["address"].get<std::string>()), fields);

  scout::InstallStopHandlers();
  scout::WaitThenDrain(absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)),
                       [&](absl::Time deadline) { (*server)->Shutdown(deadline); });
  return scout::kExitOk;
}
