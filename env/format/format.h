// The segwal on-disk format: segment file names, the segment header and the
// frame header. docs/format.md describes the same layout in prose.
//
// A log is a directory of fixed-size segment files. Each segment starts with
// a header block; frames follow it, each starting at an 8-byte aligned
// offset. Every checksum is seeded with the segment's identity (log uid and
// segment id), so a frame left behind in a recycled segment never validates
// in its new life.
#pragma once

#include <cstdint>
#include <string>

namespace segwal {

constexpr uint32_t kFormatVersion = 1;

// The header occupies the first block of a segment so that frames (and
// O_DIRECT writes) start block-aligned; only the first kSegmentHeaderSize
// bytes of the block are used, the rest is zero.
constexpr uint64_t kSegmentHeaderBlock = 4096;
constexpr size_t kSegmentHeaderSize = 64;
constexpr char kSegmentMagic[8] = {'s', 'e', 'g', 'w', 'a', 'l', '\r', '\n'};

constexpr size_t kFrameHeaderSize = 40;
constexpr uint64_t kFrameAlignment = 8;
// Appends are cut into frames of at most this many payload bytes, so a
// reader never decodes more than this to return a byte.
constexpr uint32_t kMaxDataFramePayload = 1u << 20;

// Segment sizes a log accepts (the segment_size option).
constexpr uint64_t kMinSegmentSize = 64 * 1024;
constexpr uint64_t kMaxSegmentSize = 1ull << 32;  // offsets are 32-bit
// The largest logical file: frames naming bytes beyond it are damage, and
// offset + length never overflows.
constexpr uint64_t kMaxLogicalFileSize = 1ull << 48;

enum class FrameType : uint8_t {
  kData = 1,      // file_id, offset: bytes of a logical file
  kCreate = 2,    // file_id, payload = name
  kRename = 3,    // file_id, payload = new name
  kDelete = 4,    // file_id
  kTruncate = 5,  // file_id, offset = new size
  kLink = 6,      // file_id = new file, offset = source file, payload = name
  kSnapshot = 7,  // payload = the whole file table (first frame of a segment)
  kRelocatedData = 8,  // as kData, a copy made by relocation: the file's
                       // mtime stays what it was
};
inline bool IsDataFrame(uint8_t type) {
  return type == static_cast<uint8_t>(FrameType::kData) ||
         type == static_cast<uint8_t>(FrameType::kRelocatedData);
}
// A frame type with this bit set may be skipped by a reader that does not
// know it; any other unknown type is an error (written by a newer segwal).
constexpr uint8_t kFrameTypeSafeToIgnore = 0x80;

enum class Codec : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

struct SegmentHeader {
  uint64_t segment_id = 0;
  uint64_t log_uid = 0;        // random, shared by every segment of a log
  uint64_t segment_size = 0;   // the file's fixed size
  uint64_t prev_segment_id = 0;   // the segment before this one, 0 if none
  uint64_t prev_segment_end = 0;  // where the previous segment's frames end
  uint64_t created_unix_time = 0;
};

enum class HeaderCheck {
  kValid,
  kZero,           // never written: a prepared, unused segment
  kTooShort,
  kBadMagic,
  kBadVersion,     // *version is set
  kBadChecksum,
};

// Writes exactly kSegmentHeaderSize bytes to dst.
void EncodeSegmentHeader(const SegmentHeader& header, char* dst);
// Checks in the order size, magic, version, checksum.
HeaderCheck DecodeSegmentHeader(const char* src, size_t n,
                                SegmentHeader* header, uint32_t* version);
const char* HeaderCheckName(HeaderCheck check);

// The checksum seed that binds frames to one segment of one log.
uint32_t SegmentSeed(uint64_t log_uid, uint64_t segment_id);

struct FrameHeader {
  uint32_t stored_len = 0;  // payload bytes on disk
  uint8_t type = 0;
  Codec codec = Codec::kNone;
  uint32_t raw_len = 0;     // payload bytes once decoded
  uint64_t file_id = 0;
  uint64_t offset = 0;
  // Segment offset up to which this segment was known durable when the frame
  // was written. Recovery uses it to tell a torn tail (damage beyond every
  // durable mark) from lost durable data (damage below a later frame's mark).
  uint32_t durable_mark = 0;
  uint32_t payload_crc = 0;  // masked crc32c of the stored payload
};

enum class FrameCheck {
  kValid,
  kZero,         // an all-zero header: never written
  kBadChecksum,  // header checksum mismatch (torn, stale, or damaged)
  kBadField,     // checksum fine but a field is impossible (reserved bits)
};

inline uint64_t AlignUp(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }
inline uint64_t FrameFootprint(uint32_t stored_len) {
  return AlignUp(kFrameHeaderSize + stored_len, kFrameAlignment);
}

// Writes exactly kFrameHeaderSize bytes; payload_crc must already be set.
void EncodeFrameHeader(const FrameHeader& header, uint32_t seed, char* dst);
FrameCheck DecodeFrameHeader(const char* src, uint32_t seed,
                             FrameHeader* header);
const char* FrameCheckName(FrameCheck check);
uint32_t PayloadChecksum(const char* payload, size_t n);

// Little-endian fixed-width helpers shared by the encoders.
void PutFixed32(char* dst, uint32_t v);
void PutFixed64(char* dst, uint64_t v);
uint32_t GetFixed32(const char* src);
uint64_t GetFixed64(const char* src);

}  // namespace segwal
