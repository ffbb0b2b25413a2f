#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/io/files.h"
#include "grpc/health/v1/health.pb.h"

namespace scout::server {
namespace {

// gRPC's own cap on an incoming message; anything under it but over
// RpcPolicy::max_request_bytes gets an INVALID_ARGUMENT naming that limit.
constexpr int kMaxTransportMessageBytes = 4 * 1024 * 1024;

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const scout::v1::Config& config, const ServerOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty(), has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!has_cert) {
    if (!IsLoopback(config.listen()) && !options.allow_plaintext) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refusing plaintext on ", config.listen(),
          ": give --tls_cert and --tls_key, or --allow_plaintext if a proxy terminates TLS"));
    }
    return grpc::InsecureServerCredentials();
  }
  // Read once here only to fail at start with a clear message; gRPC's file
  // watcher then rereads both files, so renewed certificates are served
  // without a restart.
  for (const auto& [flag, path] : {std::pair{"--tls_cert", options.tls_cert_file},
                                   std::pair{"--tls_key", options.tls_key_file}}) {
    absl::StatusOr<std::string> pem = ReadFile(path);
    if (!pem.ok())
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", pem.status().message()));
    if (!absl::StrContains(*pem, "-----BEGIN ")) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " is not PEM"));
    }
  }
  auto certificates = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.tls_key_file, options.tls_cert_file,
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(options.tls_reload))));
  grpc::experimental::TlsServerCredentialsOptions tls(certificates);
  tls.watch_identity_key_cert_pairs();
  return grpc::experimental::TlsServerCredentials(tls);
}

// Server reflection registers itself for every server in the process; this
// takes it out of one builder's plugins.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
      return dynamic_cast<grpc::reflection::ProtoServerReflectionPlugin*>(plugin.get()) != nullptr;
    });
  }
};

}  // namespace

bool IsLoopback(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const std::string host(listen.substr(0, colon));
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&v6);
  }
  // inet_pton takes dotted quads only: no names, no "127.1" shorthands.
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

absl::StatusOr<std::unique_ptr<ScoutServer>> ScoutServer::Start(const scout::v1::Config& config,
                                                                ServerOptions options) {
  if (config.es_url().empty()) {
    return absl::InvalidArgumentError("--es_url / SCOUT_ES_URL is required");
  }
  SCOUT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                         Credentials(config, options));
  std::unique_ptr<ScoutServer> server(new ScoutServer());
  if (!options.api_keys_file.empty()) {
    SCOUT_ASSIGN_OR_RETURN(server->api_keys_, ApiKeys::Load(options.api_keys_file));
    options.service.rpc.api_keys = server->api_keys_.get();
  } else if (!IsLoopback(config.listen())) {
    return absl::InvalidArgumentError(absl::StrCat("refusing to serve ", config.listen(),
                                                   " to anyone without keys: give --api_keys"));
  }
  if (!config.metrics_listen().empty()) {
    SCOUT_ASSIGN_OR_RETURN(server->metrics_, MetricsEndpoint::Start(config.metrics_listen()));
  }

  server->http_ = NewMeteredHttpClient(NewCurlHttpClient(), "elasticsearch");
  server->clock_ = MakeClock(config);
  server->elastic_ = std::make_unique<Elastic>(server->http_.get(), config.es_url());
  server->search_ = std::make_unique<PostSearch>(server->elastic_.get(), server->clock_.get(),
                                                 config.index_prefix());
  if (!config.pg_dsn().empty()) {
    server->profiles_ = std::make_unique<ProfileStore>(
        [dsn = config.pg_dsn()] { return Warehouse::Connect(dsn); }, options.profile_poll);
    if (absl::Status loaded = server->profiles_->Refresh(); !loaded.ok()) {
      Log(LogLevel::kWarning, "no profiles yet; retrying in the background",
          {{"error", loaded.ToString()}});
    }
    server->profiles_->Start();
  }
  if (options.palette_index) {
    server->palettes_ = std::make_unique<PaletteIndexLoader>(
        server->elastic_.get(), CreatorsAlias(config.index_prefix()), options.palette_poll);
    if (absl::Status loaded = server->palettes_->Refresh(); !loaded.ok()) {
      Log(LogLevel::kWarning, "no palette index yet; retrying in the background",
          {{"error", loaded.ToString()}});
    }
    server->palettes_->Start();
  }
  server->creators_ = std::make_unique<CreatorSearch>(
      server->elastic_.get(), server->clock_.get(), CreatorsAlias(config.index_prefix()),
      server->profiles_.get(), server->palettes_.get());
  server->service_ = std::make_unique<BrandServiceImpl>(
      server->search_.get(), server->creators_.get(), server->profiles_.get(), options.service);

  grpc::EnableDefaultHealthCheckService(true);
  // Referencing the health protocol links its descriptor in, so reflection
  // can describe grpc.health.v1 to grpcurl.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options.reflection.value_or(options.api_keys_file.empty())) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  builder.AddListeningPort(config.listen(), credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(kMaxTransportMessageBytes);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen()));
  }
  return server;
}

ScoutServer::~ScoutServer() {
  if (server_ != nullptr) Shutdown(absl::Now());
}

void ScoutServer::Shutdown(absl::Time deadline) {
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->Shutdown();
  }
  server_->Shutdown(absl::ToChronoTime(deadline));
}

}  // namespace scout::server
