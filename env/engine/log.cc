#include "env/engine/log.h"

#include "env/engine/writable_log.h"
#include "env/format/file_names.h"

namespace segwal {
namespace {

// Open takes no lock: a writer in another process may reclaim or recycle a
// segment while the scan reads it, which the scan sees as damage or a
// vanished file.
constexpr int kOpenScanAttempts = 3;

}  // namespace

Log::Log(Storage* storage, std::string dir, const LogOptions& options,
         ScanResult* scan)
    : dir_(std::move(dir)),
      options_(options),
      catalog_(dir_, std::move(scan->table)),
      follower_(storage, dir_, options.recovery_mode, &catalog_),
      reader_(dir_, &catalog_, [this] { Follow(); }) {
  std::vector<std::shared_ptr<Segment>> segments;
  for (const ScannedSegment& scanned : scan->segments) {
    segments.push_back(SegmentFromScan(scanned));
    catalog_.AddSegment(segments.back());
  }
  follower_.Init(*scan, segments);
}

Log::~Log() = default;

IOStatus Log::Open(Storage* storage, const std::string& dir,
                   const LogOptions& options, std::unique_ptr<Log>* log,
                   RecoveryInfo* info) {
  const rocksdb::Status valid = ValidateLogOptions(options);
  if (!valid.ok()) return IOStatus::InvalidArgument(valid.getState());
  RecoveryInfo unused;
  if (info == nullptr) info = &unused;
  IOStatus s = storage->CreateDirIfMissing(dir);
  if (!s.ok()) return s;
  std::unique_ptr<ScanResult> scan;
  for (int attempt = 0; attempt < kOpenScanAttempts; ++attempt) {
    scan = std::make_unique<ScanResult>();
    *info = RecoveryInfo();
    s = ScanLog(storage, dir, options.recovery_mode, scan.get(), info);
    if (s.ok() || s.IsNotSupported()) break;
  }
  if (!s.ok()) return s;
  log->reset(new WritableLog(storage, dir, options, std::move(scan), *info));
  return IOStatus::OK();
}

IOStatus Log::Destroy(Storage* storage, const std::string& dir) {
  std::vector<std::string> names;
  IOStatus s = storage->ListDir(dir, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    uint64_t id = 0;
    if (ClassifyLogFile(name, &id) == LogFileKind::kOther) continue;
    s = storage->Remove(dir + "/" + name);
    if (!s.ok()) return s;
  }
  return storage->RemoveDir(dir);
}

void Log::Follow() {
  if (follower_.following()) follower_.Refresh().PermitUncheckedError();
}

bool Log::Lookup(const std::string& name, FileInfo* info) {
  Follow();
  return catalog_.Lookup(name, info);
}

std::vector<FileInfo> Log::List() {
  Follow();
  return catalog_.List();
}

IOStatus Log::OpenHandle(const std::string& name, uint64_t* id) {
  Follow();
  return catalog_.OpenHandle(name, id);
}

void Log::CloseHandle(uint64_t id) { catalog_.CloseHandle(id); }

IOStatus Log::Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                   size_t* read, ReadCache* cache) {
  return reader_.Read(id, offset, n, scratch, read, cache);
}

uint64_t Log::Size(uint64_t id) { return catalog_.Size(id); }

std::unique_ptr<DecodeAhead> Log::NewDecodeAhead(uint64_t id) {
  return std::make_unique<DecodeAhead>(&reader_, &catalog_, id);
}

IOStatus Log::Refresh() { return follower_.Refresh(); }

}  // namespace segwal
