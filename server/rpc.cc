#include "server/rpc.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/backends/metrics.h"
#include "common/base/log.h"

namespace scout::server {
namespace {

constexpr size_t kMaxRequestIdLength = 64;

struct RpcFamilies {
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("scout_rpc_requests_total")
          .Help("BrandService calls by method and status code")
          .Register(Metrics());
  prometheus::Family<prometheus::Histogram>& seconds =
      prometheus::BuildHistogram()
          .Name("scout_rpc_duration_seconds")
          .Help("BrandService call latency, admission to answer, by method")
          .Register(Metrics());
};

RpcFamilies& Families() {
  static auto* families = new RpcFamilies();
  return *families;
}

// Clients may name their own request ids (to follow one across systems);
// anything that would garble a log line is replaced by ours.
bool UsableRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string NewRequestId() {
  thread_local absl::BitGen bits;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(bits));
}

absl::string_view Metadata(const grpc::CallbackServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(key);
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

// The one absl::Status -> grpc::Status conversion; the code numbering is
// the same in both.
grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace

Rpc::Rpc(grpc::CallbackServerContext* context, const char* method,
         const google::protobuf::Message& request, const RpcPolicy& policy)
    : context_(context),
      reactor_(context->DefaultReactor()),
      method_(method),
      policy_(&policy),
      start_(absl::Now()) {
  const absl::string_view asked = Metadata(*context, "x-request-id");
  request_id_ = UsableRequestId(asked) ? std::string(asked) : NewRequestId();
  context->AddInitialMetadata("x-request-id", request_id_);

  if (policy.api_keys != nullptr) {
    absl::StatusOr<std::string> client =
        policy.api_keys->Check(Metadata(*context, "authorization"));
    if (!client.ok()) {
      admission_ = client.status();
      return;
    }
    client_ = *std::move(client);
  }
  if (const size_t bytes = request.ByteSizeLong(); bytes > policy.max_request_bytes) {
    admission_ = absl::InvalidArgumentError(
        absl::StrCat("request is ", bytes, " bytes; the limit (max_request_bytes) is ",
                     policy.max_request_bytes));
  }
}

Rpc::Rpc(Rpc&& other) noexcept
    : context_(other.context_),
      reactor_(std::exchange(other.reactor_, nullptr)),
      method_(other.method_),
      policy_(other.policy_),
      start_(other.start_),
      request_id_(std::move(other.request_id_)),
      client_(std::move(other.client_)),
      admission_(std::move(other.admission_)) {}

Rpc::~Rpc() {
  if (reactor_ != nullptr) {
    std::move(*this).Finish(absl::InternalError("the server dropped the call without answering"));
  }
}

grpc::ServerUnaryReactor* Rpc::Finish(const absl::Status& status) && {
  const absl::Duration took = absl::Now() - start_;
  const bool log = policy_->log_requests || !status.ok();
  // The context may be gone once the reactor is finished: read it first.
  const std::string peer = log ? context_->peer() : std::string();
  // Counted before the answer leaves, so a client that scrapes /metrics after
  // its call returned always sees the call.
  RpcFamilies& families = Families();
  const std::string code = absl::StatusCodeToString(status.code());
  families.requests.Add({{"method", method_}, {"code", code}}).Increment();
  families.seconds.Add({{"method", method_}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
  grpc::ServerUnaryReactor* const reactor = std::exchange(reactor_, nullptr);
  reactor->Finish(ToGrpcStatus(status));

  if (log) {
    nlohmann::ordered_json fields = {{"request_id", request_id_},
                                     {"method", method_},
                                     {"code", code},
                                     {"ms", absl::ToDoubleMilliseconds(took)},
                                     {"peer", peer}};
    if (!client_.empty()) fields["client"] = client_;
    if (!status.ok()) fields["error"] = std::string(status.message());
    const bool ours = status.code() == absl::StatusCode::kInternal ||
                      status.code() == absl::StatusCode::kUnavailable ||
                      status.code() == absl::StatusCode::kDeadlineExceeded;
    Log(ours ? LogLevel::kWarning : LogLevel::kInfo, "rpc", fields);
  }
  return reactor;
}

}  // namespace scout::server
