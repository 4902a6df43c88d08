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
// In a process following a log that another process writes, that process
// reclaims and recycles segments: before judging, a failed read asks for
// the catalog to be brought up to date (`refresh`), which moves the epoch
// if anything changed. A file deleted by that process whose bytes it
// reclaimed since reads as PathNotFound, saying so.
//
// Thread-safe; each ReadCache belongs to one reader at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "env/engine/catalog.h"
#include "env/format/group_codec.h"

namespace segwal {

class DecodeAhead;

// Per-reader cache of the segment bytes and decoded frame last used, so that
// sequential reads do not re-read or re-verify a frame for every call.
struct ReadCache {
  uint64_t segment_id = 0;
  uint64_t window_start = 0;
  std::string window;          // segment bytes [window_start, +size)
  uint64_t frame_segment = 0;  // the frame whose payload is loaded
  uint64_t frame_offset = 0;
  bool has_frame = false;
  // Its decoded bytes (while has_frame): in `window` for a raw frame, in
  // `decoded` for a compressed one.
  const char* frame_payload = nullptr;
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
  // A sequential reader's decode-ahead (env/engine/decode_ahead.h), owned
  // by the reader; frames of the codecs it Pays for are asked of it first.
  DecodeAhead* ahead = nullptr;

  // After a failed read: the window may hold a recycled file's new bytes,
  // and the group decoder stands nowhere known.
  void ForgetAfterFailure() {
    segment_id = 0;
    has_frame = false;
    group_segment = 0;
  }
};

class Reader {
 public:
  // `dir` names the log in messages; `refresh` (may be empty) runs after a
  // failed read, before the epoch is compared.
  Reader(std::string dir, Catalog* catalog, std::function<void()> refresh);

  // Reads up to n bytes of file `id` at offset; *read < n only at the end
  // of the file.
  IOStatus Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                size_t* read, ReadCache* cache);

  // Loads the decoded payload of the frame behind `extent` into
  // cache->frame_payload, verifying its checksum (and, for a frame of a
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

  // The failure `s` of reading file `id`, a piece of which lay in
  // `segment`, once retrying is over.
  IOStatus Explain(const IOStatus& s, uint64_t id, const std::string& name,
                   const Segment* segment) const;

  const std::string dir_;
  Catalog* const catalog_;
  const std::function<void()> refresh_;
};

}  // namespace segwal
