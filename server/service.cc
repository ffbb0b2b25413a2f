#include "server/service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace scout::server {

namespace {

constexpr int kDefaultRecentPosts = 12;
constexpr int kMaxRecentPosts = 50;
constexpr size_t kMaxUserIdLength = 32;

}  // namespace

BrandServiceImpl::BrandServiceImpl(const PostSearch* search, const CreatorSearch* creators,
                                   const ProfileStore* profiles, ServiceOptions options)
    : search_(search),
      creators_(creators),
      profiles_(profiles),
      options_(options),
      pool_(options.backend_threads, options.max_queued_calls) {
  SetMessageAllocatorFor_GetUserProfile(&profile_messages_);
}

grpc::ServerUnaryReactor* BrandServiceImpl::InPool(Rpc rpc,
                                                   absl::AnyInvocable<absl::Status() &&> work) {
  grpc::ServerUnaryReactor* const reactor = rpc.reactor();
  pool_.Submit([rpc = std::move(rpc), work = std::move(work)](absl::Status admitted) mutable {
    // A call whose client gave up while it waited is not worth a backend
    // call: skipping it is what lets an overloaded server catch up.
    if (admitted.ok() && rpc.cancelled()) {
      admitted = absl::CancelledError(
          "cancelled by the client (or its deadline passed) while waiting for a thread");
    }
    std::move(rpc).Finish(admitted.ok() ? std::move(work)() : admitted);
  });
  return reactor;
}

absl::StatusOr<const ProfileFacts*> BrandServiceImpl::FindProfile(
    const std::string& user_id, std::shared_ptr<const ProfileSnapshot>& snapshot) const {
  if (user_id.empty() || user_id.size() > kMaxUserIdLength ||
      user_id.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("user_id: want the creator's numeric Instagram id (1 to ", kMaxUserIdLength,
                     " digits), got \"", user_id.substr(0, 40), "\""));
  }
  if (profiles_ == nullptr) {
    return absl::FailedPreconditionError("profiles are off: the server has no --pg_dsn");
  }
  snapshot = profiles_->Current();
  const auto it = snapshot->profiles.find(user_id);
  if (it == snapshot->profiles.end()) {
    return absl::NotFoundError(absl::StrCat("no profile for creator ", user_id));
  }
  return &it->second;
}

absl::Time BrandServiceImpl::BackendDeadline(const grpc::CallbackServerContext& context) const {
  const absl::Time cap = absl::Now() + options_.max_backend_time;
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(cap, client);
}

grpc::ServerUnaryReactor* BrandServiceImpl::SearchPosts(
    grpc::CallbackServerContext* context, const scout::v1::SearchPostsRequest* request,
    scout::v1::SearchPostsResponse* response) {
  Rpc rpc(context, "SearchPosts", *request, options_.rpc);
  if (!rpc.admission().ok()) return std::move(rpc).Finish(rpc.admission());
  const absl::Time deadline = BackendDeadline(*context);
  return InPool(std::move(rpc), [this, request, response, deadline]() -> absl::Status {
    absl::StatusOr<scout::v1::SearchPostsResponse> result = search_->Search(*request, deadline);
    if (result.ok()) *response = *std::move(result);
    return result.status();
  });
}

grpc::ServerUnaryReactor* BrandServiceImpl::SearchCreators(
    grpc::CallbackServerContext* context, const scout::v1::SearchCreatorsRequest* request,
    scout::v1::SearchCreatorsResponse* response) {
  Rpc rpc(context, "SearchCreators", *request, options_.rpc);
  if (!rpc.admission().ok()) return std::move(rpc).Finish(rpc.admission());
  // Bad requests are answered here, without waiting for a backend thread.
  if (absl::Status valid = creators_->Validate(*request); !valid.ok()) {
    return std::move(rpc).Finish(valid);
  }
  const absl::Time deadline = BackendDeadline(*context);
  return InPool(std::move(rpc), [this, request, response, deadline]() -> absl::Status {
    absl::StatusOr<scout::v1::SearchCreatorsResponse> result =
        creators_->Search(*request, deadline);
    if (result.ok()) *response = *std::move(result);
    return result.status();
  });
}

grpc::ServerUnaryReactor* BrandServiceImpl::GetUserProfile(
    grpc::CallbackServerContext* context, const scout::v1::GetUserProfileRequest* request,
    scout::v1::UserProfile* response) {
  Rpc rpc(context, "GetUserProfile", *request, options_.rpc);
  if (!rpc.admission().ok()) return std::move(rpc).Finish(rpc.admission());
  const int recent = request->has_recent_posts() ? request->recent_posts() : kDefaultRecentPosts;
  if (recent < 0 || recent > kMaxRecentPosts) {
    return std::move(rpc).Finish(absl::InvalidArgumentError(
        absl::StrCat("recent_posts: 0 to ", kMaxRecentPosts, " (got ", recent, ")")));
  }
  std::shared_ptr<const ProfileSnapshot> snapshot;
  const absl::StatusOr<const ProfileFacts*> facts = FindProfile(request->user_id(), snapshot);
  if (!facts.ok()) return std::move(rpc).Finish(facts.status());
  (*facts)->ToProto(*response);  // On the call's arena (profile_messages_).
  if (recent == 0) return std::move(rpc).Finish(absl::OkStatus());  // All in memory: no pool hop.

  // The recent posts are an extra: a quarter of the caller's time stays
  // back, so a hung Elasticsearch costs them, not the whole profile.
  const absl::Time now = absl::Now();
  const absl::Time deadline = now + (BackendDeadline(*context) - now) * 3 / 4;
  return InPool(std::move(rpc), [this, response, recent, deadline]() -> absl::Status {
    scout::v1::SearchPostsRequest newest;
    newest.add_owner_ids(response->id());
    newest.set_sort(scout::v1::SORT_ORDER_RECENT);
    newest.set_page_size(recent);
    absl::StatusOr<scout::v1::SearchPostsResponse> posts = search_->Search(newest, deadline);
    if (posts.ok()) {
      // A copy onto the response's arena: microseconds beside the search.
      response->mutable_recent_posts()->Swap(posts->mutable_posts());
    } else {
      // The profile is still worth showing; say what is missing.
      response->set_recent_posts_error(posts.status().ToString());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BrandServiceImpl::GetPalette(grpc::CallbackServerContext* context,
                                                       const scout::v1::GetPaletteRequest* request,
                                                       scout::v1::Palette* response) {
  Rpc rpc(context, "GetPalette", *request, options_.rpc);
  if (!rpc.admission().ok()) return std::move(rpc).Finish(rpc.admission());
  std::shared_ptr<const ProfileSnapshot> snapshot;
  const absl::StatusOr<const ProfileFacts*> facts = FindProfile(request->user_id(), snapshot);
  if (!facts.ok()) return std::move(rpc).Finish(facts.status());
  std::optional<scout::v1::Palette> palette = (*facts)->palette();
  if (!palette) {
    return std::move(rpc).Finish(
        absl::NotFoundError(absl::StrCat("creator ", request->user_id(), " has no palette yet")));
  }
  *response = *std::move(palette);
  return std::move(rpc).Finish(absl::OkStatus());
}

}  // namespace scout::server
