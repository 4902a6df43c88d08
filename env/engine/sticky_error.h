// The first failure of a log's writes or fdatasyncs, kept for good: it is
// returned by the call that failed, by every waiter of the same sync group
// and by every later change or sync. A failed write or fdatasync is never
// retried into a false success (Linux reports a writeback error to one
// fdatasync only; the data it was to write is gone).
//
// Thread-safe. Its lock is a leaf: nothing else is taken while it is held.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "rocksdb/io_status.h"

namespace segwal {

using rocksdb::IOStatus;

class StickyError {
 public:
  // Called once, by the first Set, after the failure is kept (from the
  // thread that failed, with whatever locks it holds: the listener takes
  // only leaf locks). Set before the log is used.
  void SetListener(std::function<void(const IOStatus&)> listener) {
    listener_ = std::move(listener);
  }

  // A lock-free check for the hot path.
  bool ok() const { return !failed_.load(std::memory_order_acquire); }

  // OK, or the kept failure.
  IOStatus Get() const {
    if (ok()) return IOStatus::OK();
    std::lock_guard<std::mutex> guard(mu_);
    return error_;
  }

  // Keeps `s` (not OK) unless a failure is kept already; returns the kept
  // failure.
  IOStatus Set(const IOStatus& s) {
    {
      std::lock_guard<std::mutex> guard(mu_);
      if (failed_.load(std::memory_order_relaxed)) return error_;
      error_ = s;
      failed_.store(true, std::memory_order_release);
    }
    if (listener_) listener_(s);
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::atomic<bool> failed_{false};
  IOStatus error_;  // guarded by mu_; fixed once failed_
  std::function<void(const IOStatus&)> listener_;
};

}  // namespace segwal
