// ScoutServer: wires configuration into a running gRPC server (BrandService,
// server reflection, grpc.health.v1). Used by main.cc and by tests, which
// listen on port 0 and read the chosen port back. Start once; Shutdown is
// safe from any thread.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/elastic.h"
#include "common/http.h"
#include "scout/v1/config.pb.h"
#include "server/profiles.h"
#include "server/search.h"
#include "server/service.h"

namespace scout::server {

class ScoutServer {
 public:
  // Listens on config.listen() ("127.0.0.1:0" picks a free port).
  // With config.pg_dsn() set, profiles are loaded (if the warehouse is down,
  // the server starts anyway and keeps trying every `profile_poll`).
  static absl::StatusOr<std::unique_ptr<ScoutServer>> Start(
      const scout::v1::Config& config, ServiceOptions options = {},
      absl::Duration profile_poll = absl::Seconds(2));

  const ProfileStore* profiles() const { return profiles_.get(); }
  ~ScoutServer();

  int port() const { return port_; }
  void Wait() { server_->Wait(); }
  // Stops taking RPCs and lets in-flight ones finish until `deadline`.
  void Shutdown(absl::Time deadline);

 private:
  ScoutServer() = default;

  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Elastic> elastic_;
  std::unique_ptr<PostSearch> search_;
  std::unique_ptr<ProfileStore> profiles_;
  std::unique_ptr<BrandServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace scout::server
