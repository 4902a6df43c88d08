// Space reclamation: segments whose bytes all belong to deleted files leave
// the log (kept for recycling or removed), oldest first; and when live
// files pin old segments, their live bytes are copied forward (relocated)
// so that the log holds at most 2 * ceil(live bytes / segment capacity) + 3
// segments, except for bytes of deleted files still open for reading.
//
// Thread-safe. Its lock serialises housekeeping runs and is taken before
// any other (it is held while the writer, the catalog and the preparer take
// theirs); its counters need no lock.
#pragma once

#include <atomic>
#include <mutex>

#include "env/engine/catalog.h"
#include "env/engine/durability.h"
#include "env/engine/log_context.h"
#include "env/engine/payload_encoder.h"
#include "env/engine/reader.h"
#include "env/engine/segment_preparer.h"
#include "env/engine/segment_writer.h"
#include "env/engine/sticky_error.h"

namespace segwal {

class SpaceReclaimer {
 public:
  SpaceReclaimer(const LogContext& context, Catalog* catalog,
                 SegmentWriter* writer, Durability* durability,
                 SegmentPreparer* preparer, Reader* reader,
                 const PayloadEncoder* encoder, const StickyError* error);

  // Reclaims dead segments, relocates live bytes that pin old ones if the
  // bound above is exceeded, and reclaims what that freed.
  IOStatus Housekeep();

  void AddStatsTo(LogStats* stats);

 private:
  IOStatus ReclaimLocked();
  IOStatus RelocateLocked();

  const LogContext& context_;
  Catalog* const catalog_;
  SegmentWriter* const writer_;
  Durability* const durability_;
  SegmentPreparer* const preparer_;
  Reader* const reader_;
  const PayloadEncoder* const encoder_;
  const StickyError* const error_;

  std::mutex mu_;  // one housekeeping run at a time
  std::atomic<uint64_t> segments_reclaimed_{0};
  std::atomic<uint64_t> bytes_reclaimed_{0};
  std::atomic<uint64_t> bytes_relocated_{0};
};

}  // namespace segwal
