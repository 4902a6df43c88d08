#include "env/engine/space_reclaimer.h"

#include "env/format/file_names.h"

namespace segwal {

SpaceReclaimer::SpaceReclaimer(const LogContext& context, Catalog* catalog,
                               SegmentWriter* writer, Durability* durability,
                               SegmentPreparer* preparer, Reader* reader,
                               const PayloadEncoder* encoder,
                               const StickyError* error)
    : context_(context),
      catalog_(catalog),
      writer_(writer),
      durability_(durability),
      preparer_(preparer),
      reader_(reader),
      encoder_(encoder),
      error_(error) {}

IOStatus SpaceReclaimer::Housekeep() {
  std::lock_guard<std::mutex> guard(mu_);
  if (!error_->ok()) return error_->Get();
  IOStatus s = ReclaimLocked();
  if (s.ok()) s = RelocateLocked();
  if (s.ok()) s = ReclaimLocked();
  return s;
}

// Each dead segment is renamed out of the segment namespace durably before
// the next: the active segments must stay a chain without gaps whenever
// the machine stops.
IOStatus SpaceReclaimer::ReclaimLocked() {
  const uint64_t head = writer_->head_id();
  const std::vector<uint64_t> dead = catalog_->DeadSegments(head);
  if (dead.empty()) return IOStatus::OK();
  // The frames that killed these segments (deletes, truncates, relocated
  // copies of their bytes) must be durable before the segments leave the
  // log: else a power loss brings back files whose bytes are gone.
  const uint64_t written = writer_->written_lsn();
  if (writer_->durable_lsn() < written) {
    IOStatus s = durability_->Sync(written, SyncFor::kEngine);
    if (!s.ok()) return s;
  }
  for (uint64_t id : dead) {
    std::shared_ptr<Segment> segment = catalog_->TakeOldest(id, head);
    if (segment == nullptr) continue;
    IOStatus s =
        context_.storage->Rename(context_.PathOf(SegmentFileName(id)),
                                 context_.PathOf(FreeSegmentFileName(id)));
    if (!s.ok()) {
      catalog_->PutBack(std::move(segment));
      return s;
    }
    // Renamed, if not yet durably: it is out of the log either way, and
    // the next SyncDir makes the rename durable.
    const IOStatus synced = context_.storage->SyncDir(context_.dir);
    ++segments_reclaimed_;
    bytes_reclaimed_ += segment->end.load(std::memory_order_acquire);
    s = preparer_->Recycle(id);
    if (!s.ok()) return s;
    if (!synced.ok()) return synced;
  }
  return IOStatus::OK();
}

// Copies the live bytes of the oldest segment forward, as kRelocatedData
// frames (the files keep their mtimes).
IOStatus SpaceReclaimer::RelocateLocked() {
  RelocationPlan plan;
  const uint64_t capacity =
      context_.options.segment_size - kSegmentHeaderBlock;
  if (!catalog_->PlanRelocation(writer_->head_id(), capacity, &plan)) {
    return IOStatus::OK();
  }
  const Segment& oldest = *plan.segment;
  ReadCache cache;
  for (const RelocationPlan::Run& run : plan.runs) {
    IOStatus s = reader_->ReadFramePayload(
        run.extent, oldest, oldest.end.load(std::memory_order_acquire), &cache,
        run.file_name);
    if (!s.ok()) return s;
    uint64_t offset = run.start;
    for (const EncodedChunk& chunk : encoder_->Encode(
             Slice(cache.frame_payload + run.extent.skip, run.extent.length))) {
      bool still_backed = true;
      s = writer_->Write(
          MaxFrameFootprint(static_cast<uint32_t>(chunk.stored().size())),
          [&](FrameHeader* frame, Slice* payload, bool* write) {
            // Making room may have let writers in: copy only bytes the
            // file still takes from this frame, never over newer ones.
            still_backed = catalog_->StillBackedBy(
                run.file_id, offset, chunk.raw_len(), run.extent, run.start);
            *write = still_backed;
            frame->type = static_cast<uint8_t>(FrameType::kRelocatedData);
            frame->file_id = run.file_id;
            frame->offset = offset;
            frame->codec = chunk.codec;
            frame->raw_len = chunk.raw_len();
            *payload = chunk.stored();
            return IOStatus::OK();
          });
      if (!s.ok()) return s;
      if (!still_backed) break;
      offset += chunk.raw_len();
      bytes_relocated_ += chunk.raw_len();
    }
  }
  return IOStatus::OK();
}

void SpaceReclaimer::AddStatsTo(LogStats* stats) {
  stats->segments_reclaimed = segments_reclaimed_.load();
  stats->bytes_reclaimed = bytes_reclaimed_.load();
  stats->bytes_relocated = bytes_relocated_.load();
}

}  // namespace segwal
