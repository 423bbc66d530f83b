#include "common/clock.h"

#include <climits>

#include "gtest/gtest.h"

namespace foobar {
namespace {

TEST(MonotonicNanos, NeverGoesBack) {
  const int64_t a = MonotonicNanos();
  const int64_t b = MonotonicNanos();
  EXPECT_GT(a, 0);
  EXPECT_GE(b, a);
}

TEST(MillisUntil, RoundsUpAndStopsAtZero) {
  EXPECT_EQ(MillisUntil(100, 200), 0);
  EXPECT_EQ(MillisUntil(200, 200), 0);
  EXPECT_EQ(MillisUntil(201, 200), 1);
  EXPECT_EQ(MillisUntil(200 + kNanosPerMilli, 200), 1);
  EXPECT_EQ(MillisUntil(200 + kNanosPerMilli + 1, 200), 2);
  EXPECT_EQ(MillisUntil(INT64_MAX, 0), INT_MAX);
}

}  // namespace
}  // namespace foobar
