// One segment file of a log, as the engine holds it, and log sequence
// numbers (LSNs): positions in the log, ordered as it is written.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "env/storage/serial_sync.h"
#include "env/storage/storage.h"

namespace segwal {

// Shared by the writer (while it is the head), readers (through the
// catalog) and the reclaimer.
struct Segment {
  uint64_t id = 0;
  uint64_t size = 0;
  uint32_t seed = 0;  // checksum seed: the segment's identity (format.h)
  // Just past the last frame. The writer stores it after a frame is in the
  // file and before the catalog refers to the frame, so a reader that found
  // a frame through the catalog sees an end at or past it.
  std::atomic<uint64_t> end{0};
  bool recycled = false;     // prepared from a reclaimed segment file
  // Seen gone from the directory by a process following a log another
  // process writes: that process reclaimed it, and may have recycled the
  // file (overwritten under another identity) since.
  std::atomic<bool> gone{false};
  bool zero_filled = false;  // created and zero-filled
  std::shared_ptr<StorageFile> file;
  // Every fdatasync of the file once it is shared (head or sealed): one at
  // a time, none after a failure (serial_sync.h).
  SerialSync syncs;
  // The writer's alone: writeback was started up to here.
  uint64_t writeback_end = 0;
};

// (segment id << 32) | offset: segments are at most 4 GiB.
inline uint64_t MakeLsn(uint64_t segment_id, uint64_t offset) {
  return (segment_id << 32) | offset;
}
inline uint64_t LsnSegment(uint64_t lsn) { return lsn >> 32; }
inline uint64_t LsnOffset(uint64_t lsn) { return lsn & 0xffffffffu; }

}  // namespace segwal
