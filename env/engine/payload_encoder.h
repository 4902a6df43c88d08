// Turns the bytes of one write into data-frame payloads: cut to at most
// the frame payload limit, each compressed when the codec makes it
// smaller. Runs before the writer's lock is taken.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/engine/log_options.h"
#include "rocksdb/slice.h"

namespace segwal {

using rocksdb::Slice;

// A data payload ready to be framed: compressed when that helps, else a
// view of the caller's bytes (valid while they are: no copy on the hot
// path).
struct EncodedChunk {
  Codec codec = Codec::kNone;
  Slice raw;
  std::string compressed;  // when codec != kNone
  uint32_t raw_len() const { return static_cast<uint32_t>(raw.size()); }
  Slice stored() const {
    return codec == Codec::kNone ? raw : Slice(compressed);
  }
};

class PayloadEncoder {
 public:
  explicit PayloadEncoder(const LogOptions& options);

  // The most payload bytes one data frame carries in this log: small
  // enough that several frames fit one segment, so a rotation never
  // strands most of a segment.
  uint32_t max_frame_payload() const { return max_frame_payload_; }

  // Cuts `data` into frame-sized chunks; they refer to `data`.
  std::vector<EncodedChunk> Encode(const Slice& data) const;

 private:
  const Codec codec_;
  const int level_;
  const uint64_t min_bytes_;
  const uint32_t max_frame_payload_;
};

}  // namespace segwal
