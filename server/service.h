// BrandService over gRPC's callback API. Every call goes through an Rpc
// (API key, size limit, request id, metrics, log line; absl::Status becomes
// grpc::Status there and nowhere else). Handlers hand blocking backend work
// to a thread pool and finish from there, so gRPC's own threads never wait
// on Elasticsearch. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "common/base/thread_pool.h"
#include "scout/v1/service.grpc.pb.h"
#include "server/arena_messages.h"
#include "server/creators.h"
#include "server/profiles.h"
#include "server/rpc.h"
#include "server/search.h"

namespace scout::server {

struct ServiceOptions {
  // Upper bound on a backend call when the client set no (or a longer)
  // deadline.
  absl::Duration max_backend_time = absl::Seconds(10);
  int backend_threads = 16;
  // Calls waiting for a backend thread; more get RESOURCE_EXHAUSTED at once.
  size_t max_queued_calls = 256;
  RpcPolicy rpc;  // API keys and request limits.
};

class BrandServiceImpl final : public scout::v1::BrandService::CallbackService {
 public:
  // `profiles` may be null (no warehouse configured): profile calls then
  // answer FAILED_PRECONDITION.
  BrandServiceImpl(const PostSearch* search, const CreatorSearch* creators,
                   const ProfileStore* profiles, ServiceOptions options);

  grpc::ServerUnaryReactor* SearchPosts(grpc::CallbackServerContext* context,
                                        const scout::v1::SearchPostsRequest* request,
                                        scout::v1::SearchPostsResponse* response) override;
  grpc::ServerUnaryReactor* SearchCreators(grpc::CallbackServerContext* context,
                                           const scout::v1::SearchCreatorsRequest* request,
                                           scout::v1::SearchCreatorsResponse* response) override;
  grpc::ServerUnaryReactor* GetUserProfile(grpc::CallbackServerContext* context,
                                           const scout::v1::GetUserProfileRequest* request,
                                           scout::v1::UserProfile* response) override;
  grpc::ServerUnaryReactor* GetPalette(grpc::CallbackServerContext* context,
                                       const scout::v1::GetPaletteRequest* request,
                                       scout::v1::Palette* response) override;

 private:
  // Runs `work` on the backend pool and answers with what it returns; or
  // RESOURCE_EXHAUSTED when the pool's queue is full, or CANCELLED when the
  // client gave up while the call waited. Returns the reactor to return.
  grpc::ServerUnaryReactor* InPool(Rpc rpc, absl::AnyInvocable<absl::Status() &&> work);

  absl::Time BackendDeadline(const grpc::CallbackServerContext& context) const;

  // The creator's facts, or INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION.
  absl::StatusOr<const ProfileFacts*> FindProfile(
      const std::string& user_id, std::shared_ptr<const ProfileSnapshot>& snapshot) const;

  const PostSearch* const search_;
  const CreatorSearch* const creators_;
  const ProfileStore* const profiles_;
  const ServiceOptions options_;
  // Registered in the constructor; outlives every call (the server has
  // stopped before the service goes).
  ArenaMessages<scout::v1::GetUserProfileRequest, scout::v1::UserProfile> profile_messages_;
  ThreadPool pool_;  // Last: joined before the members its tasks use go.
};

}  // namespace scout::server
