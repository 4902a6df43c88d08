// The segment writer: puts frames at the head segment in log order, keeps
// the catalog in step, and rotates to the next segment in the crash-safe
// order (the old head's frames durable, then the new header naming where
// they end, then frames in the new segment).
//
// A frame is written and applied to the catalog under the writer's lock,
// with nothing between: the catalog always describes a prefix of the log.
// Its own fdatasync of the head (SyncHead) runs without the lock.
//
// Thread-safe. Lock order: this lock first; while holding it the writer
// takes the catalog's, the preparer's and the sticky error's (and the
// housekeeper's, to wake it). A function named ...Locked needs the lock
// and never releases it; one that may release it says so (...MayUnlock),
// and its caller checks the state again after it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/engine/adaptive_mutex.h"
#include "env/engine/catalog.h"
#include "env/engine/log_context.h"
#include "env/engine/payload_encoder.h"
#include "env/engine/segment.h"
#include "env/engine/segment_preparer.h"
#include "env/engine/sticky_error.h"
#include "env/stats/log_stats.h"

namespace segwal {

class SegmentWriter {
 public:
  // `on_rotate` runs after each rotation, with the writer's lock held (it
  // may only take leaf locks): space may have become reclaimable.
  SegmentWriter(const LogContext& context, Catalog* catalog,
                SegmentPreparer* preparer, const PayloadEncoder* encoder,
                StickyError* error, std::function<void()> on_rotate);

  // Recovery: the newest existing segment (null: none) is the head until
  // StartNewSegment seals it where its valid frames end.
  void AdoptHead(std::shared_ptr<Segment> head);
  // Starts a new segment after the head, whose header names where the
  // head's frames end. The head's frames must be durable already.
  IOStatus StartNewSegment();
  // Or goes on writing the head where its frames end: its frames must be
  // durable already, and no frame of this segment may lie past its end
  // (recovery_apply decides).
  IOStatus ContinueHead();

  // A data frame per chunk, at the end of file `id` (Append) or at
  // `offset` (at most the file's size; the bytes replace what was there).
  // `bytes`, `timed` and `start_us` feed the write statistics.
  struct WriteStats {
    uint64_t bytes = 0;
    bool timed = false;  // this call is one append_timing_interval times
    uint64_t start_us = 0;
  };
  //
  // Append continues the compression group of `cursor` (the file's
  // stream; null when the log does not compress) with each chunk that
  // does not start a group, if it can: same segment as the group, right
  // after the group's bytes in the file, within kMaxGroupSpan. The first
  // chunk that cannot is not written: *written (every chunk if all were)
  // tells the caller where to restart the stream and encode again.
  IOStatus Append(uint64_t id, const std::vector<EncodedChunk>& chunks,
                  const WriteStats& stats, GroupCursor* cursor,
                  size_t* written);
  IOStatus WriteAt(uint64_t id, uint64_t offset,
                   const std::vector<EncodedChunk>& chunks,
                   const WriteStats& stats);
  // Writes zeros over [start, end) of file `id` (start at most its size).
  IOStatus WriteZeros(uint64_t id, uint64_t start, uint64_t end);
  // Cuts file `id` to `size`, or grows it with zeros (InvalidArgument past
  // kMaxTruncateGrowth at once).
  IOStatus Truncate(uint64_t id, uint64_t size);
  static constexpr uint64_t kMaxTruncateGrowth = 64 << 20;

  // A frame decided under the writer's lock once room for `footprint`
  // bytes is ensured, so that nothing is written between the decision and
  // the frame: `decide` fills the header and payload (the payload must
  // stay valid until Write returns) and returns OK with *write set, or
  // OK with *write false (nothing written), or an error (nothing written).
  using FrameDecision =
      std::function<IOStatus(FrameHeader* frame, Slice* payload, bool* write)>;
  IOStatus Write(uint64_t footprint, const FrameDecision& decide);

  // One fdatasync of the head, covering everything written before it
  // started (*upto, an LSN). Runs without the writer's lock. A failure
  // becomes the sticky error.
  IOStatus SyncHead(uint64_t* upto, uint64_t* took_us);

  uint64_t written_lsn() const {
    return written_lsn_.load(std::memory_order_acquire);
  }
  uint64_t durable_lsn() const {
    return durable_lsn_.load(std::memory_order_acquire);
  }
  uint64_t frame_bytes_written() const {
    return frame_bytes_written_.load(std::memory_order_relaxed);
  }
  uint64_t head_id();

  // The writer's counters: writes, frames, head fdatasyncs, rotations,
  // segments started, the head's used bytes.
  void AddStatsTo(LogStats* stats);

 private:
  // A data frame per chunk at *at, or (at null) at the file's end;
  // `cursor` and *written as for Append (null: every chunk starts a group).
  IOStatus WriteDataMayUnlock(std::unique_lock<AdaptiveMutex>& lock,
                              uint64_t id, const uint64_t* at,
                              const std::vector<EncodedChunk>& chunks,
                              GroupCursor* cursor = nullptr,
                              size_t* written = nullptr);
  // The distance back to the previous frame of `cursor`'s group if a frame
  // of `footprint` bytes of `codec` at the head, holding file bytes from
  // `offset`, may continue it; 0 if not.
  uint64_t GroupLinkLocked(const GroupCursor& cursor, Codec codec,
                           uint64_t offset, uint64_t footprint) const;
  void RecordWriteLocked(const WriteStats& write);
  // Rotates until the head has room for `footprint` bytes. Releases the
  // lock while a segment is being prepared.
  IOStatus EnsureRoomMayUnlock(std::unique_lock<AdaptiveMutex>& lock,
                               uint64_t footprint);
  // Seals the head (its frames made durable) and starts `next`.
  IOStatus RotateLocked(std::shared_ptr<Segment> next);
  // Writes `next`'s header and the file-table snapshot in one write and
  // makes them durable; then `next` is the head.
  IOStatus StartSegmentLocked(std::shared_ptr<Segment> next);
  // Whether frames go through the head's mapping (syncs are rare).
  bool MapsLocked() const;
  // Stores an encoded frame at `offset` of the head: through its mapping
  // when that applies and the pages are faulted in, else with Write.
  IOStatus StoreLocked(uint64_t offset, const std::string& frame);
  // Writes one frame at the head; room must be ensured.
  IOStatus WriteFrameLocked(FrameHeader header, const Slice& payload);
  uint64_t HeadDurableOffsetLocked() const;
  // The durable mark the frame at `offset` records (0: none).
  uint32_t DurableMarkToRecordLocked(uint64_t offset);
  bool HeadHalfFullLocked() const;
  // Every kWritebackChunkBytes of unsynced frames: notes their range for
  // UnlockThenStartDeferred.
  void NoteWritebackLocked();
  // Releases the lock for good, then does on the calling thread what the
  // frames written under it asked for: wakes the preparer for the requests
  // they made, starts the writeback noted. Neither runs under the lock: a
  // wake-up may cost the holder its CPU, a writeback milliseconds, while
  // every appender waits.
  void UnlockThenStartDeferred(std::unique_lock<AdaptiveMutex>& lock);

  const LogContext& context_;
  Catalog* const catalog_;
  SegmentPreparer* const preparer_;
  const PayloadEncoder* const encoder_;
  StickyError* const error_;
  const std::function<void()> on_rotate_;

  AdaptiveMutex mu_;
  std::shared_ptr<Segment> head_;
  // Log positions just past the last frame written, and up to which the
  // log is durable. Stored under mu_; read anywhere.
  std::atomic<uint64_t> written_lsn_{0};
  std::atomic<uint64_t> durable_lsn_{0};
  std::atomic<uint64_t> frame_bytes_written_{0};
  std::string frame_buffer_;  // reused by WriteFrameLocked
  // Unsynced frames whose writeback is to start once the lock is released.
  struct Writeback {
    std::shared_ptr<Segment> segment;
    uint64_t from = 0;
    uint64_t to = 0;
  };
  Writeback writeback_;
  bool wake_preparer_ = false;  // a request made since the last unlock
  LogStats stats_;            // the writer's fields only
};

}  // namespace segwal
