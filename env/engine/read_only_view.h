// A read-only view of a log another process writes (it holds the lock):
// the files as that process had written them when the view was scanned (a
// torn tail is what it was still writing), readable, never updated. Every
// change and sync returns an error naming the lock; nothing is written to
// the directory, not even the LOG file. RocksDB's read-only and secondary
// instances and ldb read a live DB through views (docs/read-only-views.md).
//
// The writer may reclaim and recycle a segment while the view reads it:
// the scan is retried; a read of such bytes later fails as Corruption.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "env/engine/log.h"

namespace segwal {

struct ScanResult;  // env/recovery/scanner.h

class ReadOnlyView : public Log {
 public:
  static IOStatus Open(Storage* storage, const std::string& dir,
                       const LogOptions& options, std::unique_ptr<Log>* log,
                       RecoveryInfo* info);

  IOStatus Create(const std::string&, uint64_t*) override { return error_; }
  IOStatus Rename(const std::string&, const std::string&) override {
    return error_;
  }
  IOStatus Delete(const std::string&, uint64_t) override { return error_; }
  IOStatus Link(const std::string&, const std::string&) override {
    return error_;
  }
  IOStatus Append(uint64_t, const Slice&) override { return error_; }
  IOStatus WriteAt(uint64_t, uint64_t, const Slice&) override {
    return error_;
  }
  IOStatus Truncate(uint64_t, uint64_t) override { return error_; }
  IOStatus Sync(uint64_t) override { return error_; }
  IOStatus SyncAll() override { return error_; }
  IOStatus Housekeep() override { return error_; }
  IOStatus ReopenView(uint64_t id, std::unique_ptr<Log>* fresh) override;
  bool read_only() const override { return true; }
  void InfoLogWrite(const std::string&) override {}
  LogStats GetStats() override;

 private:
  ReadOnlyView(Storage* storage, const std::string& dir,
               const LogOptions& options, ScanResult* scan);

  Storage* const storage_;
  const IOStatus error_;  // what every change returns
  uint64_t head_bytes_ = 0;
};

}  // namespace segwal
