// Turns the bytes of one write into data-frame payloads: cut to at most
// the frame payload limit and, with compression on, compressed by a group
// codec (env/format/group_codec.h). Runs before the writer's lock is taken.
//
// Appends to a logical file learn from the file's earlier appends: each
// file being appended to has a FileStream, whose encoder continues the
// file's current compression group. Whether a chunk may continue its group
// where it lands is decided under the writer's lock (SegmentWriter, with
// the stream's GroupCursor); when it may not, the caller restarts the
// stream and encodes the rest again (WritableLog::Append). Other writes
// (at an offset, zeros, relocated copies) are groups of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "env/engine/log_options.h"
#include "env/format/group_codec.h"
#include "rocksdb/slice.h"

namespace segwal {

using rocksdb::Slice;

// A data payload ready to be framed: compressed, else a view of the
// caller's bytes (valid while they are: no copy on the hot path).
struct EncodedChunk {
  Codec codec = Codec::kNone;
  bool group_start = true;  // group codecs: the first frame of its group
  Slice raw;
  std::string compressed;  // when codec != kNone
  uint32_t raw_len() const { return static_cast<uint32_t>(raw.size()); }
  Slice stored() const {
    return codec == Codec::kNone ? raw : Slice(compressed);
  }
};

// Where the last frame of a file's current group was written: set by the
// writer under its lock, read by it for the next frame of the group.
struct GroupCursor {
  uint64_t segment_id = 0;   // 0: no group under way
  uint64_t group_start = 0;  // segment offset of the group's first frame
  uint64_t frame_offset = 0; // segment offset of its last frame
  uint64_t file_end = 0;     // logical offset just past that frame's bytes
  Codec codec = Codec::kNone;
};

// The compression state of one file being appended to. An Append holds
// `mu` while it encodes and writes (RocksDB appends to a WAL from one
// thread at a time, so it is uncontended; it keeps two handles appending
// to one file from interleaving a stream). The writer updates `cursor`
// during that Append. Lock order: `mu` before the writer's lock.
struct FileStream {
  FileStream(Codec codec, int level, uint32_t group_bytes)
      : encoder(codec, level, group_bytes) {}
  std::mutex mu;
  GroupEncoder encoder;
  GroupCursor cursor;
};

class PayloadEncoder {
 public:
  explicit PayloadEncoder(const LogOptions& options);

  // The most payload bytes one data frame carries in this log: small
  // enough that several frames fit one segment, so a rotation never
  // strands most of a segment.
  uint32_t max_frame_payload() const { return max_frame_payload_; }
  Codec codec() const { return codec_; }

  // Cuts `data` into frame-sized chunks, each a group of its own; they
  // refer to `data`. Thread-safe.
  std::vector<EncodedChunk> Encode(const Slice& data) const;

  // The stream of file `id` (created at its first use); null when the log
  // does not compress. Thread-safe.
  std::shared_ptr<FileStream> StreamOf(uint64_t id);
  // Drops file `id`'s stream (its file was truncated, deleted or closed):
  // its next append starts a new group. Thread-safe.
  void Forget(uint64_t id);
  // Cuts `data` into chunks continuing `stream`'s group, as far as the
  // group's size allows; they refer to `data`.
  std::vector<EncodedChunk> EncodeAppend(FileStream* stream,
                                         const Slice& data) const;

 private:
  template <typename Compress>
  std::vector<EncodedChunk> Cut(const Slice& data, Codec codec,
                                const Compress& compress) const;

  const Codec codec_;
  const int level_;
  const uint64_t min_bytes_;
  const uint32_t max_frame_payload_;
  const uint32_t group_bytes_;
  std::mutex mu_;  // guards streams_
  std::unordered_map<uint64_t, std::shared_ptr<FileStream>> streams_;
};

}  // namespace segwal
