#include "common/backends/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/backends/metrics.h"

namespace scout {
namespace {

std::string Stage(const std::string& label) { return label.substr(0, label.find(' ')); }

prometheus::Counter& DoneMetric(const std::string& label) {
  static auto& family = prometheus::BuildCounter()
                            .Name("scout_worker_items_done_total")
                            .Help("Items a worker stage has finished (files, creators, ...)")
                            .Register(Metrics());
  return family.Add({{"stage", Stage(label)}});
}

prometheus::Gauge& ExpectedMetric(const std::string& label) {
  static auto& family = prometheus::BuildGauge()
                            .Name("scout_worker_items_expected")
                            .Help("Items the current run of a worker stage has to do (0: unknown)")
                            .Register(Metrics());
  return family.Add({{"stage", Stage(label)}});
}

}  // namespace

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      enabled_(isatty(STDERR_FILENO) == 1),
      done_metric_(DoneMetric(label_)),
      expected_metric_(ExpectedMetric(label_)),
      start_(absl::Now()),
      total_(total),
      last_draw_(absl::InfinitePast()) {
  expected_metric_.Set(static_cast<double>(total));
}

Progress::~Progress() {
  if (enabled_) Draw(true);
}

void Progress::SetTotal(int64_t total) {
  total_.store(total);
  expected_metric_.Set(static_cast<double>(total));
}

void Progress::Add(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  done_metric_.Increment(static_cast<double>(n));
  if (!enabled_) return;
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < absl::Milliseconds(200)) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Draw(bool final) {
  const int64_t done = done_.load();
  const int64_t total = total_.load();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
  const double rate = seconds > 0 ? done / seconds : 0;
  if (total > 0) {
    std::fprintf(stderr, "\r%s: %lld/%lld (%.0f%%) %.0f/s   ", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), 100.0 * done / total,
                 rate);
  } else {
    std::fprintf(stderr, "\r%s: %lld %.0f/s   ", label_.c_str(), static_cast<long long>(done),
                 rate);
  }
  if (final) std::fputc('\n', stderr);
}

}  // namespace scout
