// common/clock.h: the monotonic clock as integer nanoseconds, the unit
// foobard's event loop and foobar's benchmark keep their deadlines in.
//
// Example:
//   // Nothing here can fail: CLOCK_MONOTONIC always exists on Linux.
//   const int64_t deadline_ns =
//       foobar::MonotonicNanos() + 5 * foobar::kNanosPerSecond;
//   int timeout_ms =
//       foobar::MillisUntil(deadline_ns, foobar::MonotonicNanos());
//   // poll(fds, n, timeout_ms): 0 once the deadline has passed
#ifndef COMMON_CLOCK_H_
#define COMMON_CLOCK_H_

#include <cstdint>

namespace foobar {

inline constexpr int64_t kNanosPerMilli = 1000 * 1000;
inline constexpr int64_t kNanosPerSecond = 1000 * kNanosPerMilli;

// MonotonicNanos is clock_gettime(CLOCK_MONOTONIC) in nanoseconds: it never
// goes back and does not count time suspended. It cannot fail on Linux
// (CLOCK_MONOTONIC always exists and the pointer is valid).
int64_t MonotonicNanos();

// MillisUntil is how many whole milliseconds, rounded up, from `now_ns` to
// `deadline_ns`: 0 once the deadline has passed, capped at INT32_MAX. The
// unit of poll(2)'s and epoll_wait(2)'s timeout.
int MillisUntil(int64_t deadline_ns, int64_t now_ns);

}  // namespace foobar

#endif  // COMMON_CLOCK_H_
