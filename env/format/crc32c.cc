#include "env/format/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace segwal {
namespace crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u;  // reflected Castagnoli

std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    }
    table[i] = crc;
  }
  return table;
}

uint32_t PortableImpl(uint32_t crc, const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = MakeTable();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

#if defined(__x86_64__)
// The crc32 instruction takes three cycles to produce its result but can
// start one every cycle: one chain of them runs at a third of the speed the
// CPU offers. Long buffers are therefore cut into three blocks of `kLen`
// bytes whose CRCs are computed side by side and then joined.
//
// Joining: the CRC register (before the final inversion) is linear, so the
// register after bytes A then B, from register r, is
//   Shift|B|(register after A from r) ^ (register after B from 0),
// where Shift_n(x) is the register after n zero bytes from x. Shift_n is a
// linear map of 32 bits; it is kept as four tables of 256 entries, one per
// byte of x.
class Shift {
 public:
  __attribute__((target("sse4.2"))) explicit Shift(size_t n) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; ++bit) {
      uint64_t reg = uint64_t{1} << bit;
      for (size_t i = 0; i < n; i += 8) reg = _mm_crc32_u64(reg, 0);
      basis[bit] = static_cast<uint32_t>(reg);
    }
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t image = 0;
        for (int j = 0; j < 8; ++j) {
          if (b & (1u << j)) image ^= basis[8 * k + j];
        }
        table_[k][b] = image;
      }
    }
  }
  uint32_t operator()(uint32_t x) const {
    return table_[0][x & 0xff] ^ table_[1][(x >> 8) & 0xff] ^
           table_[2][(x >> 16) & 0xff] ^ table_[3][x >> 24];
  }

 private:
  uint32_t table_[4][256];
};

// Three blocks of kLen bytes (a multiple of 8) at a time while at least
// that many are left: returns the register after them, advancing *p, *n.
// Not inlined: inlined, it slowed the short buffers' plain loop (most
// frames are a few hundred bytes).
template <size_t kLen>
__attribute__((target("sse4.2"), noinline)) uint64_t ThreeWays(
    uint64_t c, const uint8_t** p, size_t* n) {
  static const Shift shift(kLen);
  while (*n >= 3 * kLen) {
    const uint8_t* a = *p;
    uint64_t c1 = c, c2 = 0, c3 = 0;
    for (size_t i = 0; i < kLen; i += 8) {
      uint64_t w1, w2, w3;
      std::memcpy(&w1, a + i, 8);
      std::memcpy(&w2, a + kLen + i, 8);
      std::memcpy(&w3, a + 2 * kLen + i, 8);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
      c3 = _mm_crc32_u64(c3, w3);
    }
    c = shift(shift(static_cast<uint32_t>(c1)) ^ static_cast<uint32_t>(c2)) ^
        static_cast<uint32_t>(c3);
    *p += 3 * kLen;
    *n -= 3 * kLen;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t HardwareImpl(uint32_t crc,
                                                        const uint8_t* p,
                                                        size_t n) {
  uint64_t c = ~crc & 0xffffffffu;
  // Long blocks where they fit (fewer joins), short ones for frames of a
  // few hundred bytes up.
  if (n >= 3 * 128) {
    c = ThreeWays<4096>(c, &p, &n);
    c = ThreeWays<128>(c, &p, &n);
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p);
    ++p;
    --n;
  }
  return ~c32;
}
#endif

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

bool HaveHardware() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

ExtendFn ChooseExtend() {
#if defined(__x86_64__)
  if (HaveHardware()) return HardwareImpl;
#endif
  return PortableImpl;
}

}  // namespace

bool HardwareAvailable() { return HaveHardware(); }

uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  if (HaveHardware()) {
    return HardwareImpl(crc, static_cast<const uint8_t*>(data), n);
  }
#endif
  return PortableImpl(crc, static_cast<const uint8_t*>(data), n);
}

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n) {
  return PortableImpl(crc, static_cast<const uint8_t*>(data), n);
}

uint32_t Extend(uint32_t crc, const void* data, size_t n) {
  static const ExtendFn extend = ChooseExtend();
  return extend(crc, static_cast<const uint8_t*>(data), n);
}

}  // namespace crc32c
}  // namespace segwal
