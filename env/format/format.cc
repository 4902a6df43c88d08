#include "env/format/format.h"

#include <algorithm>
#include <cstring>

#include "env/format/crc32c.h"
#include "env/format/varint.h"

namespace segwal {

using rocksdb::Slice;

void PutFixed16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
uint16_t GetFixed16(const char* src) {
  return static_cast<uint16_t>(static_cast<uint8_t>(src[0]) |
                               (static_cast<uint8_t>(src[1]) << 8));
}
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
  PutFixed32(dst + 8, h.version);
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
  if (*version < kOldestFormatVersion || *version > kFormatVersion) {
    return HeaderCheck::kBadVersion;
  }
  if (GetFixed32(src + 12) != kSegmentHeaderSize ||
      crc32c::Unmask(GetFixed32(src + 60)) != crc32c::Value(src, 60)) {
    return HeaderCheck::kBadChecksum;
  }
  h->version = *version;
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

// ---- Version 1 -------------------------------------------------------------
//
// Frame header layout (little endian):
//   0 masked crc32c(seed, bytes [4, 40)) u32 | 4 stored len u32 | 8 type u8
//   9 codec u8 | 10 reserved u16 (zero) | 12 raw len u32 | 16 file id u64
//   24 offset u64 | 32 durable mark u32 | 36 masked payload crc32c u32

void EncodeFrameHeaderV1(const FrameHeader& h, uint32_t seed, char* dst) {
  PutFixed32(dst + 4, h.stored_len);
  dst[8] = static_cast<char>(h.type);
  dst[9] = static_cast<char>(h.codec);
  dst[10] = 0;
  dst[11] = 0;
  PutFixed32(dst + 12, h.raw_len);
  PutFixed64(dst + 16, h.file_id);
  PutFixed64(dst + 24, h.offset);
  PutFixed32(dst + 32, h.durable_mark);
  PutFixed32(dst + 36, h.crc);
  PutFixed32(dst, crc32c::Mask(crc32c::Extend(seed, dst + 4,
                                              kFrameHeaderSizeV1 - 4)));
}

uint32_t PayloadChecksumV1(const char* payload, size_t n) {
  return crc32c::Mask(crc32c::Value(payload, n));
}

namespace {

bool AllZero(const char* src, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (src[i] != 0) return false;
  }
  return true;
}

FrameCheck DecodeV1(const char* src, size_t avail, uint32_t seed,
                    FrameHeader* h) {
  if (avail < kFrameHeaderSizeV1) {
    return AllZero(src, avail) ? FrameCheck::kZero : FrameCheck::kTruncated;
  }
  if (AllZero(src, kFrameHeaderSizeV1)) return FrameCheck::kZero;
  const uint32_t expected =
      crc32c::Extend(seed, src + 4, kFrameHeaderSizeV1 - 4);
  if (crc32c::Unmask(GetFixed32(src)) != expected) {
    return FrameCheck::kBadChecksum;
  }
  if (src[10] != 0 || src[11] != 0) return FrameCheck::kBadField;
  h->stored_len = GetFixed32(src + 4);
  h->type = static_cast<uint8_t>(src[8]);
  // Version 1 stored kNone, kLz4 and kZstd as 0-2.
  const uint8_t codec = static_cast<uint8_t>(src[9]);
  h->codec = codec <= 2 ? static_cast<Codec>(codec) : Codec::kUnknown;
  h->raw_len = GetFixed32(src + 12);
  h->file_id = GetFixed64(src + 16);
  h->offset = GetFixed64(src + 24);
  h->has_offset = true;
  h->durable_mark = GetFixed32(src + 32);
  h->crc = GetFixed32(src + 36);
  h->header_len = kFrameHeaderSizeV1;
  return FrameCheck::kValid;
}

// ---- Versions 2 to 4 --------------------------------------------------------
//
// Frame layout (integers little endian, varints LEB128):
//   0 crc u32     masked crc32c(seed, bytes [4, frame end))
//   4 check u16   low 16 bits of crc32c(seed, header bytes [6, header end))
//   6 kind u8     bits 0-3 type (12-15: safe to ignore if unknown);
//                 bits 4-5 codec;
//                 versions 2, 3: bit 6 offset present, bit 7 durable mark
//                 present (an absolute segment offset);
//                 version 4: bit 6 the durable mark is this frame's own
//                 segment offset (no field), bit 7 durable mark present as
//                 varint(frame offset - mark); the offset is present by
//                 type (data, truncate, link, relocated data)
//   7 varint stored length, varint file id, [varint offset],
//     [varint durable mark], [varint raw length if the codec is not none],
//     [varint prev if the codec is a group codec (versions 3, 4)]
//   payload
// The check lets a scan judge a header (whether a frame cut short at the
// tail is one of ours) without checksumming the payload a garbage length
// claims.

constexpr uint8_t kTypeBits = 0x0f;
constexpr uint8_t kFirstSafeToIgnoreType = 12;
constexpr uint8_t kCodecShift = 4;
constexpr uint8_t kCodecBits = 0x30;
constexpr uint8_t kHasOffset = 0x40;       // versions 2, 3
constexpr uint8_t kHasDurableMark = 0x80;
constexpr uint8_t kMarkAtFrame = 0x40;     // version 4


// Reads a varint of at most `max_bytes` bytes from [*p, end).
bool GetVarint(const char** p, const char* end, int max_bytes, uint64_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < max_bytes && *p < end; ++i) {
    const uint8_t byte = static_cast<uint8_t>(**p);
    ++*p;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

uint16_t HeaderCheck16(uint32_t seed, const char* from, size_t n) {
  return static_cast<uint16_t>(crc32c::Extend(seed, from, n));
}

}  // namespace

Codec CodecFromField(uint32_t version, uint8_t field) {
  static constexpr Codec kV2[] = {Codec::kNone, Codec::kLz4, Codec::kZstd};
  static constexpr Codec kV3[] = {Codec::kNone, Codec::kLz4Group,
                                  Codec::kZstdGroup};
  if (field >= 3) return Codec::kUnknown;
  return version >= 3 ? kV3[field] : kV2[field];
}

uint8_t CodecField(uint32_t version, Codec codec) {
  for (uint8_t field = 0; field < 3; ++field) {
    if (CodecFromField(version, field) == codec) return field;
  }
  return 3;
}

bool TypeHasOffset(uint8_t type) {
  const uint8_t t = type & kTypeBits;
  return IsDataFrame(t) || t == static_cast<uint8_t>(FrameType::kTruncate) ||
         t == static_cast<uint8_t>(FrameType::kLink);
}

FrameCheck ParseFrameHeaderV2(const char* src, size_t avail,
                              uint64_t frame_offset, FrameHeader* h,
                              uint32_t version) {
  const size_t probe = std::min(avail, kMinFrameHeaderSize);
  if (AllZero(src, probe)) return FrameCheck::kZero;
  if (avail < kMinFrameHeaderSize) return FrameCheck::kTruncated;
  const char* const end = src + std::min(avail, kMaxFrameHeaderSize);
  const char* p = src + 7;
  const uint8_t kind = static_cast<uint8_t>(src[6]);
  const uint8_t type = kind & kTypeBits;
  const bool relative_mark = version >= 4;
  const bool has_offset =
      relative_mark ? TypeHasOffset(type) : (kind & kHasOffset) != 0;
  uint64_t stored = 0, file = 0, offset = 0, mark = 0, raw = 0, prev = 0;
  bool parsed = GetVarint(&p, end, 5, &stored) &&
                GetVarint(&p, end, 10, &file);
  if (parsed && has_offset) parsed = GetVarint(&p, end, 10, &offset);
  if (parsed && (kind & kHasDurableMark)) parsed = GetVarint(&p, end, 5, &mark);
  const uint8_t field = (kind & kCodecBits) >> kCodecShift;
  const Codec codec = CodecFromField(version, field);
  if (parsed && field != 0) parsed = GetVarint(&p, end, 5, &raw);
  if (parsed && IsGroupCodec(codec)) parsed = GetVarint(&p, end, 5, &prev);
  if (!parsed) {
    // Ran out of bytes, or a varint too long: not a header of ours, or one
    // cut short.
    return p >= src + avail ? FrameCheck::kTruncated : FrameCheck::kBadChecksum;
  }
  // Version 4 records the mark relative to the frame's own offset: at it
  // (the bit, no field) or `mark` bytes before it. Either way it must lie
  // after the segment's start, and both forms at once are impossible.
  bool bad_mark = false;
  if (relative_mark && (kind & kMarkAtFrame)) {
    bad_mark = (kind & kHasDurableMark) != 0 || frame_offset == 0 ||
               frame_offset > UINT32_MAX;
    mark = frame_offset;
  } else if (relative_mark && (kind & kHasDurableMark)) {
    bad_mark = mark >= frame_offset || frame_offset > UINT32_MAX;
    mark = bad_mark ? 0 : frame_offset - mark;
  }
  h->crc = GetFixed32(src);
  h->type = type >= kFirstSafeToIgnoreType ? (type | kFrameTypeSafeToIgnore)
                                           : type;
  h->codec = codec;
  h->stored_len = static_cast<uint32_t>(stored);
  h->raw_len = codec == Codec::kNone ? h->stored_len
                                     : static_cast<uint32_t>(raw);
  h->file_id = file;
  h->has_offset = has_offset;
  h->offset = offset;
  h->durable_mark = static_cast<uint32_t>(mark);
  h->header_len = static_cast<uint32_t>(p - src);
  h->prev = static_cast<uint32_t>(prev);
  if (type == 0 || stored > UINT32_MAX || mark > UINT32_MAX ||
      raw > UINT32_MAX || prev > kMaxGroupSpan || bad_mark) {
    return FrameCheck::kBadField;
  }
  return FrameCheck::kValid;
}

void SealFrameV2(char* frame, const FrameHeader& h, uint32_t seed) {
  PutFixed16(frame + 4, HeaderCheck16(seed, frame + 6, h.header_len - 6));
  PutFixed32(frame, crc32c::Mask(crc32c::Extend(
                        seed, frame + 4, h.header_len - 4 + h.stored_len)));
}

namespace {

// The layout first (lengths and fields, as far as the bytes go), then the
// header check; a field out of range under a matching check is kBadField.
FrameCheck DecodeV2(uint32_t version, const char* src, size_t avail,
                    uint32_t seed, uint64_t frame_offset, FrameHeader* h) {
  FrameHeader parsed;
  const FrameCheck layout =
      ParseFrameHeaderV2(src, avail, frame_offset, &parsed, version);
  if (layout != FrameCheck::kValid && layout != FrameCheck::kBadField) {
    return layout;
  }
  if (GetFixed16(src + 4) !=
      HeaderCheck16(seed, src + 6, parsed.header_len - 6)) {
    return FrameCheck::kBadChecksum;
  }
  if (layout == FrameCheck::kBadField) return layout;
  *h = parsed;
  return FrameCheck::kValid;
}

}  // namespace

void EncodeFrame(FrameHeader* h, const Slice& payload, uint32_t seed,
                 uint64_t frame_offset, std::string* out, uint32_t version) {
  h->stored_len = static_cast<uint32_t>(payload.size());
  if (h->codec == Codec::kNone) h->raw_len = h->stored_len;
  uint8_t mark_bits = 0;
  uint64_t mark_field = 0;
  if (version >= 4) {
    // The offset is there by type; the mark relative to this frame's
    // offset (a mark past it would claim bytes not yet written: record
    // the frame's offset, which is no more than what was durable).
    h->has_offset = TypeHasOffset(h->type);
    if (h->durable_mark != 0 && frame_offset != 0 &&
        frame_offset <= UINT32_MAX) {
      if (h->durable_mark >= frame_offset) {
        h->durable_mark = static_cast<uint32_t>(frame_offset);
        mark_bits = kMarkAtFrame;
      } else {
        mark_bits = kHasDurableMark;
        mark_field = frame_offset - h->durable_mark;
      }
    } else {
      h->durable_mark = 0;
    }
  } else {
    mark_bits = (h->has_offset ? kHasOffset : 0) |
                (h->durable_mark != 0 ? kHasDurableMark : 0);
    mark_field = h->durable_mark;
  }
  const size_t start = out->size();
  out->resize(start + 7);
  (*out)[start + 6] = static_cast<char>(
      (h->type & kTypeBits) |
      (CodecField(version, h->codec) << kCodecShift) | mark_bits);
  PutVarint64(out, h->stored_len);
  PutVarint64(out, h->file_id);
  if (h->has_offset) PutVarint64(out, h->offset);
  if (mark_bits & kHasDurableMark) PutVarint64(out, mark_field);
  if (h->codec != Codec::kNone) PutVarint64(out, h->raw_len);
  if (IsGroupCodec(h->codec)) PutVarint64(out, h->prev);
  h->header_len = static_cast<uint32_t>(out->size() - start);
  out->append(payload.data(), payload.size());
  char* frame = &(*out)[start];
  SealFrameV2(frame, *h, seed);
  h->crc = GetFixed32(frame);
}

FrameCheck DecodeFrameHeader(uint32_t version, const char* src, size_t avail,
                             uint32_t seed, uint64_t frame_offset,
                             FrameHeader* h) {
  return version == 1 ? DecodeV1(src, avail, seed, h)
                      : DecodeV2(version, src, avail, seed, frame_offset, h);
}

bool VerifyFrameBytes(uint32_t version, const char* frame,
                      uint32_t header_len, uint32_t stored_len, uint32_t crc,
                      uint32_t seed) {
  if (version == 1) {
    return PayloadChecksumV1(frame + header_len, stored_len) == crc;
  }
  return crc32c::Mask(crc32c::Extend(seed, frame + 4,
                                     header_len - 4 + stored_len)) == crc;
}

bool VerifyFrame(uint32_t version, const char* frame, const FrameHeader& h,
                 uint32_t seed) {
  return VerifyFrameBytes(version, frame, h.header_len, h.stored_len, h.crc,
                          seed);
}

const char* FrameCheckName(FrameCheck check) {
  switch (check) {
    case FrameCheck::kValid: return "valid";
    case FrameCheck::kZero: return "zero (never written)";
    case FrameCheck::kTruncated: return "truncated frame header";
    case FrameCheck::kBadChecksum: return "frame header checksum mismatch";
    case FrameCheck::kBadField: return "frame header has a bad field";
  }
  return "unknown";
}

}  // namespace segwal
