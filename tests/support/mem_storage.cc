#include "tests/support/mem_storage.h"

#include <algorithm>

namespace segwal {
namespace testing {

struct MemStorage::File {
  std::string durable;  // contents as of the last Sync
  std::string current;  // contents reads see
  struct Write {
    uint64_t offset;
    std::string data;
    bool resize;  // a truncate to `offset` rather than a write
  };
  std::vector<Write> pending;  // since the last Sync, in order
  // A Sync failed: as Linux does, its writes were dropped (never reach the
  // disk, though reads still see them), so `current` is no longer
  // `durable` plus `pending`.
  bool lost_writes = false;

  void Apply(const Write& w, std::string* image) const {
    if (w.resize) {
      image->resize(w.offset, '\0');
      return;
    }
    if (image->size() < w.offset + w.data.size()) {
      image->resize(w.offset + w.data.size(), '\0');
    }
    image->replace(w.offset, w.data.size(), w.data);
  }
};

class MemStorage::Handle : public StorageFile {
 public:
  Handle(MemStorage* storage, std::string path, std::shared_ptr<File> file,
         uint64_t generation)
      : storage_(storage),
        path_(std::move(path)),
        file_(std::move(file)),
        generation_(generation) {}

  IOStatus Read(uint64_t offset, size_t n, char* scratch,
                size_t* read) override {
    storage_->RunHook(FaultOp::kRead, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (s.ok()) s = storage_->CheckFault(FaultOp::kRead, path_);
    if (!s.ok()) return s;
    const std::string& data = file_->current;
    *read = offset >= data.size()
                ? 0
                : std::min<size_t>(n, data.size() - offset);
    std::copy(data.data() + offset, data.data() + offset + *read, scratch);
    return IOStatus::OK();
  }

  IOStatus Write(uint64_t offset, const char* data, size_t n) override {
    storage_->RunHook(FaultOp::kWrite, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (s.ok()) s = storage_->CheckFault(FaultOp::kWrite, path_);
    if (!s.ok()) return s;
    File::Write w{offset, std::string(data, n), false};
    file_->Apply(w, &file_->current);
    file_->pending.push_back(std::move(w));
    return IOStatus::OK();
  }

  IOStatus Sync() override {
    storage_->RunHook(FaultOp::kSync, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (!s.ok()) return s;
    s = storage_->CheckFault(FaultOp::kSync, path_);
    if (!s.ok()) {
      // The failed writeback loses what this Sync was to make durable, and
      // a later Sync does not bring it back.
      file_->lost_writes = file_->lost_writes || !file_->pending.empty();
      file_->pending.clear();
      return s;
    }
    if (file_->lost_writes) {
      for (const File::Write& w : file_->pending) {
        file_->Apply(w, &file_->durable);
      }
    } else {
      file_->durable = file_->current;
    }
    file_->pending.clear();
    ++storage_->sync_count_;
    return IOStatus::OK();
  }

  void StartWriteback(uint64_t offset, uint64_t n) override {
    storage_->RunHook(FaultOp::kWriteback, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    storage_->writeback_hints_.push_back({path_, offset, n});
  }

  // Extends the file with zeros, pending like a write until Sync.
  IOStatus Allocate(uint64_t offset, uint64_t n) override {
    const uint64_t size = offset + n;
    storage_->RunHook(FaultOp::kAllocate, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (s.ok()) s = storage_->CheckFault(FaultOp::kAllocate, path_);
    if (!s.ok()) return s;
    if (!storage_->allocate_supported_) {
      return IOStatus::NotSupported("allocate", path_);
    }
    if (size > file_->current.size()) {
      File::Write w{size, std::string(), true};
      file_->Apply(w, &file_->current);
      file_->pending.push_back(std::move(w));
    }
    return s;
  }

  IOStatus Truncate(uint64_t size) override {
    storage_->RunHook(FaultOp::kWrite, path_);
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (s.ok()) s = storage_->CheckFault(FaultOp::kWrite, path_);
    if (!s.ok()) return s;
    File::Write w{size, std::string(), true};
    file_->Apply(w, &file_->current);
    file_->pending.push_back(std::move(w));
    return IOStatus::OK();
  }

  IOStatus Size(uint64_t* size) override {
    std::lock_guard<std::mutex> guard(storage_->mu_);
    IOStatus s = Alive();
    if (!s.ok()) return s;
    *size = file_->current.size();
    return IOStatus::OK();
  }

 private:
  IOStatus Alive() const {
    if (generation_ != storage_->generation_) {
      return IOStatus::IOError(path_ + ": handle from before a crash");
    }
    return storage_->CheckPower(path_);
  }

  MemStorage* const storage_;
  const std::string path_;
  const std::shared_ptr<File> file_;
  const uint64_t generation_;
};

class MemStorage::LockHandle : public StorageLock {
 public:
  LockHandle(MemStorage* storage, std::string path, uint64_t generation)
      : storage_(storage), path_(std::move(path)), generation_(generation) {}
  ~LockHandle() override {
    std::lock_guard<std::mutex> guard(storage_->mu_);
    if (generation_ == storage_->generation_) storage_->locks_.erase(path_);
  }

 private:
  MemStorage* const storage_;
  const std::string path_;
  const uint64_t generation_;
};

MemStorage::MemStorage() {
  dirs_.insert("");
  durable_dirs_.insert("");
}

MemStorage::~MemStorage() = default;

std::string MemStorage::DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

IOStatus MemStorage::CheckPower(const std::string& path) const {
  return powered_off_ ? IOStatus::IOError(path + ": storage is powered off")
                      : IOStatus::OK();
}

void MemStorage::RunHook(FaultOp op, const std::string& path) {
  std::shared_ptr<const Hook> hook;
  {
    std::lock_guard<std::mutex> guard(hook_mu_);
    hook = hook_;
  }
  if (hook != nullptr) (*hook)(op, path);
}

void MemStorage::SetHook(Hook hook) {
  std::lock_guard<std::mutex> guard(hook_mu_);
  hook_ = hook ? std::make_shared<const Hook>(std::move(hook)) : nullptr;
}

void MemStorage::PowerOff() {
  std::lock_guard<std::mutex> guard(mu_);
  powered_off_ = true;
}

IOStatus MemStorage::CheckFault(FaultOp op, const std::string& path) {
  IOStatus s = CheckPower(path);
  if (!s.ok()) return s;
  for (Fault& fault : faults_) {
    if (fault.op == op && fault.remaining != 0 &&
        path.find(fault.path_part) != std::string::npos) {
      if (fault.remaining > 0) --fault.remaining;
      ++faults_fired_;
      return fault.status;
    }
  }
  return IOStatus::OK();
}

IOStatus MemStorage::CreateDirIfMissing(const std::string& dir) {
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckPower(dir);
  if (!s.ok()) return s;
  // Directories are made durable at once: the engine's own directory is
  // created by the caller, outside what the tests crash.
  dirs_.insert(dir);
  durable_dirs_.insert(dir);
  return IOStatus::OK();
}

IOStatus MemStorage::ListDir(const std::string& dir,
                             std::vector<std::string>* names) {
  std::lock_guard<std::mutex> guard(mu_);
  names->clear();
  IOStatus s = CheckPower(dir);
  if (!s.ok()) return s;
  if (dirs_.count(dir) == 0) return IOStatus::PathNotFound(dir);
  for (const auto& entry : names_) {
    if (DirOf(entry.first) == dir) {
      names->push_back(entry.first.substr(dir.size() + 1));
    }
  }
  for (const std::string& sub : dirs_) {
    if (!sub.empty() && sub != dir && DirOf(sub) == dir) {
      names->push_back(sub.substr(dir.size() + 1));
    }
  }
  return IOStatus::OK();
}

IOStatus MemStorage::OpenFile(const std::string& path, bool create,
                              std::unique_ptr<StorageFile>* file) {
  RunHook(FaultOp::kOpen, path);
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckFault(FaultOp::kOpen, path);
  if (!s.ok()) return s;
  auto it = names_.find(path);
  if (it == names_.end()) {
    if (!create) return IOStatus::PathNotFound(path);
    if (dirs_.count(DirOf(path)) == 0) return IOStatus::PathNotFound(path);
    it = names_.emplace(path, std::make_shared<File>()).first;
  }
  file->reset(new Handle(this, path, it->second, generation_));
  return IOStatus::OK();
}

IOStatus MemStorage::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckPower(path);
  if (!s.ok()) return s;
  return names_.count(path) != 0 || dirs_.count(path) != 0
             ? IOStatus::OK()
             : IOStatus::NotFound(path);
}

IOStatus MemStorage::Rename(const std::string& from, const std::string& to) {
  RunHook(FaultOp::kRename, from);
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckFault(FaultOp::kRename, from);
  if (!s.ok()) return s;
  auto it = names_.find(from);
  if (it == names_.end()) return IOStatus::PathNotFound(from);
  names_[to] = it->second;
  names_.erase(from);
  return IOStatus::OK();
}

IOStatus MemStorage::Remove(const std::string& path) {
  RunHook(FaultOp::kRemove, path);
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckFault(FaultOp::kRemove, path);
  if (!s.ok()) return s;
  if (names_.erase(path) == 0) return IOStatus::PathNotFound(path);
  return IOStatus::OK();
}

IOStatus MemStorage::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckPower(dir);
  if (!s.ok()) return s;
  for (const auto& entry : names_) {
    if (DirOf(entry.first) == dir) {
      return IOStatus::IOError("rmdir " + dir + ": not empty");
    }
  }
  dirs_.erase(dir);
  durable_dirs_.erase(dir);
  return IOStatus::OK();
}

IOStatus MemStorage::SyncDir(const std::string& dir) {
  RunHook(FaultOp::kSyncDir, dir);
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckFault(FaultOp::kSyncDir, dir);
  if (!s.ok()) return s;
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = DirOf(it->first) == dir ? durable_names_.erase(it) : std::next(it);
  }
  for (const auto& entry : names_) {
    if (DirOf(entry.first) == dir) durable_names_.insert(entry);
  }
  return IOStatus::OK();
}

IOStatus MemStorage::Lock(const std::string& path,
                          std::unique_ptr<StorageLock>* lock) {
  std::lock_guard<std::mutex> guard(mu_);
  IOStatus s = CheckPower(path);
  if (!s.ok()) return s;
  if (!locks_.insert(path).second) {
    return IOStatus::Busy("lock " + path + ": already held");
  }
  lock->reset(new LockHandle(this, path, generation_));
  return IOStatus::OK();
}

void MemStorage::Crash(CrashMode mode, std::mt19937_64* rng) {
  std::lock_guard<std::mutex> guard(mu_);
  ++generation_;
  locks_.clear();
  powered_off_ = false;
  if (mode == CrashMode::kKeepUnsynced) return;
  // Every file object reachable by any name, durable or not.
  std::set<File*> files;
  for (auto& entry : names_) files.insert(entry.second.get());
  for (auto& entry : durable_names_) files.insert(entry.second.get());
  for (File* file : files) {
    std::string image = file->durable;
    const auto& pending = file->pending;
    if (mode == CrashMode::kTearLastWrite && !pending.empty()) {
      const size_t keep = (*rng)() % (pending.size() + 1);
      for (size_t i = 0; i < keep; ++i) file->Apply(pending[i], &image);
      if (keep < pending.size() && !pending[keep].resize) {
        // The next write reaches the disk as a prefix of its sectors.
        const File::Write& w = pending[keep];
        const uint64_t first = w.offset / kSectorSize;
        const uint64_t last = (w.offset + w.data.size() + kSectorSize - 1) /
                              kSectorSize;
        const uint64_t sectors = (*rng)() % (last - first + 1);
        const uint64_t cut =
            std::min<uint64_t>(w.offset + w.data.size(),
                               (first + sectors) * kSectorSize);
        if (cut > w.offset) {
          file->Apply({w.offset, w.data.substr(0, cut - w.offset), false},
                      &image);
        }
      }
    } else if (mode == CrashMode::kRandomSectors) {
      for (const File::Write& w : pending) {
        if (w.resize) {
          if ((*rng)() % 2) file->Apply(w, &image);
          continue;
        }
        uint64_t pos = w.offset;
        const uint64_t end = w.offset + w.data.size();
        while (pos < end) {
          const uint64_t sector_end =
              std::min<uint64_t>(end, (pos / kSectorSize + 1) * kSectorSize);
          if ((*rng)() % 2) {
            file->Apply({pos, w.data.substr(pos - w.offset, sector_end - pos),
                         false},
                        &image);
          }
          pos = sector_end;
        }
      }
    }
    file->durable = image;
    file->current = image;
    file->pending.clear();
    file->lost_writes = false;
  }
  names_ = durable_names_;
  dirs_ = durable_dirs_;
}

void MemStorage::InjectFault(FaultOp op, const std::string& path_part,
                             IOStatus status, int count) {
  std::lock_guard<std::mutex> guard(mu_);
  faults_.push_back({op, path_part, std::move(status), count});
}

void MemStorage::ClearFaults() {
  std::lock_guard<std::mutex> guard(mu_);
  faults_.clear();
}

std::string MemStorage::Contents(const std::string& path) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = names_.find(path);
  return it == names_.end() ? std::string() : it->second->current;
}

void MemStorage::Corrupt(const std::string& path, uint64_t offset,
                         const std::string& bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = names_.find(path);
  if (it == names_.end()) return;
  File::Write w{offset, bytes, false};
  it->second->Apply(w, &it->second->current);
  it->second->Apply(w, &it->second->durable);
}

void MemStorage::SetSize(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = names_.find(path);
  if (it == names_.end()) return;
  it->second->current.resize(size, '\0');
  it->second->durable.resize(size, '\0');
}

uint64_t MemStorage::FaultsFired() {
  std::lock_guard<std::mutex> guard(mu_);
  return faults_fired_;
}

uint64_t MemStorage::SyncCount() {
  std::lock_guard<std::mutex> guard(mu_);
  return sync_count_;
}

std::vector<MemStorage::WritebackHint> MemStorage::WritebackHints() {
  std::lock_guard<std::mutex> guard(mu_);
  return writeback_hints_;
}

void MemStorage::SetAllocateSupported(bool supported) {
  std::lock_guard<std::mutex> guard(mu_);
  allocate_supported_ = supported;
}

}  // namespace testing
}  // namespace segwal
