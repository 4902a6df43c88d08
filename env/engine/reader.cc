#include "env/engine/reader.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "env/engine/decode_ahead.h"
#include "env/format/codec.h"

namespace segwal {
namespace {

constexpr size_t kReadWindow = 256 * 1024;
constexpr int kReadAttempts = 8;

}  // namespace

Reader::Reader(std::string dir, Catalog* catalog,
               std::function<void()> refresh)
    : dir_(std::move(dir)), catalog_(catalog), refresh_(std::move(refresh)) {}

IOStatus Reader::Explain(const IOStatus& s, uint64_t id,
                         const std::string& name,
                         const Segment* segment) const {
  if (segment == nullptr || !name.empty() ||
      !segment->gone.load(std::memory_order_acquire)) {
    return s;
  }
  // Deleted by the writing process, open here; the segment holding its
  // bytes was reclaimed since and its file reused: the bytes are gone.
  return IOStatus::PathNotFound(
      "segwal log " + dir_ + ": logical file id " + std::to_string(id) +
      " was deleted by the process writing the log, which has reclaimed "
      "segment " + std::to_string(segment->id) + " holding its bytes (" +
      s.ToString() + ")");
}

IOStatus Reader::ReadFramePayload(const Extent& extent, const Segment& segment,
                                  uint64_t valid_end, ReadCache* cache,
                                  const std::string& file_name) {
  if (cache->frame_segment == segment.id &&
      cache->frame_offset == extent.frame_offset && cache->has_frame) {
    return IOStatus::OK();
  }
  const uint64_t start = extent.frame_offset;
  const uint64_t need = uint64_t{extent.header_len} + extent.stored_len;
  const auto where = [&] {
    return "segwal log " + dir_ + ": file " + file_name + ", segment " +
           std::to_string(segment.id) + " offset " + std::to_string(start);
  };
  if (start + need > valid_end) {
    return IOStatus::Corruption(where() + ": frame lies past the segment end");
  }
  const bool cached = cache->segment_id == segment.id &&
                      start >= cache->window_start &&
                      start + need <= cache->window_start + cache->window.size();
  if (!cached) {
    const uint64_t len = std::max<uint64_t>(
        need, std::min<uint64_t>(kReadWindow, valid_end - start));
    cache->window.resize(len);  // frame_payload may point into it
    cache->has_frame = false;
    size_t got = 0;
    IOStatus s = segment.file->Read(start, len, &cache->window[0], &got);
    if (!s.ok()) return s;
    if (got < need) {
      return IOStatus::Corruption(where() + ": segment file is truncated");
    }
    cache->window.resize(got);
    cache->segment_id = segment.id;
    cache->window_start = start;
  }
  const char* frame = cache->window.data() + (start - cache->window_start);
  const char* payload = frame + extent.header_len;
  if (!VerifyFrameBytes(segment.version, frame, extent.header_len,
                        extent.stored_len, extent.crc, segment.seed)) {
    IOStatus s = IOStatus::Corruption(where() + ": payload checksum mismatch");
    s.SetDataLoss(true);
    return s;
  }
  if (extent.codec == Codec::kNone) {
    cache->frame_payload = payload;  // no copy: the window holds it
  } else {
    cache->decoded.resize(extent.raw_len);
    IOStatus s = IsGroupCodec(extent.codec)
                     ? DecodeGroupFrame(extent, segment, frame, cache)
                     : DecompressPayload(extent.codec,
                                         Slice(payload, extent.stored_len),
                                         &cache->decoded[0], extent.raw_len);
    if (!s.ok()) {
      cache->group_segment = 0;
      IOStatus c = IOStatus::Corruption(where() + ": " + s.ToString());
      c.SetDataLoss(true);
      return c;
    }
    cache->frame_payload = cache->decoded.data();
  }
  cache->frame_segment = segment.id;
  cache->frame_offset = extent.frame_offset;
  cache->has_frame = true;
  return IOStatus::OK();
}

namespace {

// A frame of a group as the reader finds it in the segment.
struct GroupLink {
  uint64_t pos = 0;
  FrameHeader h;
};

}  // namespace

// The frames of a group lie within kMaxGroupSpan bytes before the end of
// its last one, in the same segment: one read finds them, walking back
// through each frame's `prev`. Each must check out and hold the bytes of
// the same file right before the next; else this frame cannot be decoded,
// and says which frame it depends on.
IOStatus Reader::DecodeGroupFrame(const Extent& extent, const Segment& segment,
                                  const char* frame, ReadCache* cache) {
  FrameHeader h;
  if (DecodeFrameHeader(segment.version, frame, extent.header_len,
                        segment.seed, extent.frame_offset,
                        &h) != FrameCheck::kValid ||
      h.codec != extent.codec || !h.has_offset) {
    return IOStatus::Corruption("frame header does not decode");
  }
  const Slice stored(frame + h.header_len, h.stored_len);
  char* dst = &cache->decoded[0];
  const uint64_t pos = extent.frame_offset;
  if (h.prev == 0) {
    IOStatus s = cache->group.Decode(h.codec, true, stored, dst, h.raw_len);
    if (!s.ok()) return s;
  } else if (cache->group_segment == segment.id &&
             cache->group_offset + h.prev == pos &&
             cache->group_file == h.file_id && cache->group_end == h.offset) {
    IOStatus s = cache->group.Decode(h.codec, false, stored, dst, h.raw_len);
    if (!s.ok()) return s;
  } else {
    if (h.prev > pos - kSegmentHeaderBlock) {
      return IOStatus::Corruption("previous frame of its compression group "
                                  "lies before the segment's frames");
    }
    const uint64_t lo = pos + h.header_len + h.stored_len > kMaxGroupSpan
                            ? pos + h.header_len + h.stored_len - kMaxGroupSpan
                            : 0;
    const uint64_t from = std::max<uint64_t>(lo, kSegmentHeaderBlock);
    if (pos - h.prev < from) {
      return IOStatus::Corruption("its compression group spans more than " +
                                  std::to_string(kMaxGroupSpan) + " bytes");
    }
    std::string& span = cache->group_span;
    span.resize(pos - from);
    size_t got = 0;
    IOStatus s = segment.file->Read(from, span.size(), &span[0], &got);
    if (!s.ok()) return s;
    span.resize(got);
    // Back to the group's first frame.
    std::vector<GroupLink> chain;
    GroupLink next{pos, h};
    uint64_t raw = h.raw_len;
    while (next.h.prev != 0) {
      const uint64_t at = next.pos - next.h.prev;
      GroupLink link{at, FrameHeader()};
      const size_t avail = next.pos - at;
      const std::string damaged = "depends on damaged frame at segment " +
                                  std::to_string(segment.id) + " offset " +
                                  std::to_string(at) + " (";
      if (next.h.prev > next.pos || at < from ||
          next.pos > from + span.size()) {
        return IOStatus::Corruption(damaged + "not in the segment file)");
      }
      const char* p = span.data() + (at - from);  // only once `at` is in it
      if (DecodeFrameHeader(segment.version, p, avail, segment.seed, at,
                            &link.h) != FrameCheck::kValid ||
          link.h.header_len + uint64_t{link.h.stored_len} > avail ||
          !VerifyFrame(segment.version, p, link.h, segment.seed)) {
        return IOStatus::Corruption(damaged + "it does not check out)");
      }
      raw += link.h.raw_len;
      if (!IsDataFrame(link.h.type) || link.h.codec != h.codec ||
          link.h.file_id != h.file_id || !link.h.has_offset ||
          link.h.offset + link.h.raw_len != next.h.offset ||
          raw > kMaxGroupRawBytes) {
        return IOStatus::Corruption(
            damaged + "not the previous frame of its compression group)");
      }
      chain.push_back(link);
      next = link;
    }
    // Then forward, decoding each into the frame's buffer in turn.
    std::string scratch;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      scratch.resize(it->h.raw_len);
      const char* p = span.data() + (it->pos - from);
      s = cache->group.Decode(
          h.codec, it->h.prev == 0,
          Slice(p + it->h.header_len, it->h.stored_len), &scratch[0],
          it->h.raw_len);
      if (!s.ok()) {
        return IOStatus::Corruption("depends on frame at segment " +
                                    std::to_string(segment.id) + " offset " +
                                    std::to_string(it->pos) + ": " +
                                    s.ToString());
      }
    }
    s = cache->group.Decode(h.codec, false, stored, dst, h.raw_len);
    if (!s.ok()) return s;
  }
  cache->group_segment = segment.id;
  cache->group_offset = pos;
  cache->group_file = h.file_id;
  cache->group_end = h.offset + h.raw_len;
  return IOStatus::OK();
}

IOStatus Reader::Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                      size_t* read, ReadCache* cache) {
  std::vector<ReadPiece> pieces;
  std::string file_name;
  *read = 0;
  IOStatus s;
  std::shared_ptr<Segment> failed;  // where the last failure was
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    uint64_t epoch = 0;
    s = catalog_->ResolveRead(id, offset, n, &pieces, &file_name, &epoch);
    if (!s.ok()) return s;
    size_t done = 0;
    for (const ReadPiece& piece : pieces) {
      const char* ahead = nullptr;
      if (piece.extent.hole) {
        std::memset(scratch + done, 0, piece.len);
      } else if (cache->ahead != nullptr &&
                 DecodeAhead::Pays(piece.extent.codec) &&
                 (ahead = cache->ahead->Find(piece, offset + done)) !=
                     nullptr) {
        std::memcpy(scratch + done,
                    ahead + piece.extent.skip + piece.skip_into, piece.len);
      } else {
        s = ReadFramePayload(piece.extent, *piece.segment, piece.valid_end,
                             cache, file_name);
        if (!s.ok()) {
          failed = piece.segment;
          break;
        }
        std::memcpy(scratch + done,
                    cache->frame_payload + piece.extent.skip +
                        piece.skip_into,
                    piece.len);
      }
      done += piece.len;
    }
    if (s.ok()) {
      *read = done;
      return s;
    }
    cache->ForgetAfterFailure();
    if (refresh_) refresh_();
    if (catalog_->reclaim_epoch() == epoch) break;
  }
  return Explain(s, id, file_name, failed.get());
}

}  // namespace segwal
