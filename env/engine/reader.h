// Reads logical files: resolves a byte range to frames through the
// catalog, reads and verifies each frame's payload (checksum, codec) and
// copies the bytes out.
//
// Segment files are read without any lock. Meanwhile relocation may copy
// the bytes forward and their old segment be reclaimed and recycled
// (renamed and overwritten): the frame then fails to verify. A failure is
// therefore retried on freshly resolved extents if the catalog's reclaim
// epoch moved meanwhile; one with no reclaim in between is real damage.
//
// Thread-safe; each ReadCache belongs to one reader at a time.
#pragma once

#include <cstdint>
#include <string>

#include "env/engine/catalog.h"
#include "env/format/group_codec.h"

namespace segwal {

// Per-reader cache of the segment bytes and decoded frame last used, so that
// sequential reads do not re-read or re-verify a frame for every call.
struct ReadCache {
  uint64_t segment_id = 0;
  uint64_t window_start = 0;
  std::string window;          // segment bytes [window_start, +size)
  uint64_t frame_segment = 0;  // the frame whose payload is in `decoded`
  uint64_t frame_offset = 0;
  bool has_frame = false;
  std::string decoded;
  // Group codecs: the decoder stands just after the frame at
  // group_segment/group_offset (0: nowhere), which held file `group_file`
  // up to logical offset group_end. A sequential reader decodes each next
  // frame of a group from there; any other frame from its group's start.
  GroupDecoder group;
  uint64_t group_segment = 0;
  uint64_t group_offset = 0;
  uint64_t group_file = 0;
  uint64_t group_end = 0;
  std::string group_span;  // segment bytes read to find a group's frames
};

class Reader {
 public:
  // `dir` names the log in messages.
  Reader(std::string dir, Catalog* catalog);

  // Reads up to n bytes of file `id` at offset; *read < n only at the end
  // of the file.
  IOStatus Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                size_t* read, ReadCache* cache);

  // Loads the decoded payload of the frame behind `extent` into
  // cache->decoded, verifying its checksum (and, for a frame of a
  // compression group, those of its group before it). `valid_end` is where
  // the segment's written bytes end, so the window never caches unwritten
  // bytes. (Relocation reads frames through it too.)
  IOStatus ReadFramePayload(const Extent& extent, const Segment& segment,
                            uint64_t valid_end, ReadCache* cache,
                            const std::string& file_name);

 private:
  // The group-codec part of ReadFramePayload: `frame` (verified) decoded
  // after the frames of its group before it.
  IOStatus DecodeGroupFrame(const Extent& extent, const Segment& segment,
                            const char* frame, ReadCache* cache);

  const std::string dir_;
  Catalog* const catalog_;
};

}  // namespace segwal
