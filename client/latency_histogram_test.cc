#include "client/latency_histogram.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace foobar::client {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.50), 50u);
  EXPECT_EQ(h.Percentile(0.99), 99u);
  EXPECT_EQ(h.Percentile(1.0), 100u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithinOneSixtyFourth) {
  for (int b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
    ASSERT_EQ(LatencyHistogram::BucketHigh(b) + 1,
              LatencyHistogram::BucketLow(b + 1))
        << "bucket " << b;
    const uint64_t low = LatencyHistogram::BucketLow(b);
    const uint64_t width = LatencyHistogram::BucketHigh(b) - low + 1;
    ASSERT_LE(width * 64, low < 128 ? 64 : low) << "bucket " << b;
    ASSERT_EQ(LatencyHistogram::BucketOf(low), b);
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketHigh(b)), b);
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(UINT64_MAX),
            LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, PercentilesOfMicrosecondsAreClose) {
  LatencyHistogram h;
  // 1..1000 us: p50 is 500 us, p99 990 us, each within 1/64.
  for (uint64_t us = 1; us <= 1000; ++us) h.Record(us * 1000);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.50)), 500000, 500000 / 64.0);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 990000, 990000 / 64.0);
  EXPECT_EQ(h.max(), 1000000u);
  EXPECT_EQ(h.count(), 1000u);
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a;
  LatencyHistogram b;
  a.Record(10);
  b.Record(20);
  b.Record(30);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 30u);
  EXPECT_EQ(a.Percentile(0.5), 20u);
}

}  // namespace
}  // namespace foobar::client
