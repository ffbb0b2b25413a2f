#include "common/base/clock.h"

namespace scout {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }

 private:
  const absl::Time now_;
};

}  // namespace

std::unique_ptr<Clock> NewRealClock() { return std::make_unique<RealClock>(); }
std::unique_ptr<Clock> NewFixedClock(absl::Time now) { return std::make_unique<FixedClock>(now); }

}  // namespace scout
