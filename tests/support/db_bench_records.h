// Records shaped like db_bench's, for compression tests: a 16-byte key and
// a value cut from a buffer of 100-byte pieces, each 50 random printable
// characters twice (test::CompressibleString at ratio 0.5): zstd codes
// their literals, lz4 finds the repeats. The buffer is 64 KiB, far more
// than a compression group, so learning across records cannot come from
// whole repeated values.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/support/log_fixture.h"

namespace segwal {
namespace testing {

class DbBenchRecords {
 public:
  explicit DbBenchRecords(uint32_t seed) : rng_(seed) {
    while (buffer_.size() < 64 * 1024) {
      std::string piece(50, '\0');
      for (char& c : piece) c = static_cast<char>(' ' + rng_() % 95);
      buffer_ += piece + piece;
    }
  }
  // A record whose value has `value_size` bytes.
  std::string Next(size_t value_size = 512) {
    if (pos_ + value_size > buffer_.size()) pos_ = 0;
    char key[17];
    std::snprintf(key, sizeof(key), "%016u", static_cast<unsigned>(rng_()));
    std::string record =
        std::string(key, 16) + buffer_.substr(pos_, value_size);
    pos_ += value_size;
    return record;
  }
  // A record whose value has 100 to 999 bytes.
  std::string NextOfRandomSize() {
    const size_t value_size = 100 + rng_() % 900;
    return Next(value_size);
  }

 private:
  std::mt19937 rng_;
  std::string buffer_;
  size_t pos_ = 0;
};

// A log fixture that fills files with such records.
class RecordsLogFixture : public LogFixture {
 protected:
  // The value size of the records WriteRecords appends.
  static constexpr size_t kRandomValueSize = 0;  // 100 to 999 bytes
  size_t record_value_size_ = 512;

  // Appends `n` records to each of `names` in turn (created first; their
  // frames interleave in the segments); returns the contents.
  std::map<std::string, std::string> WriteRecords(
      const std::vector<std::string>& names, int n, uint32_t seed = 1) {
    std::map<std::string, std::string> files;
    for (const std::string& name : names) Create(name);
    DbBenchRecords records(seed);
    for (int i = 0; i < n; ++i) {
      for (const std::string& name : names) {
        const std::string r = record_value_size_ == kRandomValueSize
                                  ? records.NextOfRandomSize()
                                  : records.Next(record_value_size_);
        Append(name, r);
        files[name] += r;
      }
    }
    return files;
  }
};

}  // namespace testing
}  // namespace segwal
