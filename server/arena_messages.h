// ArenaMessages: a gRPC callback-API MessageAllocator that puts each call's
// request and response on a protobuf arena whose first block is part of the
// call's one allocation. For answers made of many small messages
// (GetUserProfile's 90 DailyStat, each with its date string), building and
// freeing them was a third of the handler's CPU in malloc and free; on the
// arena it is a pointer bump, and the whole answer goes at once. Messages
// moved in from the heap are copied (protobuf swaps only within an arena).
// Thread-safe: it holds no state.
#pragma once

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace scout::server {

template <typename Request, typename Response, size_t kFirstBlockBytes = 8192>
class ArenaMessages final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder; }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(first_block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kFirstBlockBytes;
      return options;
    }
    // Before arena_, which uses it and is destroyed first.
    alignas(16) char first_block_[kFirstBlockBytes];
    google::protobuf::Arena arena_;
  };
};

}  // namespace scout::server
