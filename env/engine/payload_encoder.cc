#include "env/engine/payload_encoder.h"

#include <algorithm>

namespace segwal {
namespace {

uint32_t MaxFramePayload(uint64_t segment_size) {
  const uint64_t quarter = (segment_size - kSegmentHeaderBlock) / 4;
  return static_cast<uint32_t>(
      std::min<uint64_t>(kMaxDataFramePayload, quarter & ~uint64_t{7}));
}

// One encoder per thread and codec for writes that are groups of their
// own, its contexts reused (relocation, zeros, writes at an offset).
GroupEncoder* ThreadEncoder(Codec codec, int level) {
  thread_local std::unique_ptr<GroupEncoder> encoders[2];
  thread_local int levels[2] = {0, 0};
  const int i = codec == Codec::kLz4Group ? 0 : 1;
  if (encoders[i] == nullptr || levels[i] != level) {
    encoders[i] = std::make_unique<GroupEncoder>(
        codec, level, kMaxDataFramePayload, /*dictionaries=*/false);
    levels[i] = level;
  }
  return encoders[i].get();
}

}  // namespace

PayloadEncoder::PayloadEncoder(const LogOptions& options)
    : codec_(options.compression),
      level_(options.compression_level),
      min_bytes_(options.compression_min_bytes),
      max_frame_payload_(MaxFramePayload(options.segment_size)),
      group_bytes_(static_cast<uint32_t>(std::min<uint64_t>(
          options.compression_group_bytes, kMaxGroupRawBytes))) {}

template <typename Compress>
std::vector<EncodedChunk> PayloadEncoder::Cut(const Slice& data, Codec codec,
                                              const Compress& compress) const {
  std::vector<EncodedChunk> chunks;
  chunks.reserve((data.size() + max_frame_payload_ - 1) / max_frame_payload_);
  for (size_t pos = 0; pos < data.size(); pos += max_frame_payload_) {
    EncodedChunk chunk;
    chunk.raw = Slice(data.data() + pos,
                      std::min<size_t>(max_frame_payload_, data.size() - pos));
    if (codec != Codec::kNone) compress(&chunk);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

std::vector<EncodedChunk> PayloadEncoder::Encode(const Slice& data) const {
  return Cut(data, codec_, [&](EncodedChunk* chunk) {
    if (chunk->raw.size() < min_bytes_) return;
    GroupEncoder* encoder = ThreadEncoder(codec_, level_);
    encoder->Restart();
    chunk->group_start = encoder->Compress(chunk->raw, &chunk->compressed);
    chunk->codec = codec_;
  });
}

std::shared_ptr<FileStream> PayloadEncoder::StreamOf(uint64_t id) {
  if (codec_ == Codec::kNone) return nullptr;
  std::lock_guard<std::mutex> guard(mu_);
  std::shared_ptr<FileStream>& stream = streams_[id];
  if (stream == nullptr) {
    stream = std::make_shared<FileStream>(codec_, level_, group_bytes_);
  }
  return stream;
}

void PayloadEncoder::Forget(uint64_t id) {
  if (codec_ == Codec::kNone) return;
  std::lock_guard<std::mutex> guard(mu_);
  streams_.erase(id);
}

// compression_min_bytes keeps a small chunk raw only where it would start
// a group: within a group, small appends are where learning pays most.
std::vector<EncodedChunk> PayloadEncoder::EncodeAppend(
    FileStream* stream, const Slice& data) const {
  // The group ended where the writer wrote (a raw frame, a refused one).
  if (stream->cursor.segment_id == 0) stream->encoder.Restart();
  return Cut(data, stream->encoder.codec(), [&](EncodedChunk* chunk) {
    if (!stream->encoder.started() && chunk->raw.size() < min_bytes_) return;
    chunk->group_start =
        stream->encoder.Compress(chunk->raw, &chunk->compressed);
    chunk->codec = stream->encoder.codec();
  });
}

}  // namespace segwal
