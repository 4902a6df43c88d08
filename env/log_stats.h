// Counters a Log keeps about its own work.
#pragma once

#include <cstdint>

namespace segwal {

struct LogStats {
  // Writes.
  uint64_t write_request_count = 0;  // Append/WriteAt calls
  uint64_t write_bytes = 0;          // logical bytes they carried
  uint64_t frames_written = 0;
  uint64_t frame_bytes_written = 0;  // bytes of frames, headers included
  // Syncs.
  uint64_t sync_request_count = 0;   // Sync/SyncAll calls
  uint64_t sync_batch_count = 0;     // fdatasyncs issued for them
  uint64_t sync_us = 0;              // total time in those fdatasyncs
  uint64_t sync_max_us = 0;
  uint64_t batch_size_max = 0;       // most requests one fdatasync served
  // Segments and space.
  uint64_t rotations = 0;
  uint64_t segments_created = 0;     // new files, preallocated
  uint64_t segments_recycled = 0;    // reclaimed files reused
  uint64_t segments_removed = 0;
  uint64_t segments_reclaimed = 0;
  uint64_t bytes_reclaimed = 0;
  uint64_t bytes_relocated = 0;      // live bytes copied forward
  uint64_t live_bytes = 0;           // bytes of live files in segments
  uint64_t active_segments = 0;
  uint64_t log_bytes = 0;            // active_segments * segment size
  uint64_t head_segment_bytes = 0;   // used bytes of the segment written now
};

}  // namespace segwal
