// Progress: a one-line progress display on stderr for long jobs, shown only
// when stderr is a terminal (Airflow logs stay clean). Thread-safe: Add may
// be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace scout {

class Progress {
 public:
  // `total` 0 means unknown.
  Progress(std::string label, int64_t total);
  ~Progress();  // Ends the line.

  void Add(int64_t n = 1);
  void SetTotal(int64_t total) { total_.store(total); }

 private:
  void Draw(bool final);

  const std::string label_;
  const bool enabled_;
  const absl::Time start_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> total_;
  std::mutex mu_;
  absl::Time last_draw_;
};

}  // namespace scout
