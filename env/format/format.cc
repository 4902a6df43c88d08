#include "env/format/format.h"

#include <cstring>

#include "env/format/crc32c.h"

namespace segwal {

void PutFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
void PutFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  }
  return v;
}
uint64_t GetFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  }
  return v;
}

// Segment header layout (little endian):
//   0 magic[8] | 8 version u32 | 12 header size u32 | 16 segment id u64
//   24 log uid u64 | 32 segment size u64 | 40 prev id u64 | 48 prev end u64
//   56 created u32 | 60 masked crc32c of bytes [0, 60) u32
void EncodeSegmentHeader(const SegmentHeader& h, char* dst) {
  std::memcpy(dst, kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(dst + 8, kFormatVersion);
  PutFixed32(dst + 12, static_cast<uint32_t>(kSegmentHeaderSize));
  PutFixed64(dst + 16, h.segment_id);
  PutFixed64(dst + 24, h.log_uid);
  PutFixed64(dst + 32, h.segment_size);
  PutFixed64(dst + 40, h.prev_segment_id);
  PutFixed64(dst + 48, h.prev_segment_end);
  PutFixed32(dst + 56, static_cast<uint32_t>(h.created_unix_time));
  PutFixed32(dst + 60, crc32c::Mask(crc32c::Value(dst, 60)));
}

HeaderCheck DecodeSegmentHeader(const char* src, size_t n, SegmentHeader* h,
                                uint32_t* version) {
  if (n < kSegmentHeaderSize) return HeaderCheck::kTooShort;
  bool all_zero = true;
  for (size_t i = 0; i < kSegmentHeaderSize && all_zero; ++i) {
    all_zero = src[i] == 0;
  }
  if (all_zero) return HeaderCheck::kZero;
  if (std::memcmp(src, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return HeaderCheck::kBadMagic;
  }
  *version = GetFixed32(src + 8);
  if (*version != kFormatVersion) return HeaderCheck::kBadVersion;
  if (GetFixed32(src + 12) != kSegmentHeaderSize ||
      crc32c::Unmask(GetFixed32(src + 60)) != crc32c::Value(src, 60)) {
    return HeaderCheck::kBadChecksum;
  }
  h->segment_id = GetFixed64(src + 16);
  h->log_uid = GetFixed64(src + 24);
  h->segment_size = GetFixed64(src + 32);
  h->prev_segment_id = GetFixed64(src + 40);
  h->prev_segment_end = GetFixed64(src + 48);
  h->created_unix_time = GetFixed32(src + 56);
  return HeaderCheck::kValid;
}

const char* HeaderCheckName(HeaderCheck check) {
  switch (check) {
    case HeaderCheck::kValid: return "valid";
    case HeaderCheck::kZero: return "never written (all zero)";
    case HeaderCheck::kTooShort: return "shorter than a segment header";
    case HeaderCheck::kBadMagic: return "bad magic (not a segwal segment)";
    case HeaderCheck::kBadVersion: return "unsupported format version";
    case HeaderCheck::kBadChecksum: return "header checksum mismatch";
  }
  return "unknown";
}

uint32_t SegmentSeed(uint64_t log_uid, uint64_t segment_id) {
  char buf[16];
  PutFixed64(buf, log_uid);
  PutFixed64(buf + 8, segment_id);
  return crc32c::Value(buf, sizeof(buf));
}

// Frame header layout (little endian):
//   0 masked crc32c(seed, bytes [4, 40)) u32 | 4 stored len u32 | 8 type u8
//   9 codec u8 | 10 reserved u16 (zero) | 12 raw len u32 | 16 file id u64
//   24 offset u64 | 32 durable mark u32 | 36 masked payload crc32c u32
void EncodeFrameHeader(const FrameHeader& h, uint32_t seed, char* dst) {
  PutFixed32(dst + 4, h.stored_len);
  dst[8] = static_cast<char>(h.type);
  dst[9] = static_cast<char>(h.codec);
  dst[10] = 0;
  dst[11] = 0;
  PutFixed32(dst + 12, h.raw_len);
  PutFixed64(dst + 16, h.file_id);
  PutFixed64(dst + 24, h.offset);
  PutFixed32(dst + 32, h.durable_mark);
  PutFixed32(dst + 36, h.payload_crc);
  PutFixed32(dst, crc32c::Mask(crc32c::Extend(seed, dst + 4,
                                              kFrameHeaderSize - 4)));
}

FrameCheck DecodeFrameHeader(const char* src, uint32_t seed, FrameHeader* h) {
  bool all_zero = true;
  for (size_t i = 0; i < kFrameHeaderSize && all_zero; ++i) {
    all_zero = src[i] == 0;
  }
  if (all_zero) return FrameCheck::kZero;
  uint32_t expected = crc32c::Extend(seed, src + 4, kFrameHeaderSize - 4);
  if (crc32c::Unmask(GetFixed32(src)) != expected) {
    return FrameCheck::kBadChecksum;
  }
  if (src[10] != 0 || src[11] != 0) return FrameCheck::kBadField;
  h->stored_len = GetFixed32(src + 4);
  h->type = static_cast<uint8_t>(src[8]);
  h->codec = static_cast<Codec>(static_cast<uint8_t>(src[9]));
  h->raw_len = GetFixed32(src + 12);
  h->file_id = GetFixed64(src + 16);
  h->offset = GetFixed64(src + 24);
  h->durable_mark = GetFixed32(src + 32);
  h->payload_crc = GetFixed32(src + 36);
  return FrameCheck::kValid;
}

const char* FrameCheckName(FrameCheck check) {
  switch (check) {
    case FrameCheck::kValid: return "valid";
    case FrameCheck::kZero: return "zero (never written)";
    case FrameCheck::kBadChecksum: return "frame header checksum mismatch";
    case FrameCheck::kBadField: return "frame header has a bad field";
  }
  return "unknown";
}

uint32_t PayloadChecksum(const char* payload, size_t n) {
  return crc32c::Mask(crc32c::Value(payload, n));
}

}  // namespace segwal
