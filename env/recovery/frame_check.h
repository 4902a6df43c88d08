// Whether the bytes at a position of a segment image are a valid frame:
// the checks every frame passes in a recovery scan (its header, its
// lengths within the segment, its checksum, its codec and sizes) and, for
// the frames of a compression group, that the frame before it in its
// group was kept. The recovery scan (scanner.h) and its incremental entry
// point (tail_scan.h) judge frames with these.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "env/format/format.h"
#include "env/recovery/damage.h"
#include "rocksdb/slice.h"

namespace segwal {

using rocksdb::Slice;

// Why the bytes at a frame position are not a valid frame.
struct FrameFault {
  DamageKind kind = DamageKind::kBadFrameHeader;
  std::string reason;
  // The header itself checked out, so its length can be trusted to step
  // over the frame.
  bool header_ok = false;
};

// Checks the frame at `pos` of a segment image (of format `version`) whose
// frames end by `limit`; the image's first byte is at segment offset
// `image_start` (the frame's segment offset, image_start + pos, decodes
// version 4's durable mark). True for a valid frame (*h decoded); else
// *fault says why not.
bool CheckFrame(uint32_t version, const Slice& image, uint64_t image_start,
                uint64_t pos, uint64_t limit, uint32_t seed, FrameHeader* h,
                FrameFault* fault);

// CheckFrame without the reason.
bool IsValidFrame(uint32_t version, const Slice& image, uint64_t image_start,
                  uint64_t pos, uint64_t limit, uint32_t seed,
                  FrameHeader* h);

// The frames of compression groups a segment scan kept so far, by segment
// offset: what a later frame of the group must follow.
struct GroupTail {
  uint64_t file_id = 0;
  uint64_t file_end = 0;     // logical offset just past the frame's bytes
  uint64_t group_start = 0;  // segment offset of the group's first frame
  uint64_t group_raw = 0;    // decoded bytes of the group up to the frame
  Codec codec = Codec::kNone;
};
using GroupTails = std::unordered_map<uint64_t, GroupTail>;

// Whether the valid group frame `h` at `pos` follows a kept frame of its
// group (the frame its `prev` names, holding the bytes of the same file
// just before it, in bounds); a frame starting a group always does. Records
// it in *tails if so; else *fault names the frame it depends on.
bool FollowsGroup(const FrameHeader& h, uint64_t pos, uint64_t footprint,
                  GroupTails* tails, FrameFault* fault);

// The first position at or after `pos` (a multiple of `step` past it)
// where a frame header could start: one that does not lie wholly inside
// the run of zero bytes at `pos` (a header is never all zero). `pos` if
// the byte there is not zero.
uint64_t PastZeros(const Slice& image, uint64_t pos, uint64_t step,
                   uint64_t min_header);

}  // namespace segwal
