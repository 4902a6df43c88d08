// When a Sync returns, by sync mode: always runs its own fdatasync (one at
// a time per segment), group shares one among concurrent syncers
// (GroupCommit), interval leaves the fdatasync to the interval syncer,
// none never runs one for callers. The engine's own needs (sealing,
// reclaiming, recovery) are met in every mode. Keeps the sync statistics.
//
// Thread-safe. Its lock guards statistics only (a leaf); syncs run
// through the writer's SyncHead and the barrier's own lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "env/engine/group_commit.h"
#include "env/engine/log_context.h"
#include "env/engine/segment_writer.h"
#include "env/engine/sticky_error.h"
#include "env/stats/histogram.h"

namespace segwal {

// Who needs a sync: the sync mode decides what a caller's Sync (kFile) or
// SyncAll (kAll) does, never what the engine needs for its own consistency
// (kEngine).
enum class SyncFor { kFile, kAll, kEngine };

class Durability {
 public:
  Durability(const LogContext& context, SegmentWriter* writer,
             const StickyError* error);

  // Returns once everything up to `target` (an LSN) is durable, as the
  // sync mode says for `why`, or with the sticky error.
  IOStatus Sync(uint64_t target, SyncFor why);
  // The latency of one whole Sync or SyncAll call.
  void RecordSyncLatency(uint64_t micros);
  // A writer appended to `file_id` (a group-commit window waits for it).
  void NoteWriter(uint64_t file_id) {
    if (track_writers_) group_.NoteWriter(file_id);
  }
  // The sticky error is set: syncers waiting in a group return it.
  void FailAll(const IOStatus& s) { group_.FailAll(s); }

  // fdatasyncs that acknowledged callers' requests so far.
  uint64_t sync_batches() const {
    return sync_batches_.load(std::memory_order_relaxed);
  }
  void AddStatsTo(LogStats* stats);

 private:
  void RecordRoundLocked(const GroupCommit::Round& round);

  const LogContext& context_;
  SegmentWriter* const writer_;
  const StickyError* const error_;
  const bool track_writers_;
  GroupCommit group_;

  std::mutex mu_;
  std::atomic<uint64_t> sync_batches_{0};
  uint64_t sync_request_count_ = 0;
  uint64_t sync_us_ = 0;
  uint64_t sync_max_us_ = 0;
  uint64_t batch_size_max_ = 0;
  uint64_t batch_max_us_ = 0;
  LatencyHistogram sync_latency_us_;
};

}  // namespace segwal
