// ScoutServer: wires configuration into a running gRPC server (BrandService,
// grpc.health.v1, optionally server reflection and a Prometheus endpoint).
// Used by main.cc and by tests, which listen on port 0 and read the chosen
// port back. Start once; Shutdown is safe from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/backends/elastic.h"
#include "common/backends/http.h"
#include "common/backends/metrics.h"
#include "common/base/clock.h"
#include "scout/v1/config.pb.h"
#include "server/api_keys.h"
#include "server/profiles.h"
#include "server/search.h"
#include "server/service.h"

namespace scout::server {

struct ServerOptions {
  // A file of API key hashes (see api_keys.h); empty: no keys needed, which
  // is allowed on loopback only.
  std::string api_keys_file;
  // PEM files; both or neither. Without them the server speaks plaintext,
  // which is allowed on loopback only unless `allow_plaintext` says so
  // (say, behind a TLS-terminating proxy on a private network).
  std::string tls_cert_file, tls_key_file;
  // How often the PEM files are checked for a renewed certificate (new
  // connections get it; no restart).
  absl::Duration tls_reload = absl::Seconds(10);
  bool allow_plaintext = false;
  // gRPC reflection (for grpcurl). Unset: on only without API keys, since
  // reflection cannot check a key and would describe the API to anyone.
  std::optional<bool> reflection;
  ServiceOptions service;
  absl::Duration profile_poll = absl::Seconds(2);
  // How often the palette index looks for changes of the creators index (a
  // change is loaded once it has held still for one interval).
  absl::Duration palette_poll = absl::Seconds(5);
  // Load every palette for palette search (palette_index.h); without it,
  // palette and lookalike searches are UNAVAILABLE. Off only where
  // Elasticsearch is a test double that counts its connections.
  bool palette_index = true;
};

class ScoutServer {
 public:
  // Listens on config.listen() ("127.0.0.1:0" picks a free port), and
  // serves /metrics on config.metrics_listen() if set.
  // With config.pg_dsn() set, profiles are loaded (if the warehouse is down,
  // the server starts anyway and keeps trying every `profile_poll`).
  static absl::StatusOr<std::unique_ptr<ScoutServer>> Start(const scout::v1::Config& config,
                                                            ServerOptions options = {});

  const ProfileStore* profiles() const { return profiles_.get(); }
  ~ScoutServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }
  // Stops taking RPCs (health turns NOT_SERVING first, so load balancers
  // move away) and lets in-flight ones finish until `deadline`.
  void Shutdown(absl::Time deadline);

 private:
  ScoutServer() = default;

  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Elastic> elastic_;
  std::unique_ptr<PostSearch> search_;
  std::unique_ptr<PaletteIndexLoader> palettes_;
  std::unique_ptr<CreatorSearch> creators_;
  std::unique_ptr<ProfileStore> profiles_;
  std::unique_ptr<ApiKeys> api_keys_;
  std::unique_ptr<BrandServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsEndpoint> metrics_;
  int port_ = 0;
};

// Whether `listen` (host:port) binds to loopback only: an IPv4 address in
// 127.0.0.0/8, [::1], or the name "localhost". Any other name is not, even
// one that looks like it ("127.evil.example"): names resolve elsewhere.
bool IsLoopback(absl::string_view listen);

}  // namespace scout::server
