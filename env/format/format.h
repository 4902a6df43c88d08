// The segwal on-disk format: the segment header and the frame header
// (file names: env/format/file_names.h). docs/format.md describes the same
// layout in prose.
//
// A log is a directory of segment files. Each segment starts with a header
// block; frames follow it. Every checksum is seeded with the segment's
// identity (log uid and segment id), so a frame left behind in a recycled
// segment never validates in its new life.
#pragma once

#include <cstdint>
#include <string>

#include "rocksdb/slice.h"

namespace segwal {

// Version 4 (written by this build): version 3's frames with the durable
// mark recorded relative to the frame's own segment offset (a bit of the
// kind byte when the mark is the frame's offset, else varint(frame offset -
// mark)), and the offset field present by frame type.
// Version 3: version 2's frames whose codecs are streams in bounded groups
// (docs/format.md, "Compression groups").
// Version 2: compact frame headers, no padding, one checksum over each
// whole frame, each compressed payload a whole lz4 block or zstd frame.
// Version 1 (40-byte frame headers, 8-byte aligned, separate header and
// payload checksums). Every version is still read: a log may hold segments
// of each (old ones written before an upgrade).
constexpr uint32_t kFormatVersion = 4;
constexpr uint32_t kOldestFormatVersion = 1;

// The header occupies the first block of a segment so that frames (and
// O_DIRECT writes) start block-aligned; only the first kSegmentHeaderSize
// bytes of the block are used, the rest is zero.
constexpr uint64_t kSegmentHeaderBlock = 4096;
constexpr size_t kSegmentHeaderSize = 64;
constexpr char kSegmentMagic[8] = {'s', 'e', 'g', 'w', 'a', 'l', '\r', '\n'};

// Frame headers: version 1 has a fixed 40 bytes and frames start at 8-byte
// aligned offsets; version 2 has kMinFrameHeaderSize to kMaxFrameHeaderSize
// bytes and frames follow one another with no padding.
constexpr size_t kFrameHeaderSizeV1 = 40;
constexpr size_t kMinFrameHeaderSize = 9;
constexpr size_t kMaxFrameHeaderSize = 47;  // 42 in version 2
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

// How a data frame's payload is stored. kLz4 and kZstd (format versions 1
// and 2) are whole lz4 blocks and zstd frames, each decoded alone; they are
// read, never written. kLz4Group and kZstdGroup (version 3) are frames of a
// compression group: the first frame of a group decodes alone, each later
// one only after the frames of its group before it (FrameHeader::prev).
enum class Codec : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kZstd = 2,
  kLz4Group = 3,
  kZstdGroup = 4,
  kUnknown = 15,  // a codec field this build cannot read
};
inline bool IsGroupCodec(Codec codec) {
  return codec == Codec::kLz4Group || codec == Codec::kZstdGroup;
}

// Compression groups (version 3): the decoded bytes of a group are at most
// kMaxGroupRawBytes, and its frames lie within kMaxGroupSpan bytes of one
// segment (from the first frame's header to the last frame's end), so
// decoding any frame reads and decodes at most that much.
constexpr uint32_t kMaxGroupRawBytes = 1u << 20;
constexpr uint32_t kMaxGroupSpan = 2u << 20;

struct SegmentHeader {
  uint32_t version = kFormatVersion;  // how its frames are laid out
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
  kBadVersion,     // a version this build cannot read (*version is set)
  kBadChecksum,
};

// Writes exactly kSegmentHeaderSize bytes to dst.
void EncodeSegmentHeader(const SegmentHeader& header, char* dst);
// Checks in the order size, magic, version (kOldestFormatVersion to
// kFormatVersion), checksum; *version is set once the magic matched.
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
  // Data: where the bytes go in the file; truncate: the new size; link:
  // the source file id. Frames of other types leave it out (has_offset
  // false); replay treats a data frame without one as an append.
  uint64_t offset = 0;
  bool has_offset = true;
  // Segment offset up to which this segment was known durable when the frame
  // was written (0: not recorded). Recovery uses it to tell a torn tail
  // (damage beyond every durable mark) from lost durable data (damage below
  // a later frame's mark). Version 2 records it in a frame when it moved
  // since the last frame that did, or kMarkIntervalBytes of frames ago;
  // version 4 also whenever it is the frame's own offset (that costs no
  // byte). Version 4 stores it relative to the frame's offset, so encoding
  // and decoding take that offset; here it is always the absolute one.
  uint32_t durable_mark = 0;
  // Version 1: masked crc32c of the payload. Version 2: masked crc32c,
  // seeded with the segment's identity, of the whole frame after this
  // field (header and payload).
  uint32_t crc = 0;
  uint32_t header_len = 0;  // bytes before the payload
  // Group codecs only: 0 when the frame starts a compression group, else
  // how many bytes before this frame's start (in the same segment) the
  // previous frame of its group starts.
  uint32_t prev = 0;
};

// A version-2 frame carries the durable mark at least once per this many
// bytes of frames, even when it did not move.
constexpr uint64_t kMarkIntervalBytes = 64 * 1024;

enum class FrameCheck {
  kValid,
  kZero,         // an all-zero header: never written
  kTruncated,    // fewer bytes left than the header needs
  kBadChecksum,  // header checksum mismatch (torn, stale, or damaged)
  kBadField,     // checksum fine but a field is impossible (reserved bits)
};

inline uint64_t AlignUp(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// Where frames may start: every 8 bytes in version 1, every byte in 2.
inline uint64_t FrameAlignment(uint32_t version) {
  return version == 1 ? 8 : 1;
}
// The bytes a decoded frame occupies, padding included.
inline uint64_t FrameFootprint(uint32_t version, const FrameHeader& h) {
  return version == 1 ? AlignUp(kFrameHeaderSizeV1 + h.stored_len, 8)
                      : uint64_t{h.header_len} + h.stored_len;
}
// At most the bytes a version-2 frame of `stored_len` payload bytes
// occupies, whatever its header holds.
inline uint64_t MaxFrameFootprint(uint32_t stored_len) {
  return kMaxFrameHeaderSize + stored_len;
}
// The fewest bytes any frame of `version` occupies.
inline uint64_t MinFrameHeaderSize(uint32_t version) {
  return version == 1 ? kFrameHeaderSizeV1 : kMinFrameHeaderSize;
}

// Appends a frame of format `version` (2 to 4: the header, then the
// payload), to be stored at segment offset `frame_offset`, to *out.
// Completes *header as written: stored_len, raw_len (for kNone), crc,
// header_len; in version 4 also has_offset (by type) and durable_mark (0
// if it cannot be recorded, at most frame_offset). The codec must be one
// `version` stores (kNone, kLz4, kZstd in 2; kNone and the group codecs in
// 3 and 4).
void EncodeFrame(FrameHeader* header, const rocksdb::Slice& payload,
                 uint32_t seed, uint64_t frame_offset, std::string* out,
                 uint32_t version = kFormatVersion);
// Version 4: whether a frame of `type` has the offset field (data,
// truncate, link, relocated data).
bool TypeHasOffset(uint8_t type);
// Version 1, for tests that write logs as older segwal did: writes
// exactly kFrameHeaderSizeV1 bytes; header.crc (the payload checksum,
// PayloadChecksumV1) must already be set.
void EncodeFrameHeaderV1(const FrameHeader& header, uint32_t seed,
                         char* dst);
uint32_t PayloadChecksumV1(const char* payload, size_t n);

// Version 2's layout without its checks: the fields and lengths of the
// header at src as far as its bytes go (kValid, kZero, kTruncated,
// kBadChecksum for an overlong varint, kBadField for an out-of-range
// field, with *header filled). Tests and fuzzers use it to craft frames.
// `version` (2 to 4) says what the codec field and bits 6-7 mean;
// `frame_offset` is the frame's segment offset (version 4's durable mark
// is relative to it).
FrameCheck ParseFrameHeaderV2(const char* src, size_t avail,
                              uint64_t frame_offset, FrameHeader* header,
                              uint32_t version = kFormatVersion);
// Writes the header check and frame checksum of the version-2 frame at
// `frame` laid out as `header` says (header_len, stored_len).
void SealFrameV2(char* frame, const FrameHeader& header, uint32_t seed);

// Decodes the header at src, of which `avail` bytes are readable, a frame
// at segment offset `frame_offset`. kValid means the header checks out;
// the payload is checked by VerifyFrame.
FrameCheck DecodeFrameHeader(uint32_t version, const char* src, size_t avail,
                             uint32_t seed, uint64_t frame_offset,
                             FrameHeader* header);
// Whether the frame at `frame` (its header decoded into `header`, its
// payload following) matches its checksum.
bool VerifyFrame(uint32_t version, const char* frame,
                 const FrameHeader& header, uint32_t seed);
// The same from what an extent keeps of a frame.
bool VerifyFrameBytes(uint32_t version, const char* frame,
                      uint32_t header_len, uint32_t stored_len, uint32_t crc,
                      uint32_t seed);
const char* FrameCheckName(FrameCheck check);

// The codec field of a version-2/3 frame header and back (2 bits):
// version 2 stores kNone, kLz4, kZstd as 0-2; versions 3 and 4 store kNone,
// kLz4Group, kZstdGroup as 0-2. Anything else reads as kUnknown.
Codec CodecFromField(uint32_t version, uint8_t field);
uint8_t CodecField(uint32_t version, Codec codec);

// Little-endian fixed-width helpers shared by the encoders.
void PutFixed16(char* dst, uint16_t v);
uint16_t GetFixed16(const char* src);
void PutFixed32(char* dst, uint32_t v);
void PutFixed64(char* dst, uint64_t v);
uint32_t GetFixed32(const char* src);
uint64_t GetFixed64(const char* src);

}  // namespace segwal
