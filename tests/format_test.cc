// The on-disk format and its building blocks: segment and frame headers,
// segment file names, crc32c, payload codecs and varints.
#include "env/format/file_names.h"
#include "env/format/format.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "env/format/codec.h"
#include "env/format/crc32c.h"
#include "env/recovery/scanner.h"
#include "env/format/varint.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::LogFixture;
using testing::Words;
using testing::RandomBytes;

SegmentHeader SampleSegmentHeader() {
  SegmentHeader h;
  h.segment_id = 0x0102030405060708ull;
  h.log_uid = 0xfedcba9876543210ull;
  h.segment_size = 64ull << 20;
  h.prev_segment_id = 0x0102030405060707ull;
  h.prev_segment_end = 12345678;
  h.created_unix_time = 1700000000;
  return h;
}

std::string EncodedSegmentHeader(const SegmentHeader& h) {
  std::string buf(kSegmentHeaderSize, '\0');
  EncodeSegmentHeader(h, &buf[0]);
  return buf;
}

// Recomputes the header checksum after a test changed a field.
void ResealSegmentHeader(std::string* buf) {
  PutFixed32(&(*buf)[60], crc32c::Mask(crc32c::Value(buf->data(), 60)));
}

TEST(SegmentHeaderTest, RoundTrip) {
  const SegmentHeader in = SampleSegmentHeader();
  const std::string buf = EncodedSegmentHeader(in);
  EXPECT_EQ(0, std::memcmp(buf.data(), kSegmentMagic, sizeof(kSegmentMagic)));
  SegmentHeader out;
  uint32_t version = 0;
  ASSERT_EQ(HeaderCheck::kValid,
            DecodeSegmentHeader(buf.data(), buf.size(), &out, &version));
  EXPECT_EQ(kFormatVersion, version);
  EXPECT_EQ(in.segment_id, out.segment_id);
  EXPECT_EQ(in.log_uid, out.log_uid);
  EXPECT_EQ(in.segment_size, out.segment_size);
  EXPECT_EQ(in.prev_segment_id, out.prev_segment_id);
  EXPECT_EQ(in.prev_segment_end, out.prev_segment_end);
  EXPECT_EQ(in.created_unix_time, out.created_unix_time);
}

TEST(SegmentHeaderTest, EveryCheckOutcome) {
  SegmentHeader out;
  uint32_t version = 0;
  const std::string zeros(kSegmentHeaderSize, '\0');
  EXPECT_EQ(HeaderCheck::kZero,
            DecodeSegmentHeader(zeros.data(), zeros.size(), &out, &version));

  const std::string good = EncodedSegmentHeader(SampleSegmentHeader());
  // Size is checked first: even a valid header is too short when cut.
  EXPECT_EQ(HeaderCheck::kTooShort,
            DecodeSegmentHeader(good.data(), kSegmentHeaderSize - 1, &out,
                                &version));
  EXPECT_EQ(HeaderCheck::kTooShort,
            DecodeSegmentHeader(zeros.data(), 0, &out, &version));

  std::string bad_magic = good;
  bad_magic[3] ^= 0x20;
  EXPECT_EQ(HeaderCheck::kBadMagic,
            DecodeSegmentHeader(bad_magic.data(), bad_magic.size(), &out,
                                &version));

  std::string bad_version = good;
  PutFixed32(&bad_version[8], kFormatVersion + 6);
  ResealSegmentHeader(&bad_version);
  version = 0;
  EXPECT_EQ(HeaderCheck::kBadVersion,
            DecodeSegmentHeader(bad_version.data(), bad_version.size(), &out,
                                &version));
  EXPECT_EQ(kFormatVersion + 6, version);

  std::string bad_sum = good;
  bad_sum[20] ^= 0x01;  // inside the segment id
  EXPECT_EQ(HeaderCheck::kBadChecksum,
            DecodeSegmentHeader(bad_sum.data(), bad_sum.size(), &out,
                                &version));

  // A header-size field this build does not know is refused even when the
  // checksum matches.
  std::string bad_size = good;
  PutFixed32(&bad_size[12], kSegmentHeaderSize + 8);
  ResealSegmentHeader(&bad_size);
  EXPECT_EQ(HeaderCheck::kBadChecksum,
            DecodeSegmentHeader(bad_size.data(), bad_size.size(), &out,
                                &version));

  for (HeaderCheck c :
       {HeaderCheck::kValid, HeaderCheck::kZero, HeaderCheck::kTooShort,
        HeaderCheck::kBadMagic, HeaderCheck::kBadVersion,
        HeaderCheck::kBadChecksum}) {
    EXPECT_STRNE("unknown", HeaderCheckName(c));
  }
}

TEST(SegmentHeaderTest, EverySingleBitFlipIsCaught) {
  const std::string good = EncodedSegmentHeader(SampleSegmentHeader());
  for (size_t byte = 0; byte < kSegmentHeaderSize; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string buf = good;
      buf[byte] ^= static_cast<char>(1 << bit);
      SegmentHeader out;
      uint32_t version = 0;
      EXPECT_NE(HeaderCheck::kValid,
                DecodeSegmentHeader(buf.data(), buf.size(), &out, &version))
          << "byte " << byte << " bit " << bit;
    }
  }
}

class ScanVersionTest : public LogFixture {};

// A version this build cannot read stops the scan with NotSupported, naming
// the version found and what to do about it.
TEST_F(ScanVersionTest, ErrorNamesTheVersionAndTheRemedy) {
  Open();
  Create("a.log");
  Append("a.log", "data");
  log_.reset();
  const uint64_t id = SegmentIds().front();
  std::string header = SegmentImage(id).substr(0, kSegmentHeaderSize);
  PutFixed32(&header[8], 7);
  ResealSegmentHeader(&header);
  storage_.Corrupt(SegmentPath(id), 0, header);

  testing::MemStorage* storage = &storage_;
  ScanResult result;
  RecoveryInfo info;
  IOStatus s = ScanLog(storage, testing::kLogDir,
                       RecoveryMode::kTolerateCorruptedTailRecords, &result,
                       &info);
  ASSERT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("format version 7"))
      << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(SegmentFileName(id)))
      << s.ToString();
  EXPECT_NE(std::string::npos,
            s.ToString().find("open the log with a segwal release that "
                              "reads version 7"))
      << s.ToString();
  EXPECT_NE(std::string::npos,
            s.ToString().find("this segwal reads versions 1 to " +
                              std::to_string(kFormatVersion)))
      << s.ToString();
}

// Where the frames of these tests sit in their segment: version 4 records
// the durable mark relative to it.
constexpr uint64_t kAt = 0x01234567;

FrameHeader SampleFrameHeader() {
  FrameHeader h;
  h.type = static_cast<uint8_t>(FrameType::kData);
  h.codec = Codec::kZstd;
  h.raw_len = 4000;
  h.file_id = 0x1122334455667788ull;
  h.offset = 0x0000000123456789ull;
  h.durable_mark = 0x00abcdef;
  return h;
}

// SampleFrameHeader with a codec `version` stores.
FrameHeader SampleFrameHeaderFor(uint32_t version) {
  FrameHeader h = SampleFrameHeader();
  if (version >= 3) {
    h.codec = Codec::kZstdGroup;  // version 3's codecs are group codecs
    h.prev = 4321;
  }
  return h;
}

// A frame of version 2 to 4 at segment offset `at`: header and payload.
std::string EncodedFrame(FrameHeader h, const std::string& payload,
                         uint32_t seed, uint32_t version = kFormatVersion,
                         uint64_t at = kAt) {
  std::string out;
  EncodeFrame(&h, payload, seed, at, &out, version);
  return out;
}

// A version-1 header (older segwal's 40 bytes), its payload checksum set.
std::string EncodedFrameHeaderV1(FrameHeader h, const std::string& payload,
                                 uint32_t seed) {
  h.stored_len = static_cast<uint32_t>(payload.size());
  h.crc = PayloadChecksumV1(payload.data(), payload.size());
  std::string buf(kFrameHeaderSizeV1, '\0');
  EncodeFrameHeaderV1(h, seed, &buf[0]);
  return buf;
}

TEST(FrameHeaderTest, RoundTrip) {
  const uint32_t seed = SegmentSeed(42, 7);
  const std::string payload(1000, 'p');
  for (uint32_t version : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    const FrameHeader in = SampleFrameHeaderFor(version);
    const std::string buf =
        version == 1 ? EncodedFrameHeaderV1(in, payload, seed) + payload
                     : EncodedFrame(in, payload, seed, version);
    FrameHeader out;
    ASSERT_EQ(FrameCheck::kValid,
              DecodeFrameHeader(version, buf.data(), buf.size(), seed, kAt, &out));
    EXPECT_EQ(payload.size(), out.stored_len);
    EXPECT_EQ(in.type, out.type);
    EXPECT_EQ(in.codec, out.codec);
    EXPECT_EQ(in.raw_len, out.raw_len);
    EXPECT_EQ(in.file_id, out.file_id);
    EXPECT_TRUE(out.has_offset);
    EXPECT_EQ(in.offset, out.offset);
    EXPECT_EQ(in.durable_mark, out.durable_mark);
    EXPECT_EQ(version >= 3 ? 4321u : 0u, out.prev);
    EXPECT_EQ(buf.size(), out.header_len + out.stored_len);
    EXPECT_TRUE(VerifyFrame(version, buf.data(), out, seed));
  }
}

size_t VarintLen(uint64_t v) {
  std::string out;
  PutVarint64(&out, v);
  return out.size();
}

// Version 4 records the durable mark relative to the frame's own segment
// offset: no byte when it is that offset (everything before the frame
// durable), else varint(offset - mark). It decodes to the absolute mark at
// every offset a segment may hold a frame at.
TEST(FrameHeaderTest, VersionFourMarkRelativeToTheFrame) {
  const uint32_t seed = SegmentSeed(42, 7);
  const std::string payload(300, 'p');
  FrameHeader data;
  data.type = static_cast<uint8_t>(FrameType::kData);
  data.file_id = 5;
  data.offset = (1u << 28) - 1;
  for (uint64_t at : {uint64_t{kSegmentHeaderBlock}, uint64_t{4097},
                      uint64_t{100000}, uint64_t{1} << 21,
                      (uint64_t{1} << 28) + 5, kMaxSegmentSize - 400}) {
    SCOPED_TRACE("frame at " + std::to_string(at));
    const size_t unmarked = EncodedFrame(data, payload, seed, 4, at).size();
    EXPECT_EQ(14u + 300, unmarked);
    for (uint64_t mark : {uint64_t{0}, at, at - 1, at - 127, at - 128,
                          at - 16384, uint64_t{kSegmentHeaderBlock},
                          uint64_t{1}, at + 1000}) {
      // (at - 16384 wraps for the smallest offsets; a mark is 32 bits)
      if (mark > at && (mark != at + 1000 || mark > UINT32_MAX)) continue;
      SCOPED_TRACE("mark " + std::to_string(mark));
      FrameHeader in = data;
      in.durable_mark = static_cast<uint32_t>(mark);
      std::string buf;
      EncodeFrame(&in, payload, seed, at, &buf, 4);
      // A mark past the frame would claim bytes not yet written: the
      // frame's own offset is recorded instead.
      const uint64_t want = std::min(mark, at);
      EXPECT_EQ(want, in.durable_mark);
      const size_t field = want == 0 || want == at ? 0 : VarintLen(at - want);
      EXPECT_EQ(unmarked + field, buf.size());
      FrameHeader out;
      ASSERT_EQ(FrameCheck::kValid,
                DecodeFrameHeader(4, buf.data(), buf.size(), seed, at, &out));
      EXPECT_EQ(want, out.durable_mark);
      EXPECT_TRUE(out.has_offset);
      EXPECT_EQ(data.offset, out.offset);
      EXPECT_EQ(payload.size(), out.stored_len);
      EXPECT_EQ(in.header_len, out.header_len);
      EXPECT_TRUE(VerifyFrame(4, buf.data(), out, seed));
    }
  }
  // The same mark in version 3 costs its absolute varint (3-4 bytes for
  // offsets from 16 KiB to 256 MiB).
  FrameHeader v3 = data;
  v3.durable_mark = 1u << 21;
  EXPECT_EQ(14u + 4 + 300,
            EncodedFrame(v3, payload, seed, 3, uint64_t{1} << 21).size());
}

// Which frames carry the offset field is the type's business in version 4
// (bit 6 of the kind byte says the mark is at the frame): data, truncate,
// link and relocated data do, whatever has_offset said; the others do not.
TEST(FrameHeaderTest, VersionFourOffsetByType) {
  const uint32_t seed = SegmentSeed(42, 7);
  for (uint8_t type = 1; type <= 8; ++type) {
    SCOPED_TRACE("type " + std::to_string(type));
    const bool want = type == 1 || type == 5 || type == 6 || type == 8;
    EXPECT_EQ(want, TypeHasOffset(type));
    for (bool has_offset : {false, true}) {
      FrameHeader in;
      in.type = type;
      in.file_id = 3;
      in.offset = want ? 77 : 0;
      in.has_offset = has_offset;
      in.durable_mark = 5000;
      std::string buf;
      EncodeFrame(&in, "name", seed, 5000, &buf, 4);
      EXPECT_EQ(want, in.has_offset);
      FrameHeader out;
      ASSERT_EQ(FrameCheck::kValid,
                DecodeFrameHeader(4, buf.data(), buf.size(), seed, 5000, &out));
      EXPECT_EQ(want, out.has_offset);
      EXPECT_EQ(in.offset, out.offset);
      EXPECT_EQ(5000u, out.durable_mark);
      EXPECT_EQ(9u + (want ? 1 : 0), out.header_len);
    }
  }
}

// A damaged mark never passes for another: every bit of the mark's varint
// and of the kind byte's two mark bits is covered by the header check, and
// a mark that cannot be (before the segment's start, or both encodings at
// once) is a bad field even under a matching check.
TEST(FrameHeaderTest, VersionFourMarkDamageIsDetected) {
  const uint32_t seed = SegmentSeed(42, 7);
  const std::string payload(100, 'p');
  const uint64_t at = uint64_t{1} << 22;
  FrameHeader in;
  in.type = static_cast<uint8_t>(FrameType::kData);
  in.file_id = 9;
  in.offset = 123456;
  in.durable_mark = static_cast<uint32_t>(kSegmentHeaderBlock);
  std::string good;
  EncodeFrame(&in, payload, seed, at, &good, 4);
  const size_t mark_len = VarintLen(at - kSegmentHeaderBlock);
  ASSERT_EQ(4u, mark_len);
  // A raw data frame: the mark is the last field of the header.
  const size_t mark_at = in.header_len - mark_len;
  std::vector<size_t> bytes = {6};  // the kind byte
  for (size_t i = mark_at; i < in.header_len; ++i) bytes.push_back(i);
  for (size_t byte : bytes) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string buf = good;
      buf[byte] ^= static_cast<char>(1 << bit);
      FrameHeader out;
      const FrameCheck check =
          DecodeFrameHeader(4, buf.data(), buf.size(), seed, at, &out);
      EXPECT_TRUE(check != FrameCheck::kValid ||
                  !VerifyFrame(4, buf.data(), out, seed))
          << "byte " << byte << " bit " << bit << ": "
          << FrameCheckName(check) << " mark " << out.durable_mark;
    }
  }
  FrameHeader out;
  ASSERT_EQ(FrameCheck::kValid,
            DecodeFrameHeader(4, good.data(), good.size(), seed, at, &out));
  EXPECT_EQ(kSegmentHeaderBlock, out.durable_mark);
  // The same bytes read at an offset no further than the mark's distance:
  // the mark would lie at or before the segment's start.
  EXPECT_EQ(FrameCheck::kBadField,
            DecodeFrameHeader(4, good.data(), good.size(), seed,
                              at - kSegmentHeaderBlock, &out));
  // Both mark bits, the check sealed over them: impossible.
  std::string both = good;
  both[6] |= 0x40;
  SealFrameV2(&both[0], in, seed);
  EXPECT_EQ(FrameCheck::kBadField,
            DecodeFrameHeader(4, both.data(), both.size(), seed, at, &out));
  // A mark at the frame's offset needs a frame offset to be one.
  FrameHeader at_frame = in;
  at_frame.durable_mark = static_cast<uint32_t>(at);
  std::string flagged;
  EncodeFrame(&at_frame, payload, seed, at, &flagged, 4);
  EXPECT_EQ(good.size() - mark_len, flagged.size());
  EXPECT_EQ(FrameCheck::kBadField,
            DecodeFrameHeader(4, flagged.data(), flagged.size(), seed, 0, &out));
}

// The codec field is two bits whose meaning the segment's version gives:
// a version-3 frame never holds a whole-payload codec, a version-2 frame
// never a group codec, and the fourth value is unknown in both.
TEST(FrameHeaderTest, CodecFieldByVersion) {
  EXPECT_EQ(Codec::kLz4, CodecFromField(2, 1));
  EXPECT_EQ(Codec::kZstd, CodecFromField(2, 2));
  EXPECT_EQ(Codec::kLz4Group, CodecFromField(3, 1));
  EXPECT_EQ(Codec::kZstdGroup, CodecFromField(3, 2));
  EXPECT_EQ(Codec::kUnknown, CodecFromField(2, 3));
  EXPECT_EQ(Codec::kUnknown, CodecFromField(3, 3));
  EXPECT_EQ(3, CodecField(3, Codec::kZstd));
  EXPECT_EQ(3, CodecField(2, Codec::kZstdGroup));
  // A version-3 frame starting a group spends one byte on `prev`.
  const uint32_t seed = SegmentSeed(1, 2);
  FrameHeader h = SampleFrameHeader();
  h.codec = Codec::kLz4Group;
  const std::string start = EncodedFrame(h, "abc", seed, 3);
  h.prev = 300;
  const std::string later = EncodedFrame(h, "abc", seed, 3);
  EXPECT_EQ(start.size() + 1, later.size());
  FrameHeader out;
  ASSERT_EQ(FrameCheck::kValid,
            DecodeFrameHeader(3, start.data(), start.size(), seed, kAt, &out));
  EXPECT_EQ(0u, out.prev);
  // Read as version 2, the same bytes are a whole-payload lz4 frame
  // without `prev`: the header check (over the header's bytes) tells.
  EXPECT_NE(FrameCheck::kValid,
            DecodeFrameHeader(2, later.data(), later.size(), seed, kAt, &out));
}

// (not a data frame), no durable mark and no codec has a nine-byte header
// for a small id.
TEST(FrameHeaderTest, VersionTwoLeavesOutWhatIsNotThere) {
  const uint32_t seed = SegmentSeed(42, 7);
  FrameHeader in;
  in.type = static_cast<uint8_t>(FrameType::kDelete);
  in.file_id = 5;
  in.has_offset = false;
  const std::string buf = EncodedFrame(in, std::string(), seed);
  EXPECT_EQ(9u, buf.size());
  FrameHeader out;
  ASSERT_EQ(FrameCheck::kValid,
            DecodeFrameHeader(2, buf.data(), buf.size(), seed, kAt, &out));
  EXPECT_FALSE(out.has_offset);
  EXPECT_EQ(0u, out.durable_mark);
  EXPECT_EQ(Codec::kNone, out.codec);
  EXPECT_EQ(9u, out.header_len);
  // A data frame of 300 bytes at an offset below 2^28 with a small id:
  // 14 bytes of header.
  FrameHeader data;
  data.type = static_cast<uint8_t>(FrameType::kData);
  data.file_id = 5;
  data.offset = (1u << 28) - 1;
  EXPECT_EQ(14u + 300, EncodedFrame(data, std::string(300, 'p'), seed).size());
}

TEST(FrameHeaderTest, EveryCheckOutcome) {
  const uint32_t seed = SegmentSeed(42, 7);
  const std::string payload(64, 'p');
  FrameHeader out;
  const std::string zeros(kMaxFrameHeaderSize, '\0');
  for (uint32_t version : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    EXPECT_EQ(FrameCheck::kZero, DecodeFrameHeader(version, zeros.data(),
                                                   zeros.size(), seed, kAt, &out));
    const std::string good =
        version == 1
            ? EncodedFrameHeaderV1(SampleFrameHeader(), payload, seed) + payload
            : EncodedFrame(SampleFrameHeaderFor(version), payload, seed,
                           version);
    ASSERT_EQ(FrameCheck::kValid,
              DecodeFrameHeader(version, good.data(), good.size(), seed, kAt, &out));
    const size_t header_len = out.header_len;
    // Version 2's frame checksum (bytes 0-3) is checked with the payload;
    // every other header bit is covered by the header's own check.
    const size_t first = version == 1 ? 0 : 4;
    for (size_t byte = first; byte < header_len; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string buf = good;
        buf[byte] ^= static_cast<char>(1 << bit);
        FrameHeader flipped;
        const FrameCheck check = DecodeFrameHeader(version, buf.data(),
                                                   buf.size(), seed, kAt, &flipped);
        EXPECT_TRUE(check == FrameCheck::kBadChecksum ||
                    (check == FrameCheck::kValid &&
                     !VerifyFrame(version, buf.data(), flipped, seed)))
            << "byte " << byte << " bit " << bit << ": "
            << FrameCheckName(check);
      }
    }
    for (size_t byte = 0; byte < 4; ++byte) {
      std::string buf = good;
      buf[byte] ^= 1;
      FrameHeader flipped;
      if (DecodeFrameHeader(version, buf.data(), buf.size(), seed, kAt, &flipped) ==
          FrameCheck::kValid) {
        EXPECT_FALSE(VerifyFrame(version, buf.data(), flipped, seed));
      }
    }
    // A payload byte flipped: the header checks out, the frame does not.
    std::string damaged = good;
    damaged[header_len + 10] ^= 1;
    ASSERT_EQ(FrameCheck::kValid, DecodeFrameHeader(version, damaged.data(),
                                                    damaged.size(), seed, kAt, &out));
    EXPECT_FALSE(VerifyFrame(version, damaged.data(), out, seed));
    // Too few bytes for the header.
    EXPECT_EQ(FrameCheck::kTruncated,
              DecodeFrameHeader(version, good.data(), header_len - 1, seed, kAt,
                                &out));
  }

  // Reserved bits set under a matching checksum: a bad field.
  std::string reserved =
      EncodedFrameHeaderV1(SampleFrameHeader(), payload, seed);
  reserved[10] = 1;
  PutFixed32(&reserved[0],
             crc32c::Mask(crc32c::Extend(seed, reserved.data() + 4,
                                         kFrameHeaderSizeV1 - 4)));
  EXPECT_EQ(FrameCheck::kBadField,
            DecodeFrameHeader(1, reserved.data(), reserved.size(), seed, kAt, &out));
  std::string flags = EncodedFrame(SampleFrameHeader(), payload, seed, 2);
  ASSERT_EQ(FrameCheck::kValid,
            DecodeFrameHeader(2, flags.data(), flags.size(), seed, kAt, &out));
  flags[6] &= static_cast<char>(0xf0);  // type 0: no frame has it
  PutFixed16(&flags[4], static_cast<uint16_t>(crc32c::Extend(
                            seed, flags.data() + 6, out.header_len - 6)));
  EXPECT_EQ(FrameCheck::kBadField,
            DecodeFrameHeader(2, flags.data(), flags.size(), seed, kAt, &out));
  for (FrameCheck c : {FrameCheck::kValid, FrameCheck::kZero,
                       FrameCheck::kTruncated, FrameCheck::kBadChecksum,
                       FrameCheck::kBadField}) {
    EXPECT_STRNE("unknown", FrameCheckName(c));
  }
}

// The same bytes never validate in another segment or another log: a stale
// frame in a recycled segment, or a segment copied from another log, fails.
TEST(FrameHeaderTest, ChecksumIsBoundToTheSegment) {
  const std::string payload(64, 'p');
  for (uint32_t version : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    const uint32_t seed = SegmentSeed(42, 7);
    const std::string buf =
        version == 1
            ? EncodedFrameHeaderV1(SampleFrameHeader(), payload, seed) + payload
            : EncodedFrame(SampleFrameHeaderFor(version), payload, seed,
                           version);
    FrameHeader out;
    EXPECT_EQ(FrameCheck::kValid,
              DecodeFrameHeader(version, buf.data(), buf.size(), seed, kAt, &out));
    for (uint32_t other : {SegmentSeed(42, 8), SegmentSeed(43, 7), 0u}) {
      FrameHeader in_other;
      const FrameCheck check =
          DecodeFrameHeader(version, buf.data(), buf.size(), other, kAt, &in_other);
      EXPECT_TRUE(check == FrameCheck::kBadChecksum ||
                  !VerifyFrame(version, buf.data(), in_other, other));
    }
  }
  // Distinct identities give distinct seeds.
  EXPECT_NE(SegmentSeed(42, 7), SegmentSeed(7, 42));
  EXPECT_NE(SegmentSeed(1, 1), SegmentSeed(1, 2));
}

TEST(FrameHeaderTest, Footprints) {
  FrameHeader h;
  for (uint32_t n = 0; n < 100; ++n) {
    h.stored_len = n;
    const uint64_t v1 = FrameFootprint(1, h);
    EXPECT_EQ(0u, v1 % FrameAlignment(1));
    EXPECT_GE(v1, kFrameHeaderSizeV1 + n);
    EXPECT_LT(v1, kFrameHeaderSizeV1 + n + FrameAlignment(1));
    h.header_len = 12;
    EXPECT_EQ(12u + n, FrameFootprint(2, h));
    EXPECT_LE(FrameFootprint(2, h), MaxFrameFootprint(n));
  }
}

TEST(SegmentFileNameTest, BuildAndParse) {
  EXPECT_EQ("00000000000000000001.seg", SegmentFileName(1));
  EXPECT_EQ("18446744073709551615.seg", SegmentFileName(UINT64_MAX));
  for (uint64_t id : {uint64_t{1}, uint64_t{9}, uint64_t{10},
                      uint64_t{1234567890123}, UINT64_MAX - 1, UINT64_MAX}) {
    uint64_t parsed = 0;
    ASSERT_TRUE(ParseSegmentFileName(SegmentFileName(id), &parsed)) << id;
    EXPECT_EQ(id, parsed);
  }
}

TEST(SegmentFileNameTest, Rejects) {
  const char* bad[] = {
      "",
      "1.seg",
      "0000000000000000001.seg",    // 19 digits
      "000000000000000000001.seg",  // 21 digits
      "00000000000000000001.sec",
      "00000000000000000001.seg~",
      "00000000000000000001.free",
      "0000000000000000000a.seg",
      "+0000000000000000001.seg",
      " 0000000000000000001.seg",
      "18446744073709551616.seg",   // UINT64_MAX + 1
      "99999999999999999999.seg",
      "00000000000000000000.seg",   // id 0 means "none"
  };
  for (const char* name : bad) {
    uint64_t id = 77;
    EXPECT_FALSE(ParseSegmentFileName(name, &id)) << name;
    EXPECT_EQ(77u, id) << name;  // untouched on failure
  }
}

TEST(SegmentFileNameTest, FreeSegmentNames) {
  EXPECT_EQ("00000000000000000005.free", FreeSegmentFileName(5));
  uint64_t id = 0;
  ASSERT_TRUE(ParseFreeSegmentFileName(FreeSegmentFileName(UINT64_MAX), &id));
  EXPECT_EQ(UINT64_MAX, id);
  ASSERT_TRUE(ParseFreeSegmentFileName("00000000000000000042.free", &id));
  EXPECT_EQ(42u, id);
  for (const char* name :
       {"00000000000000000005.seg", "00000000000000000000.free", "5.free",
        ".free", "free", "0000000000000000000x.free",
        "00000000000000000005.free.seg"}) {
    EXPECT_FALSE(ParseFreeSegmentFileName(name, &id)) << name;
  }
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(0xE3069283u, crc32c::Value("123456789", 9));
  EXPECT_EQ(0u, crc32c::Value("", 0));
  // RFC 3720 (iSCSI) B.4.
  std::string buf(32, '\0');
  EXPECT_EQ(0x8A9136AAu, crc32c::Value(buf.data(), buf.size()));
  buf.assign(32, '\xff');
  EXPECT_EQ(0x62A8AB43u, crc32c::Value(buf.data(), buf.size()));
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  EXPECT_EQ(0x46DD794Eu, crc32c::Value(buf.data(), buf.size()));
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(0x113FDB5Cu, crc32c::Value(buf.data(), buf.size()));
  // Both implementations know the vectors.
  EXPECT_EQ(0xE3069283u, crc32c::ExtendPortable(0, "123456789", 9));
  EXPECT_EQ(0xE3069283u, crc32c::ExtendHardware(0, "123456789", 9));
}

TEST(Crc32cTest, MaskRoundTrips) {
  std::mt19937 rng(11);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t crc = rng();
    EXPECT_NE(crc, crc32c::Mask(crc));
    EXPECT_EQ(crc, crc32c::Unmask(crc32c::Mask(crc)));
  }
  const uint32_t crc = crc32c::Value("foo", 3);
  EXPECT_NE(crc, crc32c::Mask(crc32c::Mask(crc)));
}

// The hardware and table paths agree, over random buffers at any alignment
// extended in random pieces.
TEST(Crc32cTest, HardwareAndTableAgree) {
  if (!crc32c::HardwareAvailable()) {
    std::fprintf(stderr, "no crc32 instruction: comparing Extend only\n");
  }
  std::mt19937_64 rng(2024);
  // Up to 40 KiB: past three blocks of every size the hardware path
  // computes side by side and joins.
  const std::string data = RandomBytes((40 << 10) + 64, 99);
  for (int round = 0; round < 2000; ++round) {
    const size_t start = rng() % 64;
    const size_t n = round % 4 == 0 ? rng() % (40 << 10) : rng() % 4097;
    const char* p = data.data() + start;
    const uint32_t whole = crc32c::ExtendPortable(0, p, n);
    EXPECT_EQ(whole, crc32c::ExtendHardware(0, p, n)) << "n=" << n;
    EXPECT_EQ(whole, crc32c::Value(p, n));
    // Random split points, each piece through a different path.
    uint32_t hw = 0, table = 0, mixed = 0;
    size_t pos = 0;
    int piece = 0;
    while (pos < n) {
      const size_t len =
          std::min<size_t>(n - pos, piece % 3 == 0 ? rng() % 13000 : rng() % 40);
      hw = crc32c::ExtendHardware(hw, p + pos, len);
      table = crc32c::ExtendPortable(table, p + pos, len);
      mixed = (piece++ % 2) ? crc32c::ExtendHardware(mixed, p + pos, len)
                            : crc32c::ExtendPortable(mixed, p + pos, len);
      pos += len;
    }
    ASSERT_EQ(whole, hw) << "round " << round;
    ASSERT_EQ(whole, table) << "round " << round;
    ASSERT_EQ(whole, mixed) << "round " << round;
  }
}

class CodecTest : public ::testing::TestWithParam<Codec> {
 protected:
  // Decodes into a buffer with guard bytes after it: a decoder must never
  // write past raw_len.
  IOStatus Decode(const std::string& stored, size_t raw_len,
                  std::string* out) {
    constexpr size_t kGuard = 64;
    std::string buf(raw_len + kGuard, '\x5a');
    IOStatus s = DecompressPayload(GetParam(), stored, &buf[0], raw_len);
    EXPECT_EQ(std::string(kGuard, '\x5a'), buf.substr(raw_len))
        << "wrote past raw_len";
    out->assign(buf.data(), raw_len);
    return s;
  }
};

TEST_P(CodecTest, RoundTrip) {
  for (size_t n : {size_t{128}, size_t{1000}, size_t{64 * 1024},
                   size_t{kMaxDataFramePayload}}) {
    for (int level : {0, 1, 3}) {
      const std::string raw = Words(n, static_cast<uint32_t>(n));
      std::string stored;
      ASSERT_TRUE(CompressPayload(GetParam(), level, raw, &stored)) << n;
      EXPECT_LT(stored.size(), raw.size());
      std::string out;
      IOStatus s = Decode(stored, raw.size(), &out);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(raw, out);
    }
  }
  // Highly repetitive data.
  const std::string zeros(100000, '\0');
  std::string stored, out;
  ASSERT_TRUE(CompressPayload(GetParam(), 0, zeros, &stored));
  EXPECT_LT(stored.size(), 1000u);
  ASSERT_TRUE(Decode(stored, zeros.size(), &out).ok());
  EXPECT_EQ(zeros, out);
}

TEST_P(CodecTest, IncompressibleDataStaysRaw) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{16}, size_t{4096},
                   size_t{300000}}) {
    std::string stored = "left over";
    EXPECT_FALSE(CompressPayload(GetParam(), 0, RandomBytes(n, n + 1),
                                 &stored))
        << n;
  }
}

TEST_P(CodecTest, WrongLengthIsCorruption) {
  const std::string raw = Words(5000, 5);
  std::string stored, out;
  ASSERT_TRUE(CompressPayload(GetParam(), 0, raw, &stored));
  for (size_t raw_len : {size_t{0}, raw.size() - 1, raw.size() + 1}) {
    IOStatus s = Decode(stored, raw_len, &out);
    EXPECT_TRUE(s.IsCorruption()) << raw_len << ": " << s.ToString();
  }
}

// Damaged compressed payloads never crash or overrun. Cut or replaced ones
// fail; a flipped byte may still decode (the frame's crc32c catches those),
// but most are caught by the codec too.
TEST_P(CodecTest, DamagedPayloads) {
  const std::string raw = Words(20000, 8);
  std::string stored, out;
  ASSERT_TRUE(CompressPayload(GetParam(), 0, raw, &stored));
  for (size_t cut = 0; cut < stored.size(); cut += 1 + cut / 8) {
    IOStatus s = Decode(stored.substr(0, cut), raw.size(), &out);
    EXPECT_TRUE(s.IsCorruption()) << "cut at " << cut << ": " << s.ToString();
  }
  for (uint64_t seed = 0; seed < 50; ++seed) {
    IOStatus s = Decode(RandomBytes(stored.size(), seed), raw.size(), &out);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  std::mt19937 rng(3);
  int failed = 0;
  for (int i = 0; i < 500; ++i) {
    std::string damaged = stored;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    IOStatus s = Decode(damaged, raw.size(), &out);
    EXPECT_TRUE(s.ok() || s.IsCorruption()) << s.ToString();
    if (!s.ok()) {
      ++failed;
      EXPECT_NE(std::string::npos, s.ToString().find(CodecName(GetParam())))
          << s.ToString();
    }
  }
  EXPECT_GT(failed, 0);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest,
                         ::testing::Values(Codec::kLz4, Codec::kZstd),
                         [](const ::testing::TestParamInfo<Codec>& info) {
                           return std::string(CodecName(info.param));
                         });

TEST(CodecNoneTest, RawAndUnknown) {
  std::string stored;
  EXPECT_FALSE(CompressPayload(Codec::kNone, 0, Words(1000, 1), &stored));
  char buf[8];
  EXPECT_TRUE(DecompressPayload(Codec::kNone, Slice("abcd"), buf, 4).ok());
  EXPECT_EQ("abcd", std::string(buf, 4));
  EXPECT_TRUE(
      DecompressPayload(Codec::kNone, Slice("abcd"), buf, 3).IsCorruption());
  IOStatus s = DecompressPayload(static_cast<Codec>(9), Slice("abcd"), buf, 4);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("9")) << s.ToString();
  for (Codec c : {Codec::kNone, Codec::kLz4Group, Codec::kZstdGroup}) {
    Codec parsed = static_cast<Codec>(77);
    ASSERT_TRUE(ParseCodec(CodecName(c), &parsed));
    EXPECT_EQ(c, parsed);
  }
  Codec parsed;
  EXPECT_FALSE(ParseCodec("snappy", &parsed));
  EXPECT_FALSE(ParseCodec("", &parsed));
}

TEST(VarintTest, RoundTripsAndLengths) {
  const std::pair<uint64_t, size_t> cases[] = {
      {0, 1},
      {1, 1},
      {127, 1},
      {128, 2},
      {16383, 2},
      {16384, 3},
      {(1ull << 32) - 1, 5},
      {1ull << 32, 5},
      {(1ull << 63) - 1, 9},
      {1ull << 63, 10},
      {UINT64_MAX, 10},
  };
  std::string all;
  for (const auto& [value, length] : cases) {
    std::string buf;
    PutVarint64(&buf, value);
    EXPECT_EQ(length, buf.size()) << value;
    Slice in(buf);
    uint64_t out = 0;
    ASSERT_TRUE(GetVarint64(&in, &out)) << value;
    EXPECT_EQ(value, out);
    EXPECT_TRUE(in.empty());
    all += buf;
  }
  // Back to back, each consumes exactly its own bytes.
  Slice in(all);
  for (const auto& entry : cases) {
    uint64_t out = 0;
    ASSERT_TRUE(GetVarint64(&in, &out));
    EXPECT_EQ(entry.first, out);
  }
  EXPECT_TRUE(in.empty());
}

TEST(VarintTest, RejectsTruncatedAndOverlong) {
  uint64_t out = 0;
  Slice empty;
  EXPECT_FALSE(GetVarint64(&empty, &out));
  for (uint64_t value : {uint64_t{128}, uint64_t{1} << 40, UINT64_MAX}) {
    std::string buf;
    PutVarint64(&buf, value);
    for (size_t cut = 0; cut < buf.size(); ++cut) {
      Slice in(buf.data(), cut);
      EXPECT_FALSE(GetVarint64(&in, &out)) << value << " cut " << cut;
    }
  }
  // Eleven bytes: continuation bits past the tenth.
  const std::string overlong = std::string(10, '\x80') + std::string(1, '\0');
  Slice in(overlong);
  EXPECT_FALSE(GetVarint64(&in, &out));
}

}  // namespace
}  // namespace segwal
