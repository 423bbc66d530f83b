#include "client/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace foobar::client {

int LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < kExactBelow) return static_cast<int>(ns);
  // ns lies in [2^k, 2^(k+1)) with k >= 7; its top 7 bits (64..127) pick
  // one of the 64 buckets of that power of two.
  const int k = 63 - __builtin_clzll(ns);
  const int shift = k - 6;
  return kExactBelow + (k - 7) * kSubBuckets +
         static_cast<int>((ns >> shift) - kSubBuckets);
}

uint64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kExactBelow) return static_cast<uint64_t>(bucket);
  const int k = (bucket - kExactBelow) / kSubBuckets + 7;
  const uint64_t top = (bucket - kExactBelow) % kSubBuckets + kSubBuckets;
  return top << (k - 6);
}

uint64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < kExactBelow) return static_cast<uint64_t>(bucket);
  const int k = (bucket - kExactBelow) / kSubBuckets + 7;
  return BucketLow(bucket) + ((uint64_t{1} << (k - 6)) - 1);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 1.0);
  // The rank of the wanted sample, 1-based: p50 of 2 samples is the first.
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t mid = BucketLow(i) + (BucketHigh(i) - BucketLow(i)) / 2;
      return std::min(mid, max_);
    }
  }
  return max_;
}

}  // namespace foobar::client
