// The recovery scan's incremental entry point: reads on in one segment from
// a known frame position, with the scan's own frame check (IsValidFrame,
// env/recovery/frame_check.h), reading only what lies past that position.
//
// A process that follows a log another process writes
// (env/engine/log_follower.h) continues from where its last scan stopped
// instead of scanning the whole log again: the cost of a step grows with
// the bytes written since, not with the size of the log. It only reads and
// stops at the first position that does not hold a valid frame: in the
// segment being written, that is where the writer is (a frame it is still
// writing reads as torn); damage is for a full scan to judge.
#pragma once

#include <cstdint>
#include <functional>

#include "env/format/format.h"
#include "env/storage/storage.h"
#include "rocksdb/slice.h"

namespace segwal {

using rocksdb::Slice;

// Receives each valid frame in log order: its header, its stored payload
// (valid during the call only) and its offset in the segment. An error
// ends the scan and is returned by it.
using FrameSink = std::function<IOStatus(
    const FrameHeader& header, const Slice& payload, uint64_t offset)>;

// The frames of the segment in `file`, of format `version`, whose checksum
// seed is `seed`, from
// frame position `from` up to `limit` (where its frames must end: the
// segment's size, or the end its successor's header records). *end is
// where they stopped: `limit`, or the first position without a valid
// frame. *bytes_read counts the bytes read (added to).
IOStatus ScanFramesFrom(StorageFile* file, uint32_t version, uint32_t seed,
                        uint64_t from, uint64_t limit, const FrameSink& sink,
                        uint64_t* end, uint64_t* bytes_read);

}  // namespace segwal
