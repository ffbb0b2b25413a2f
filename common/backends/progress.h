// Progress: a one-line progress display on stderr for long jobs, shown only
// when stderr is a terminal (Airflow logs stay clean), and the same counts
// as Prometheus metrics (scout_worker_items_done_total /
// scout_worker_items_expected, by stage: the label's first word).
// Thread-safe: Add may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace scout {

class Progress {
 public:
  // `total` 0 means unknown.
  Progress(std::string label, int64_t total);
  ~Progress();  // Ends the line.

  void Add(int64_t n = 1);
  void SetTotal(int64_t total);

 private:
  void Draw(bool final);

  const std::string label_;
  const bool enabled_;
  prometheus::Counter& done_metric_;
  prometheus::Gauge& expected_metric_;
  const absl::Time start_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> total_;
  std::mutex mu_;
  absl::Time last_draw_;
};

}  // namespace scout
