// Prepares segments ahead of the writer: a reclaimed segment file renamed
// to its new id (its stale frames can never validate under the new id), or
// a new file fallocated and, when the zero-fill policy says so, written
// with zeros, so that later fdatasyncs on it update no block allocation.
// The file and its directory entry are durable before the writer gets it.
//
// With background_prepare, a thread of its own prepares the next segment
// when the writer asks (once the head is half full: zero-filling competes
// with the writers' first fdatasyncs if done at once); a rotation that
// finds none ready prepares inline. It also keeps the reclaimed segment
// files awaiting reuse, up to recycle_segments (the rest are removed).
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
  // Starts the background thread (with background_prepare).
  void Start();
  // Stops and joins it; later requests prepare nothing ahead.
  void Stop();

  // The head is half full: prepare the next segment in the background.
  void RequestAhead();
  // The prepared segment if one is ready (never waits), else null.
  std::shared_ptr<Segment> TakePrepared();
  // Makes a segment ready: waits for the preparation under way, or
  // prepares one on the calling thread. An error leaves nothing prepared
  // and changes nothing else (it is not sticky).
  IOStatus PrepareOrWait();
  // A reclaimed segment, renamed to its free name: kept for reuse, or
  // removed if recycle_segments are kept already.
  IOStatus Recycle(uint64_t id);

  // Segments removed, requests for one ahead.
  void AddStatsTo(LogStats* stats);

 private:
  void Loop();
  // With mu_ held, takes an id and a recycled file (0: none) and decides
  // on zero-filling; then prepares without it.
  IOStatus PrepareOne(std::unique_lock<std::mutex>& lock);
  // Needs no lock; recycles free segment `recycle_from` if non-zero, else
  // creates the file, fallocated and zero-filled if `zero_fill` (or if the
  // file system cannot fallocate).
  IOStatus PrepareFile(uint64_t id, uint64_t recycle_from, bool zero_fill,
                       std::shared_ptr<Segment>* segment);

  const LogContext& context_;
  const StickyError* const error_;
  const std::function<Workload()> workload_;

  std::mutex mu_;
  std::condition_variable cv_;  // a preparation ended; a request; stop
  std::shared_ptr<Segment> prepared_;
  bool preparing_ = false;  // one preparer at a time, outside mu_
  bool requested_ = false;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::vector<uint64_t> free_;  // reclaimed files, oldest first
  ZeroFillPolicy zero_fill_;
  uint64_t segments_removed_ = 0;
  uint64_t requests_ = 0;
  std::thread thread_;
};

}  // namespace segwal
