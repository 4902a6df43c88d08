// One segment file of a log, as the engine holds it, and log sequence
// numbers (LSNs): positions in the log, ordered as it is written.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>

#include "env/format/format.h"
#include "env/storage/serial_sync.h"
#include "env/storage/storage.h"

namespace segwal {

// Shared by the writer (while it is the head), readers (through the
// catalog), the preparer (which grows it) and the reclaimer.
struct Segment {
  uint64_t id = 0;
  uint64_t size = 0;  // the most bytes it may hold (its header's)
  uint32_t seed = 0;  // checksum seed: the segment's identity (format.h)
  uint32_t version = kFormatVersion;  // its header's: how frames are laid out
  // Just past the last frame. The writer stores it after a frame is in the
  // file and before the catalog refers to the frame, so a reader that found
  // a frame through the catalog sees an end at or past it.
  std::atomic<uint64_t> end{0};
  // The file's bytes before this are allocated (and zero-filled, when the
  // preparer chose to) and may take frames; the writer never writes past
  // it, the preparer only extends it (SegmentPreparer::ExtendTo).
  std::atomic<uint64_t> prepared_end{0};
  // The file mapped shared and writable, once the preparer has mapped it
  // (null: frames are written with StorageFile::Write), and the end of the
  // pages it has faulted in for writing: the writer stores a frame
  // through the mapping only below it.
  std::atomic<char*> map{nullptr};
  std::atomic<uint64_t> prefaulted_end{0};
  // Once the writer's end passes this, the preparer is asked to extend
  // (set by the preparer; the maximum when nothing is left to extend).
  std::atomic<uint64_t> extend_at{std::numeric_limits<uint64_t>::max()};
  // The preparer's, under its lock: what its next extension adds; whether
  // mapping or faulting in failed (then the writer writes with Write).
  uint64_t next_window = 0;
  bool map_failed = false;
  bool recycled = false;     // prepared from a reclaimed segment file
  // Seen gone from the directory by a process following a log another
  // process writes: that process reclaimed it, and may have recycled the
  // file (overwritten under another identity) since.
  std::atomic<bool> gone{false};
  bool zero_filled = false;  // created, its first window zero-filled
  std::shared_ptr<StorageFile> file;
  // Every fdatasync of the file once it is shared (head or sealed): one at
  // a time, none after a failure (serial_sync.h).
  SerialSync syncs;
  // The writer's alone: writeback was started up to here; the last durable
  // mark a frame recorded, and where that frame ended.
  uint64_t writeback_end = 0;
  uint32_t recorded_mark = 0;
  uint64_t recorded_mark_end = 0;
};

// (segment id << 32) | offset: segments are at most 4 GiB.
inline uint64_t MakeLsn(uint64_t segment_id, uint64_t offset) {
  return (segment_id << 32) | offset;
}
inline uint64_t LsnSegment(uint64_t lsn) { return lsn >> 32; }
inline uint64_t LsnOffset(uint64_t lsn) { return lsn & 0xffffffffu; }

}  // namespace segwal
