// Shared by the libFuzzer targets in tests/fuzz/ and by the seed generator.
//
// Recovery-target input format (fuzz_recovery.cc):
//   byte 0       flags: bits 0-1 segment count - 1 (3 -> 3 segments too),
//                       bit 2 raw: each chunk is a whole segment file,
//                             header included (else a valid header for
//                             segment i+1 is put in front of the chunk),
//                       bit 3 fix up checksums: recompute the segment
//                             header and every frame's checksums, so
//                             mutations get past them,
//                       bit 4 also drop a "<id>.free" file (reclaimed),
//                       bit 5 segments of format version 1,
//                       bit 6 (bit 5 clear) segments of format version 3
//                             (the durable mark absolute; else the
//                             current version)
//   then for every chunk but the last: a 3-byte little-endian length, and
//   the chunk; the last chunk is the rest of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "env/format/format.h"

namespace segwal {
namespace fuzz {

constexpr uint64_t kLogUid = 0x5e67a1f0a2b3c4d5ull;
constexpr uint8_t kFlagCountMask = 0x3;
constexpr uint8_t kFlagRaw = 0x4;
constexpr uint8_t kFlagFixChecksums = 0x8;
constexpr uint8_t kFlagFreeFile = 0x10;
constexpr uint8_t kFlagVersion1 = 0x20;
constexpr uint8_t kFlagVersion3 = 0x40;

struct Segments {
  uint8_t flags = 0;
  std::vector<std::string> chunks;
};

inline Segments SplitInput(const uint8_t* data, size_t size) {
  Segments out;
  if (size == 0) return out;
  out.flags = data[0];
  size_t pos = 1;
  const size_t n = std::min<size_t>(3, (out.flags & kFlagCountMask) + 1);
  for (size_t i = 0; i < n; ++i) {
    size_t len = size - pos;
    if (i + 1 < n) {
      if (size - pos < 3) break;
      len = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16);
      pos += 3;
      len = std::min(len, size - pos);
    }
    out.chunks.emplace_back(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
  }
  return out;
}

inline std::string JoinInput(uint8_t flags,
                             const std::vector<std::string>& chunks) {
  std::string out(1, static_cast<char>(flags));
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) {
      const size_t len = chunks[i].size();
      out.push_back(static_cast<char>(len & 0xff));
      out.push_back(static_cast<char>((len >> 8) & 0xff));
      out.push_back(static_cast<char>((len >> 16) & 0xff));
    }
    out += chunks[i];
  }
  return out;
}

}  // namespace fuzz
}  // namespace segwal
