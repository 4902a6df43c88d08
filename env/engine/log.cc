#include "env/engine/log.h"

#include "env/engine/read_only_view.h"
#include "env/engine/writable_log.h"
#include "env/format/file_names.h"

namespace segwal {

Log::Log(std::string dir, const LogOptions& options, FileTable table)
    : dir_(std::move(dir)),
      options_(options),
      catalog_(dir_, std::move(table)),
      reader_(dir_, &catalog_) {}

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
  std::unique_ptr<StorageLock> lock;
  s = storage->Lock(dir + "/" + kLockFileName, &lock);
  if (s.IsBusy()) return OpenView(storage, dir, options, log, info);
  if (!s.ok()) return s;
  return WritableLog::Open(storage, dir, options, std::move(lock), log, info);
}

IOStatus Log::OpenView(Storage* storage, const std::string& dir,
                       const LogOptions& options, std::unique_ptr<Log>* log,
                       RecoveryInfo* info) {
  return ReadOnlyView::Open(storage, dir, options, log, info);
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

bool Log::Lookup(const std::string& name, FileInfo* info) {
  return catalog_.Lookup(name, info);
}

std::vector<FileInfo> Log::List() { return catalog_.List(); }

IOStatus Log::OpenHandle(const std::string& name, uint64_t* id) {
  return catalog_.OpenHandle(name, id);
}

void Log::CloseHandle(uint64_t id) { catalog_.CloseHandle(id); }

IOStatus Log::Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                   size_t* read, ReadCache* cache) {
  return reader_.Read(id, offset, n, scratch, read, cache);
}

uint64_t Log::Size(uint64_t id) { return catalog_.Size(id); }

IOStatus Log::ReopenView(uint64_t id, std::unique_ptr<Log>*) {
  return IOStatus::NotFound("segwal log " + dir_ + ": logical file id " +
                            std::to_string(id) + " has no fresh view");
}

}  // namespace segwal
