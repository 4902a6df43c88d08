// CRC-32C (Castagnoli), the checksum of every segment header and frame.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// start-up; three streams side by side on buffers of 384 bytes and more)
// and a table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace segwal {
namespace crc32c {

// Returns the CRC-32C of data[0, n) continuing from `crc`, the value returned
// for the bytes before it (0 for none).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The two implementations behind Extend, so that tests can check they agree.
// Without the crc32 instruction (HardwareAvailable() false) ExtendHardware
// uses the table too.
bool HardwareAvailable();
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n);
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

// A CRC stored next to the data it covers is masked, so that a CRC computed
// over bytes that themselves contain CRCs is not trivially predictable
// (the same reasoning as LevelDB's log format).
inline uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace crc32c
}  // namespace segwal
