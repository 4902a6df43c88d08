#include "env/engine/payload_encoder.h"

#include <algorithm>

#include "env/format/codec.h"

namespace segwal {
namespace {

uint32_t MaxFramePayload(uint64_t segment_size) {
  const uint64_t quarter = (segment_size - kSegmentHeaderBlock) / 4;
  return static_cast<uint32_t>(
      std::min<uint64_t>(kMaxDataFramePayload, quarter & ~uint64_t{7}));
}

}  // namespace

PayloadEncoder::PayloadEncoder(const LogOptions& options)
    : codec_(options.compression),
      level_(options.compression_level),
      min_bytes_(options.compression_min_bytes),
      max_frame_payload_(MaxFramePayload(options.segment_size)) {}

std::vector<EncodedChunk> PayloadEncoder::Encode(const Slice& data) const {
  std::vector<EncodedChunk> chunks;
  chunks.reserve((data.size() + max_frame_payload_ - 1) / max_frame_payload_);
  for (size_t pos = 0; pos < data.size(); pos += max_frame_payload_) {
    EncodedChunk chunk;
    chunk.raw = Slice(data.data() + pos,
                      std::min<size_t>(max_frame_payload_, data.size() - pos));
    if (codec_ != Codec::kNone && chunk.raw.size() >= min_bytes_ &&
        CompressPayload(codec_, level_, chunk.raw, &chunk.compressed)) {
      chunk.codec = codec_;
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace segwal
