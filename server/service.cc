#include "server/service.h"

#include "absl/time/clock.h"

namespace scout::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

BrandServiceImpl::BrandServiceImpl(const PostSearch* search, ServiceOptions options)
    : search_(search), options_(options), pool_(options.backend_threads) {}

absl::Time BrandServiceImpl::BackendDeadline(const grpc::CallbackServerContext& context) const {
  const absl::Time cap = absl::Now() + options_.max_backend_time;
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(cap, client);
}

grpc::ServerUnaryReactor* BrandServiceImpl::SearchPosts(
    grpc::CallbackServerContext* context, const scout::v1::SearchPostsRequest* request,
    scout::v1::SearchPostsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time deadline = BackendDeadline(*context);
  pool_.Submit([this, reactor, request, response, deadline] {
    absl::StatusOr<scout::v1::SearchPostsResponse> result = search_->Search(*request, deadline);
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* BrandServiceImpl::GetUserProfile(
    grpc::CallbackServerContext* context, const scout::v1::GetUserProfileRequest*,
    scout::v1::UserProfile*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "GetUserProfile arrives with the profile work (scout-aggregate)"));
  return reactor;
}

grpc::ServerUnaryReactor* BrandServiceImpl::GetPalette(grpc::CallbackServerContext* context,
                                                       const scout::v1::GetPaletteRequest*,
                                                       scout::v1::Palette*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "GetPalette arrives with the palette work (scout-palette)"));
  return reactor;
}

}  // namespace scout::server
