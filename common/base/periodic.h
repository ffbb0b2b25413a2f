// Periodic: calls a function every `interval` on its own thread until
// destroyed (snapshot polling, key-file reloads). The destructor wakes the
// thread at once and joins it; a call in progress finishes first.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace scout {

class Periodic {
 public:
  Periodic(absl::Duration interval, std::function<void()> task)
      : thread_([this, interval, task = std::move(task)] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!stop_cv_.wait_for(lock, absl::ToChronoMilliseconds(interval),
                                    [this] { return stopping_; })) {
            lock.unlock();
            task();
            lock.lock();
          }
        }) {}

  ~Periodic() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    thread_.join();
  }

  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;  // Last: started once the members above exist.
};

}  // namespace scout
