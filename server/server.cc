#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "common/config.h"

namespace scout::server {

absl::StatusOr<std::unique_ptr<ScoutServer>> ScoutServer::Start(const scout::v1::Config& config,
                                                                ServiceOptions options,
                                                                absl::Duration profile_poll) {
  if (config.es_url().empty()) {
    return absl::InvalidArgumentError("--es_url / SCOUT_ES_URL is required");
  }
  std::unique_ptr<ScoutServer> server(new ScoutServer());
  server->http_ = NewCurlHttpClient();
  server->clock_ = MakeClock(config);
  server->elastic_ = std::make_unique<Elastic>(server->http_.get(), config.es_url());
  server->search_ = std::make_unique<PostSearch>(server->elastic_.get(), server->clock_.get(),
                                                 config.index_prefix());
  if (!config.pg_dsn().empty()) {
    server->profiles_ = std::make_unique<ProfileStore>(
        [dsn = config.pg_dsn()] { return Warehouse::Connect(dsn); }, profile_poll);
    if (absl::Status loaded = server->profiles_->Refresh(); !loaded.ok()) {
      std::fprintf(stderr, "scout-server: no profiles yet (%s); retrying in the background\n",
                   loaded.ToString().c_str());
    }
    server->profiles_->Start();
  }
  server->service_ = std::make_unique<BrandServiceImpl>(server->search_.get(),
                                                        server->profiles_.get(), options);

  // Referencing the health protocol links its descriptor in, so reflection
  // can describe grpc.health.v1 to grpcurl.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen(), grpc::InsecureServerCredentials(), &server->port_);
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
  server_->Shutdown(absl::ToChronoTime(deadline));
}

}  // namespace scout::server
