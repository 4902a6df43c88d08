// Whether a new segment is zero-filled or only fallocated.
//
// Zero-filling writes a segment twice to make each later fdatasync cheaper
// (no unwritten extents to convert, so no journal commit): it pays when
// syncs are frequent, and only costs (twice the disk writes) when they are
// rare. preallocate=auto zero-fills when the log made at least one sync
// batch per MiB of frames written since the previous decision; with less
// than a MiB written since, the previous decision stands. The first
// decision has no history: it follows the sync mode (zero-fill unless
// syncs only come from a timer or never).
//
// Not thread-safe: its owner (the segment preparer) serialises calls.
#pragma once

#include <cstdint>

#include "env/engine/log_options.h"

namespace segwal {

class ZeroFillPolicy {
 public:
  ZeroFillPolicy(Preallocation preallocate, SyncMode sync_mode)
      : preallocate_(preallocate), sync_mode_(sync_mode) {}

  // The log's counters so far: sync batches (fdatasyncs that acknowledged
  // callers' requests; the engine's own say nothing about the workload)
  // and frame bytes written.
  bool ZeroFill(uint64_t sync_batches, uint64_t frame_bytes);

 private:
  const Preallocation preallocate_;
  const SyncMode sync_mode_;
  bool decided_ = false;
  bool zero_fill_ = false;
  uint64_t sync_batches_at_decision_ = 0;
  uint64_t frame_bytes_at_decision_ = 0;
};

}  // namespace segwal
