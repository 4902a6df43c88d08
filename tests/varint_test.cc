// env/format/varint.h: round trips at the edges, and the malformed encodings
// GetVarint64 must refuse (truncated, too long, bits beyond 64).
#include "env/format/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace segwal {
namespace {

bool Decode(const std::string& bytes, uint64_t* v, size_t* left) {
  rocksdb::Slice in(bytes);
  const bool ok = GetVarint64(&in, v);
  *left = in.size();
  return ok;
}

TEST(VarintTest, RoundTripsEdges) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                     uint64_t{1} << 32, (uint64_t{1} << 63) - 1,
                     uint64_t{1} << 63, UINT64_MAX}) {
    std::string enc;
    PutVarint64(&enc, v);
    enc += "tail";
    uint64_t got = 0;
    size_t left = 0;
    ASSERT_TRUE(Decode(enc, &got, &left)) << v;
    EXPECT_EQ(v, got);
    EXPECT_EQ(4u, left);
  }
}

TEST(VarintTest, MaxValueIsTenBytesEndingInOne) {
  std::string enc;
  PutVarint64(&enc, UINT64_MAX);
  ASSERT_EQ(10u, enc.size());
  EXPECT_EQ(1, enc.back());
}

TEST(VarintTest, TenthByteAboveOneIsRefused) {
  // Nine continuation bytes then 0x02..0x7f: bits 64 and up, which a
  // uint64_t cannot hold (they used to be dropped silently).
  for (int last = 2; last < 0x80; ++last) {
    std::string enc(9, static_cast<char>(0xff));
    enc.push_back(static_cast<char>(last));
    uint64_t v = 0;
    size_t left = 0;
    EXPECT_FALSE(Decode(enc, &v, &left)) << "tenth byte " << last;
  }
}

TEST(VarintTest, TruncatedAndOverlongAreRefused) {
  uint64_t v = 0;
  size_t left = 0;
  EXPECT_FALSE(Decode("", &v, &left));
  EXPECT_FALSE(Decode(std::string(3, static_cast<char>(0x80)), &v, &left));
  // Eleven bytes: the tenth still has the continuation bit.
  std::string overlong(10, static_cast<char>(0x80));
  overlong.push_back(0);
  EXPECT_FALSE(Decode(overlong, &v, &left));
}

}  // namespace
}  // namespace segwal
