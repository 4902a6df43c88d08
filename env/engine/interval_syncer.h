// sync_mode=interval: a thread that makes everything written durable every
// sync_interval_ms, so that Sync can return as soon as bytes reach the OS.
//
// Thread-safe. Its lock guards only its own wake-up; the sync runs
// without it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "env/engine/durability.h"
#include "env/engine/log_context.h"
#include "env/engine/segment_writer.h"

namespace segwal {

class IntervalSyncer {
 public:
  IntervalSyncer(const LogContext& context, SegmentWriter* writer,
                 Durability* durability);
  ~IntervalSyncer();
  // Starts the thread (sync mode interval only).
  void Start();
  void Stop();

 private:
  void Loop(uint64_t first_deadline_us);
  uint64_t interval_us() const {
    return context_.options.sync_interval_ms * 1000;
  }

  const LogContext& context_;
  SegmentWriter* const writer_;
  Durability* const durability_;
  std::mutex mu_;
  std::condition_variable cv_;  // stop
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace segwal
