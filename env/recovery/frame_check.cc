#include "env/recovery/frame_check.h"

#include <algorithm>
#include <cstring>

namespace segwal {

bool CheckFrame(uint32_t version, const Slice& image, uint64_t image_start,
                uint64_t pos, uint64_t limit, uint32_t seed, FrameHeader* h,
                FrameFault* fault) {
  fault->header_ok = false;
  fault->kind = DamageKind::kBadFrameHeader;
  if (limit - pos < MinFrameHeaderSize(version)) {
    fault->reason = "truncated frame header (" + std::to_string(limit - pos) +
                    " bytes before the end)";
    return false;
  }
  // The image may end before `limit` (a file shorter than its segment, see
  // ScanSegment): what lies beyond reads as zeros.
  const uint64_t avail =
      pos < image.size() ? std::min<uint64_t>(image.size(), limit) - pos : 0;
  const FrameCheck check = avail == 0
                               ? FrameCheck::kZero
                               : DecodeFrameHeader(version, image.data() + pos,
                                                   avail, seed,
                                                   image_start + pos, h);
  if (check != FrameCheck::kValid) {
    fault->reason = FrameCheckName(check);
    return false;
  }
  const uint64_t room = limit - pos - h->header_len;
  if (h->header_len > limit - pos || h->stored_len > room) {
    fault->reason = "frame length " + std::to_string(h->stored_len) +
                    " exceeds the " +
                    std::to_string(limit - pos - std::min<uint64_t>(
                                                     limit - pos,
                                                     h->header_len)) +
                    " bytes left in the segment";
    return false;  // the length cannot be used to step over it
  }
  fault->header_ok = true;
  fault->kind = DamageKind::kBadPayload;
  // A payload running past the image's end, into zeros the image does not
  // hold, cannot match its checksum.
  if (pos + h->header_len + h->stored_len > image.size() ||
      !VerifyFrame(version, image.data() + pos, *h, seed)) {
    fault->reason = "payload checksum mismatch";
    return false;
  }
  switch (h->codec) {
    case Codec::kNone:
      if (h->raw_len != h->stored_len) {
        fault->reason = "raw frame with two lengths";
        return false;
      }
      break;
    case Codec::kLz4:
    case Codec::kZstd:
    case Codec::kLz4Group:
    case Codec::kZstdGroup:
      if (h->raw_len > kMaxDataFramePayload) {
        fault->reason = "decoded length " + std::to_string(h->raw_len) +
                        " exceeds the frame maximum";
        return false;
      }
      break;
    default:
      fault->reason =
          "unknown codec " + std::to_string(static_cast<int>(h->codec));
      return false;
  }
  return true;
}

bool FollowsGroup(const FrameHeader& h, uint64_t pos, uint64_t footprint,
                  GroupTails* tails, FrameFault* fault) {
  GroupTail tail{h.file_id, h.offset + h.raw_len, pos, h.raw_len, h.codec};
  if (h.prev != 0) {
    const uint64_t at = pos - std::min<uint64_t>(pos, h.prev);
    const auto it = tails->find(at);
    const bool follows =
        it != tails->end() && it->second.file_id == h.file_id &&
        it->second.codec == h.codec && h.has_offset &&
        it->second.file_end == h.offset &&
        it->second.group_raw + h.raw_len <= kMaxGroupRawBytes &&
        pos + footprint - it->second.group_start <= kMaxGroupSpan;
    if (!follows) {
      *fault = FrameFault{DamageKind::kBrokenGroup,
                          "depends on damaged frame at offset " +
                              std::to_string(at) +
                              " (the previous frame of its compression "
                              "group is damaged, skipped or not of its group)",
                          true};
      return false;
    }
    tail.group_start = it->second.group_start;
    tail.group_raw = it->second.group_raw + h.raw_len;
    // A frame has one successor in its group: the map holds about one
    // frame per group.
    tails->erase(it);
  }
  (*tails)[pos] = tail;
  return true;
}

bool IsValidFrame(uint32_t version, const Slice& image, uint64_t image_start,
                  uint64_t pos, uint64_t limit, uint32_t seed,
                  FrameHeader* h) {
  FrameFault unused;
  return CheckFrame(version, image, image_start, pos, limit, seed, h,
                    &unused);
}

uint64_t PastZeros(const Slice& image, uint64_t pos, uint64_t step,
                   uint64_t min_header) {
  if (pos >= image.size() || image[pos] != 0) return pos;
  // Eight bytes at a time: a segment's unwritten tail is megabytes of
  // zeros, scanned at every open.
  uint64_t q = pos;
  while (q + sizeof(uint64_t) <= image.size()) {
    uint64_t word;
    std::memcpy(&word, image.data() + q, sizeof(word));
    if (word != 0) break;
    q += sizeof(word);
  }
  while (q < image.size() && image[q] == 0) ++q;
  // A header starting at p must hold a non-zero byte, so q < p + min_header.
  const uint64_t first = q >= min_header ? q - min_header + 1 : 0;
  if (first <= pos) return pos;
  return pos + AlignUp(first - pos, step);
}

}  // namespace segwal
