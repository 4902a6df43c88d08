// Counters a Log keeps about its own work (Log::GetStats), exported as
// Prometheus text (FormatPrometheus, env/stats/log_metrics.h) and written
// periodically to the LOG file of the log directory.
//
// Vocabulary:
//  - a sync request is a Sync or SyncAll call that needs an fdatasync
//    (sync modes always and group; SyncAll in interval mode);
//  - a batch is one fdatasync of the log's head segment, whoever asked for
//    it: a group of sync requests, a rotation, the interval syncer, or the
//    engine's own consistency needs;
//  - a sync batch is a batch that acknowledged sync requests; its size is
//    the number of requests it acknowledged. A request whose bytes were
//    already durable when it arrived is acknowledged at once and belongs to
//    no batch.
#pragma once

#include <cstdint>

#include "env/stats/histogram.h"

namespace segwal {

struct LogStats {
  // Writes.
  uint64_t write_request_count = 0;  // Append/WriteAt calls
  uint64_t write_bytes = 0;          // logical bytes they carried
  uint64_t write_max_us = 0;         // longest timed Append/WriteAt call
  uint64_t frames_written = 0;
  uint64_t frame_bytes_written = 0;  // bytes of frames, headers included
  uint64_t writeback_starts = 0;     // early writebacks of unsynced frames
  // Syncs.
  uint64_t sync_request_count = 0;   // Sync/SyncAll calls
  uint64_t batch_count = 0;          // fdatasyncs of head segments, all causes
  uint64_t sync_batch_count = 0;     // fdatasyncs that acknowledged requests
  uint64_t sync_us = 0;              // total time in those fdatasyncs
  uint64_t sync_max_us = 0;
  uint64_t batch_size_max = 0;       // most requests one fdatasync acknowledged
  uint64_t batch_max_us = 0;         // longest leader round: window + fdatasync
  // Group commit window (sync_mode=group, group_commit_window_us > 0).
  uint64_t group_wait_count = 0;     // leader rounds that waited
  uint64_t group_wait_us = 0;        // total time leaders waited
  uint64_t group_wait_max_us = 0;
  uint64_t queued_wait_max_us = 0;   // longest a follower waited for a leader
  // Latency of whole calls, in microseconds (lock waits included).
  LatencyHistogram append_latency_us;  // timed Append/WriteAt calls
  LatencyHistogram sync_latency_us;    // Sync/SyncAll
  // Segments and space.
  uint64_t rotations = 0;
  uint64_t prepare_requests = 0;     // next segments asked for ahead of need
  uint64_t segment_extensions = 0;   // windows added to growing segments
  uint64_t bytes_prepared = 0;       // bytes those windows added
  uint64_t prefaults = 0;            // mapped pages faulted in ahead (runs)
  uint64_t mapped_writes = 0;        // frames stored through a mapping
  uint64_t segments_created = 0;     // new files, their first window prepared
  uint64_t segments_zero_filled = 0;  // of those, the first window zero-filled
  uint64_t segments_recycled = 0;    // reclaimed files reused
  uint64_t segments_removed = 0;
  uint64_t segments_reclaimed = 0;
  uint64_t bytes_reclaimed = 0;
  uint64_t bytes_relocated = 0;      // live bytes copied forward
  uint64_t live_bytes = 0;           // bytes of live files in segments
  uint64_t active_segments = 0;
  uint64_t log_bytes = 0;            // active_segments * segment size
  uint64_t head_segment_bytes = 0;   // used bytes of the segment written now
  // Following a log another process writes (before this process's first
  // change): catalog refreshes, full rescans among them (or at the first
  // change), segment bytes read by the incremental steps.
  uint64_t follow_refreshes = 0;
  uint64_t follow_rescans = 0;
  uint64_t follow_bytes_read = 0;
};

}  // namespace segwal
