// LEB128 varints (the snapshot payload, a zstd group's dictionary length).
#pragma once

#include <cstdint>
#include <string>

#include "rocksdb/slice.h"

namespace segwal {

inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

// Consumes a varint from the front of *in; false if it is truncated, longer
// than ten bytes, or does not fit 64 bits (a tenth byte above 1).
inline bool GetVarint64(rocksdb::Slice* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    // The tenth byte holds bit 63 only: anything more would be dropped.
    if (shift == 63 && byte > 1) return false;
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace segwal
