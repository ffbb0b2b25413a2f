// Clock: the one source of "now" for business logic, so tests and `--now`
// can pin time. Implementations are thread-safe.
#pragma once

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace scout {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time.
std::unique_ptr<Clock> NewRealClock();
// Always `now`: reproducible runs and tests.
std::unique_ptr<Clock> NewFixedClock(absl::Time now);

}  // namespace scout
