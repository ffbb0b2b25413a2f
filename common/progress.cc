#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace scout {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      enabled_(isatty(STDERR_FILENO) == 1),
      start_(absl::Now()),
      total_(total),
      last_draw_(absl::InfinitePast()) {}

Progress::~Progress() {
  if (enabled_) Draw(true);
}

void Progress::Add(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
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
                 static_cast<long long>(done), static_cast<long long>(total),
                 100.0 * done / total, rate);
  } else {
    std::fprintf(stderr, "\r%s: %lld %.0f/s   ", label_.c_str(), static_cast<long long>(done),
                 rate);
  }
  if (final) std::fputc('\n', stderr);
}

}  // namespace scout
