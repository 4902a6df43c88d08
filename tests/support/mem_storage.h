// An in-memory Storage that simulates what a machine keeps when it loses
// power, and injects faults. Beneath a Log it lets tests crash at any point
// and check that every synced byte survives.
//
// Model: every file has durable contents (as of its last Sync) and the
// writes issued since. Directory entries (creates, renames, removes) become
// durable only with SyncDir of their directory. Crash() keeps the durable
// state plus, by the chosen CrashMode, some of the unsynced writes; handles
// opened before the crash go dead (every call fails), as the process did.
//
// A test that crashes a running Log calls PowerOff() first, then destroys
// the Log, then Crash(): the Log's threads and destructor find every call
// failing and cannot change the storage after the crash point.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "env/storage/storage.h"

namespace segwal {
namespace testing {

enum class CrashMode {
  kDropUnsynced,   // keep nothing that was not synced
  kKeepUnsynced,   // a killed process, not a power loss: every write and
                   // directory change stays visible, but what was not
                   // synced is still not durable (a later power loss may
                   // drop it)
  kTearLastWrite,  // keep a prefix of the unsynced writes, the last of them
                   // cut at a sector boundary
  kRandomSectors,  // keep each unsynced sector or not, at random (writeback
                   // in any order)
};

// Operations that faults can be injected into.
// kWriteback: a StartWriteback hint (only hooks see it: a hint cannot fail).
enum class FaultOp { kOpen, kRead, kWrite, kSync, kAllocate, kRename,
                     kRemove, kSyncDir, kWriteback };

class MemStorage : public Storage {
 public:
  static constexpr size_t kSectorSize = 512;

  MemStorage();
  ~MemStorage() override;

  // Storage.
  IOStatus CreateDirIfMissing(const std::string& dir) override;
  IOStatus ListDir(const std::string& dir,
                   std::vector<std::string>* names) override;
  IOStatus OpenFile(const std::string& path, bool create,
                    std::unique_ptr<StorageFile>* file) override;
  IOStatus FileExists(const std::string& path) override;
  IOStatus Rename(const std::string& from, const std::string& to) override;
  IOStatus Remove(const std::string& path) override;
  IOStatus RemoveDir(const std::string& dir) override;
  IOStatus SyncDir(const std::string& dir) override;
  IOStatus Lock(const std::string& path,
                std::unique_ptr<StorageLock>* lock) override;

  // Simulates a power loss (or a kill, with kKeepUnsynced), and powers on.
  void Crash(CrashMode mode, std::mt19937_64* rng);
  // Stops the machine: every call fails (IOError) until Crash().
  void PowerOff();

  // Called at the start of every operation that faults can be injected
  // into, before it takes effect and without the storage's lock held, on
  // the calling thread: it may block or call back into the storage (or the
  // Log above it). An empty hook removes it.
  using Hook = std::function<void(FaultOp op, const std::string& path)>;
  void SetHook(Hook hook);

  // Makes the next `count` calls of `op` on paths containing `path_part`
  // fail with `status` (count < 0: until ClearFaults). A failed kSync, as
  // on Linux, loses the file's unsynced writes: reads still see them, no
  // later Sync makes them durable, a crash drops them.
  void InjectFault(FaultOp op, const std::string& path_part, IOStatus status,
                   int count = 1);
  void ClearFaults();
  // How many calls an injected fault has failed so far.
  uint64_t FaultsFired();

  // Test access to file contents as reads see them now; empty if missing.
  std::string Contents(const std::string& path);
  // Overwrites bytes of a file as if the disk had (durably) changed them.
  void Corrupt(const std::string& path, uint64_t offset,
               const std::string& bytes);
  void SetSize(const std::string& path, uint64_t size);
  uint64_t SyncCount();
  // StorageFile::StartWriteback hints, in the order given (they change
  // nothing: durability comes from Sync alone).
  struct WritebackHint {
    std::string path;
    uint64_t offset;
    uint64_t n;
  };
  std::vector<WritebackHint> WritebackHints();
  // Whether StorageFile::Allocate works (else NotSupported, as on a file
  // system without fallocate).
  void SetAllocateSupported(bool supported);

 private:
  struct File;
  class Handle;
  class LockHandle;
  friend class Handle;
  friend class LockHandle;

  // Both need mu_ held.
  IOStatus CheckFault(FaultOp op, const std::string& path);
  IOStatus CheckPower(const std::string& path) const;
  void RunHook(FaultOp op, const std::string& path);
  static std::string DirOf(const std::string& path);

  std::mutex mu_;
  uint64_t generation_ = 0;  // bumped by Crash; older handles are dead
  bool powered_off_ = false;
  std::set<std::string> dirs_, durable_dirs_;
  std::map<std::string, std::shared_ptr<File>> names_, durable_names_;
  std::set<std::string> locks_;
  struct Fault {
    FaultOp op;
    std::string path_part;
    IOStatus status;
    int remaining;
  };
  std::vector<Fault> faults_;
  uint64_t sync_count_ = 0;
  std::vector<WritebackHint> writeback_hints_;
  uint64_t faults_fired_ = 0;
  bool allocate_supported_ = true;

  std::mutex hook_mu_;
  std::shared_ptr<const Hook> hook_;
};

}  // namespace testing
}  // namespace segwal
