// Rpc: one unary BrandService call from admission to its single Finish.
// Admission checks the API key and the request size; Finish answers the
// client, counts the call (scout_rpc_requests_total, scout_rpc_duration_seconds)
// and logs it as one JSON line carrying the request id, which the client
// gets back as `x-request-id` metadata (or chose itself by sending one).
// Move-only, and Finish consumes it (std::move(rpc).Finish(status)): a
// handler moves it into the backend pool's task, so exactly one owner can
// answer. One that is destroyed unanswered answers INTERNAL (our bug) rather
// than leaving the client waiting for its deadline. Use from one thread at a
// time.
#pragma once

#include <cstddef>
#include <string>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/api_keys.h"

namespace scout::server {

inline constexpr size_t kDefaultMaxRequestBytes = 64 * 1024;

struct RpcPolicy {
  const ApiKeys* api_keys = nullptr;  // Null: no key needed (loopback development).
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  bool log_requests = true;  // Errors are logged either way.
};

class Rpc {
 public:
  Rpc(grpc::CallbackServerContext* context, const char* method,
      const google::protobuf::Message& request, const RpcPolicy& policy);
  Rpc(Rpc&& other) noexcept;
  Rpc& operator=(Rpc&&) = delete;
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;
  ~Rpc();

  // OK, or why the call may not go on: UNAUTHENTICATED, or
  // INVALID_ARGUMENT naming max_request_bytes.
  const absl::Status& admission() const { return admission_; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }
  const std::string& request_id() const { return request_id_; }

  // Whether the client cancelled the call or its deadline passed.
  bool cancelled() const { return context_->IsCancelled(); }

  // Answers with `status`, counts and logs; returns the call's reactor for
  // the handler to return.
  grpc::ServerUnaryReactor* Finish(const absl::Status& status) &&;

 private:
  grpc::CallbackServerContext* context_;
  grpc::ServerUnaryReactor* reactor_;  // Null once answered or moved from.
  const char* method_;
  const RpcPolicy* policy_;
  absl::Time start_;
  std::string request_id_;
  std::string client_;  // The API key's name, when keys are on.
  absl::Status admission_;
};

}  // namespace scout::server
