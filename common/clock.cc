// common/clock.cc: see clock.h.
#include "common/clock.h"

#include <time.h>

#include <algorithm>
#include <climits>

namespace foobar {

int64_t MonotonicNanos() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

int MillisUntil(int64_t deadline_ns, int64_t now_ns) {
  const int64_t wait = deadline_ns - now_ns;
  if (wait <= 0) return 0;
  // Rounded up without adding first: wait + kNanosPerMilli - 1 would
  // overflow for a far deadline.
  const int64_t ms = wait / kNanosPerMilli + (wait % kNanosPerMilli != 0);
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

}  // namespace foobar
