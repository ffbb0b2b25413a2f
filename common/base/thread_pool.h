// ThreadPool: a fixed set of threads draining a bounded FIFO of tasks. The
// server runs blocking backend calls here so gRPC's callback threads never
// block. Every task runs exactly once: on a pool thread with OK, or at once
// on the submitting thread with RESOURCE_EXHAUSTED when `max_queued` tasks
// already wait (an overloaded server answers now instead of letting calls
// time out in a queue nobody drains fast enough). Tasks are move-only, so
// they may own what must be used once (a call to answer).
// Thread-safe; the destructor runs the queued tasks, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace scout {

class ThreadPool {
 public:
  using Task = absl::AnyInvocable<void(absl::Status admitted) &&>;

  ThreadPool(int threads, size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Drain(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(Task task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.size() < max_queued_) {
        tasks_.push_back(std::move(task));
        task = nullptr;
      }
    }
    if (task == nullptr) {
      ready_.notify_one();
      return;
    }
    std::move(task)(absl::ResourceExhaustedError(
        absl::StrCat("the server is overloaded: ", max_queued_,
                     " calls already wait for a thread; retry later")));
  }

 private:
  void Drain() {
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      std::move(task)(absl::OkStatus());
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace scout
