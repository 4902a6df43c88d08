// The group codecs of format version 3 (Codec::kLz4Group, kZstdGroup):
// the frames of one compression group are one lz4 stream (each frame an
// lz4 block that may match the group's earlier bytes) or one magicless
// zstd frame (each segwal frame the blocks one flush emits; no checksum,
// content size or dictionary id, since the frame header has the length
// and a CRC). A zstd group of 64 KiB or more starts with a dictionary the
// encoder fitted to what it compressed before: entropy tables, which the
// group's small blocks reuse. A group's first frame decodes alone; every
// later frame only after the frames of the group before it, in order.
//
// Neither class is thread-safe: each belongs to one writer of one logical
// file (GroupEncoder) or one reader (GroupDecoder) at a time. Their codec
// contexts are created once and reused for every frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "env/format/format.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace segwal {

class GroupEncoder {
 public:
  // `codec` is a group codec; `level` as the compression_level option (0:
  // the codec's default, lz4 acceleration 2, zstd level 1); a group holds
  // at most `group_bytes` decoded bytes (at most kMaxGroupRawBytes).
  // `dictionaries`: zstd groups of 64 KiB or more start with entropy
  // tables (not for one-frame groups).
  GroupEncoder(Codec codec, int level, uint32_t group_bytes,
               bool dictionaries = true);
  ~GroupEncoder();
  GroupEncoder(const GroupEncoder&) = delete;
  GroupEncoder& operator=(const GroupEncoder&) = delete;

  // Compresses `chunk` (at most kMaxDataFramePayload bytes) into *out as the
  // next frame of the current group, or as the first frame of a new group
  // when Restart was called, nothing was compressed yet, or the chunk would
  // take the group past its size. Returns true if it started a group.
  bool Compress(const rocksdb::Slice& chunk, std::string* out);
  // The next chunk starts a new group.
  void Restart() { started_ = false; }
  // Whether a group is under way (the next chunk may continue it).
  bool started() const { return started_; }
  Codec codec() const { return codec_; }

 private:
  bool CompressLz4(const rocksdb::Slice& chunk, bool start, std::string* out);
  void CompressZstd(const rocksdb::Slice& chunk, bool start, std::string* out);
  void MakeDictionary();

  const Codec codec_;
  const int level_;
  const uint32_t group_bytes_;
  const bool dictionaries_;
  bool started_ = false;
  uint64_t group_raw_ = 0;  // decoded bytes in the current group
  struct State;
  std::unique_ptr<State> state_;
};

class GroupDecoder {
 public:
  GroupDecoder();
  ~GroupDecoder();
  // Movable (a reader's cache is replaced whole); a moved-from decoder
  // starts over.
  GroupDecoder(GroupDecoder&&) noexcept;
  GroupDecoder& operator=(GroupDecoder&&) noexcept;

  // Decodes one frame's stored payload into exactly `raw_len` bytes at dst:
  // the first frame of a group when `start`, else the frame after the last
  // one decoded (same codec). An error (the payload does not decode to
  // raw_len bytes, or the group would pass kMaxGroupRawBytes) names the
  // codec; the decoder must then be started again. What decoding
  // allocates is bounded by kMaxGroupRawBytes.
  rocksdb::IOStatus Decode(Codec codec, bool start,
                           const rocksdb::Slice& stored, char* dst,
                           size_t raw_len);

 private:
  rocksdb::IOStatus DecodeLz4(const rocksdb::Slice& stored, char* dst,
                              size_t raw_len);
  rocksdb::IOStatus DecodeZstd(bool start, const rocksdb::Slice& stored,
                               char* dst, size_t raw_len);

  Codec codec_ = Codec::kNone;
  bool ready_ = false;     // a group is under way and decoded cleanly
  uint64_t group_raw_ = 0;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace segwal
