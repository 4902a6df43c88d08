#include "env/engine/recovery_apply.h"

#include <algorithm>

#include "env/format/file_names.h"

namespace segwal {

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
  s = writer->StartNewSegment();
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
