// Prepares segments, and the space in them, ahead of the writer.
//
// A segment is a file that grows: it is created with a first window of
// blocks after its header and extended window by window ahead of the
// writer, never past its size (the segment_size option). Each window is
// fallocated and, when the zero-fill policy says so (frequent syncs),
// written with zeros, so that later fdatasyncs on it update no block
// allocation; windows double from 1 MiB up to 8 MiB as the writer fills
// them (less in small segments). A log holding a few frames thus costs a window of
// disk, not a segment. A reclaimed segment file is recycled instead when
// there is one: renamed to its new id (its stale frames can never validate
// under the new id), all of it ready. A new file and its directory entry
// are durable before the writer gets it.
//
// With background_prepare, a thread of its own prepares the next segment
// when the writer asks (once the head is half full) and extends the head
// when the writer nears the end of its window; the writer extends inline
// when it catches up (ExtendTo). When the writer stores frames through a
// mapping of the head (syncs are rare), the thread maps it and faults its
// pages in ahead, so that no store faults. It also keeps the reclaimed
// segment files awaiting reuse, up to recycle_segments (the rest are
// removed), until the log closes.
//
// Thread-safe. Its lock is a leaf: file I/O runs without it.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "env/engine/log_context.h"
#include "env/engine/segment.h"
#include "env/engine/sticky_error.h"
#include "env/engine/zero_fill_policy.h"
#include "env/stats/log_stats.h"

namespace segwal {

class SegmentPreparer {
 public:
  // What the zero-fill policy weighs: sync batches and frame bytes so far.
  struct Workload {
    uint64_t sync_batches = 0;
    uint64_t frame_bytes = 0;
  };
  // Nothing is prepared ahead once `error` is set.
  SegmentPreparer(const LogContext& context, const StickyError* error,
                  std::function<Workload()> workload);
  ~SegmentPreparer();

  // Before Start: the next segment id and the reclaimed files (ascending).
  void Init(uint64_t next_id, std::vector<uint64_t> free_ids);
  // A segment found on disk by recovery, whose file has `file_size` bytes:
  // they are ready (written or allocated before); the rest may be
  // extended.
  static void AdoptRecovered(Segment* segment, uint64_t file_size);
  // Starts the background thread (with background_prepare).
  void Start();
  // Stops and joins it; later requests prepare nothing ahead.
  void Stop();

  // The three requests below only record what the writer needs, and
  // return true if that is news to the background thread; Wake starts the
  // thread on them. The writer wakes it once it has released its lock: a
  // wake-up under that lock may hand this thread the CPU of the lock's
  // holder while every appender waits for the lock.
  //
  // The head is half full: prepare the next segment in the background.
  bool RequestAhead();
  // The writer nears the end of `segment`'s prepared window: extend it in
  // the background (once; later requests before it is done change
  // nothing).
  bool RequestExtend(const std::shared_ptr<Segment>& segment);
  // The writer stores frames through a mapping of `segment` from now on:
  // map it if need be and fault in the pages ahead of its end, in the
  // background (once; later requests before it is done change nothing).
  bool RequestPrefault(const std::shared_ptr<Segment>& segment);
  // Wakes the background thread for the requests recorded.
  void Wake() { cv_.notify_all(); }
  // Makes `segment` ready up to at least `end` (at most its size): waits
  // for an extension under way, or extends on the calling thread. An
  // error changes nothing the writer relies on (it is not sticky).
  IOStatus ExtendTo(Segment* segment, uint64_t end);
  // The prepared segment if one is ready (never waits), else null.
  std::shared_ptr<Segment> TakePrepared();
  // Makes a segment ready: waits for the preparation under way, or
  // prepares one on the calling thread. An error leaves nothing prepared
  // and changes nothing else (it is not sticky).
  IOStatus PrepareOrWait();
  // A reclaimed segment, renamed to its free name: kept for reuse, or
  // removed if recycle_segments are kept already.
  IOStatus Recycle(uint64_t id);
  // When the log closes (after Stop, the writer done): removes the files
  // kept for reuse and the prepared segment the writer never started. A
  // closed log may stay idle for long, and they would hold up to
  // recycle_segments + 1 segments of disk; the next open prepares anew.
  IOStatus ReleaseSpare();

  // Segments removed, requests for one ahead, extensions.
  void AddStatsTo(LogStats* stats);

 private:
  void Loop();
  // With mu_ held, takes an id and a recycled file (0: none) and decides
  // on zero-filling; then prepares without it.
  IOStatus PrepareOne(std::unique_lock<std::mutex>& lock);
  // Needs no lock; recycles free segment `recycle_from` if non-zero, else
  // creates the file with its first window.
  IOStatus PrepareFile(uint64_t id, uint64_t recycle_from,
                       std::shared_ptr<Segment>* segment);
  // With mu_ held (released for the I/O, `extending_` marking it):
  // extends `segment` by its next window, or to `end` if that is further.
  IOStatus ExtendOneMayUnlock(std::unique_lock<std::mutex>& lock,
                              Segment* segment, uint64_t end);
  // Needs no lock: allocates [from, to) of `file`, and writes zeros over
  // it if *zero_fill, or if the file system cannot allocate (then sets
  // *zero_fill).
  static IOStatus AllocateRange(StorageFile* file, uint64_t from, uint64_t to,
                                bool* zero_fill);
  // With mu_ held (released for the I/O): maps `segment` if need be and
  // faults in its pages from the writer's end on, within its prepared
  // window. A failure stops the mapping of this segment (not sticky: the
  // writer writes with Write).
  void PrefaultMayUnlock(std::unique_lock<std::mutex>& lock,
                         Segment* segment);
  bool ChooseZeroFillLocked();

  const LogContext& context_;
  const StickyError* const error_;
  const std::function<Workload()> workload_;

  std::mutex mu_;
  std::condition_variable cv_;  // a preparation ended; a request; stop
  std::shared_ptr<Segment> prepared_;
  bool preparing_ = false;  // one preparer at a time, outside mu_
  bool requested_ = false;
  std::shared_ptr<Segment> extend_;  // a segment to extend in the background
  std::shared_ptr<Segment> prefault_;  // and one to fault in ahead
  bool extending_ = false;           // one extension at a time, outside mu_

  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::vector<uint64_t> free_;  // reclaimed files, oldest first
  ZeroFillPolicy zero_fill_;
  uint64_t segments_removed_ = 0;
  uint64_t requests_ = 0;
  uint64_t extensions_ = 0;
  uint64_t prefaults_ = 0;
  uint64_t bytes_prepared_ = 0;
  std::thread thread_;
};

}  // namespace segwal
