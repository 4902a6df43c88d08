#include "env/engine/read_only_view.h"

#include "env/engine/segment_preparer.h"
#include "env/format/file_names.h"
#include "env/recovery/scanner.h"

namespace segwal {
namespace {

// The writer may reclaim or recycle a segment while the scan reads it,
// which the scan sees as damage or a vanished file.
constexpr int kScanAttempts = 3;

}  // namespace

ReadOnlyView::ReadOnlyView(Storage* storage, const std::string& dir,
                           const LogOptions& options, ScanResult* scan)
    : Log(dir, options, std::move(scan->table)),
      storage_(storage),
      error_(IOStatus::IOError(
          "segwal log " + dir + ": open for reading only, another process "
          "holds " + dir + "/" + kLockFileName +
          " (one process at a time writes a log)")) {
  for (ScannedSegment& scanned : scan->segments) {
    auto segment = std::make_shared<Segment>();
    segment->id = scanned.id;
    segment->size = scanned.header.segment_size;
    segment->seed = SegmentSeed(scanned.header.log_uid, scanned.id);
    segment->version = scanned.header.version;
    segment->end.store(scanned.end, std::memory_order_relaxed);
    SegmentPreparer::AdoptRecovered(segment.get(), scanned.file_size);
    segment->file = std::move(scanned.file);
    head_bytes_ = scanned.end;
    catalog()->AddSegment(std::move(segment));
  }
}

IOStatus ReadOnlyView::Open(Storage* storage, const std::string& dir,
                            const LogOptions& options,
                            std::unique_ptr<Log>* log, RecoveryInfo* info) {
  RecoveryInfo unused;
  if (info == nullptr) info = &unused;
  IOStatus s;
  for (int attempt = 0; attempt < kScanAttempts; ++attempt) {
    ScanResult scan;
    *info = RecoveryInfo();
    s = ScanLog(storage, dir, options.recovery_mode, &scan, info);
    if (!s.ok()) continue;
    log->reset(new ReadOnlyView(storage, dir, options, &scan));
    return IOStatus::OK();
  }
  return s;
}

IOStatus ReadOnlyView::ReopenView(uint64_t id, std::unique_ptr<Log>* fresh) {
  const std::string name = catalog()->NameOf(id);
  if (name.empty()) return Log::ReopenView(id, fresh);
  std::unique_ptr<Log> view;
  IOStatus s = Open(storage_, dir(), options(), &view, nullptr);
  if (!s.ok()) return s;
  uint64_t same = 0;
  s = view->OpenHandle(name, &same);
  if (!s.ok()) return s;
  if (same != id) {  // replaced by another file of that name meanwhile
    view->CloseHandle(same);
    return IOStatus::NotFound("segwal log " + dir() + ": " + name +
                              " is another file now");
  }
  *fresh = std::move(view);
  return IOStatus::OK();
}

LogStats ReadOnlyView::GetStats() {
  const Catalog::Usage usage = catalog()->GetUsage();
  LogStats stats;
  stats.live_bytes = usage.live_bytes;
  stats.active_segments = usage.active_segments;
  stats.log_bytes = usage.active_segments * options().segment_size;
  stats.head_segment_bytes = head_bytes_;
  return stats;
}

}  // namespace segwal
