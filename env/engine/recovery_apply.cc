#include "env/engine/recovery_apply.h"

#include <algorithm>

#include "env/format/file_names.h"

namespace segwal {

namespace {

// Whether writing may go on in the old head rather than in a new segment
// that seals it: only where nothing but zeros or another life's frames
// lies past its kept frames (a log closed cleanly, or a writer killed
// between frames), in the format this build writes, and with nothing set
// aside. Else a frame of this life past the cut (a torn write's
// neighbours, the rest of a segment cut at damage) could be read again
// once new frames reach it. And only a head that opens with a snapshot
// (or has no predecessor): once the segments before it are reclaimed, the
// file table must be found in it (a crash can leave a new segment's header
// durable without its snapshot).
bool ContinuesTheHead(const ScanResult& scan) {
  if (scan.segments.empty() || !scan.quarantine.empty()) return false;
  const ScannedSegment& head = scan.segments.back();
  return head.clean_tail && head.header.version == kFormatVersion &&
         (head.header.prev_segment_id == 0 || head.opens_with_snapshot);
}

}  // namespace

IOStatus ApplyRecovery(const LogContext& context, const ScanResult& scan,
                       SegmentPreparer* preparer, SegmentWriter* writer,
                       Durability* durability) {
  Storage* const storage = context.storage;
  IOStatus s;
  for (uint64_t id : scan.quarantine) {
    s = storage->Rename(context.PathOf(SegmentFileName(id)),
                        context.PathOf(QuarantinedSegmentFileName(id)));
    if (!s.ok()) return s;
  }
  if (!scan.quarantine.empty()) {
    s = storage->SyncDir(context.dir);
    if (!s.ok()) return s;
  }
  std::vector<uint64_t> free = scan.free_segments;
  for (uint64_t id : scan.unused_segments) {
    s = storage->Rename(context.PathOf(SegmentFileName(id)),
                        context.PathOf(FreeSegmentFileName(id)));
    if (!s.ok()) return s;
    free.push_back(id);
  }
  std::sort(free.begin(), free.end());
  preparer->Init(scan.max_segment_id + 1, std::move(free));

  if (!scan.segments.empty()) {
    s = scan.segments.back().file->Sync();
    if (!s.ok()) return s;
  }
  s = ContinuesTheHead(scan) ? writer->ContinueHead()
                             : writer->StartNewSegment();
  if (!s.ok()) return s;

  for (const Repair& repair : scan.repairs) {
    if (repair.zero_fill) {
      s = writer->WriteZeros(repair.file_id, repair.start, repair.end);
    } else {
      s = writer->Write(MaxFrameFootprint(0), [&](FrameHeader* frame, Slice*,
                                               bool* write) {
        frame->type = static_cast<uint8_t>(FrameType::kTruncate);
        frame->file_id = repair.file_id;
        frame->offset = repair.start;
        *write = true;
        return IOStatus::OK();
      });
    }
    if (!s.ok()) return s;
  }
  if (!scan.repairs.empty()) {
    s = durability->Sync(writer->written_lsn(), SyncFor::kEngine);
  }
  return s;
}

}  // namespace segwal
