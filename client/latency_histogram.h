// client/latency_histogram.h: a fixed-size log-linear histogram of
// latencies, cheap enough to record every message of a benchmark.
//
// Values below 128 ns are exact; above, each power of two is split into 64
// buckets, so a reported percentile is within 1/64 (1.6%) of the true
// sample. Recording is a few integer operations and one increment, with no
// allocation; the whole histogram is ~30 KiB however many samples it holds.
//
// Example:
//   foobar::client::LatencyHistogram histogram;
//   histogram.Record(/*ns=*/25000);
//   if (histogram.count() == 0) return 1;  // percentiles of nothing are 0
//   double p99_us = histogram.Percentile(0.99) / 1000.0;
#ifndef CLIENT_LATENCY_HISTOGRAM_H_
#define CLIENT_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace foobar::client {

// LatencyHistogram counts nanosecond samples in log-linear buckets.
class LatencyHistogram {
 public:
  // Record adds one sample of `ns` nanoseconds.
  void Record(uint64_t ns) {
    ++counts_[BucketOf(ns)];
    ++count_;
    if (ns > max_) max_ = ns;
  }
  // Merge adds every sample of `other`.
  void Merge(const LatencyHistogram& other);
  // Percentile returns the value below or at which a fraction `p` (0..1) of
  // the samples lie: the midpoint of that sample's bucket, clamped to
  // max(); 0 when empty.
  uint64_t Percentile(double p) const;
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }

  // BucketOf and the bucket bounds are public for the tests.
  static int BucketOf(uint64_t ns);
  static uint64_t BucketLow(int bucket);
  static uint64_t BucketHigh(int bucket);  // inclusive

  static constexpr int kExactBelow = 128;  // values below are exact buckets
  static constexpr int kSubBuckets = 64;   // buckets per power of two above
  static constexpr int kBuckets = kExactBelow + (64 - 7) * kSubBuckets;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace foobar::client

#endif  // CLIENT_LATENCY_HISTOGRAM_H_
