// A latency histogram with log-linear buckets: exact below 16, then 16
// buckets per power of two (at most 6.25% relative error), so percentiles
// stay meaningful from microseconds to minutes in 8 KiB.
//
// Not thread-safe: the owner serialises Record and reads.
#pragma once

#include <array>
#include <cstdint>

namespace segwal {

class LatencyHistogram {
 public:
  void Record(uint64_t value);

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t max() const { return max_; }
  double Mean() const;
  // The smallest bucket bound with at least fraction p of the values at or
  // below it (clamped to the largest value seen); 0 when empty.
  uint64_t Percentile(double p) const;

 private:
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = 64 * kSubBuckets;

  static int BucketOf(uint64_t value);
  static uint64_t UpperBoundOf(int bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace segwal
