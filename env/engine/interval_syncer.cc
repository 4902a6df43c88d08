#include "env/engine/interval_syncer.h"

namespace segwal {

IntervalSyncer::IntervalSyncer(const LogContext& context,
                               SegmentWriter* writer, Durability* durability)
    : context_(context), writer_(writer), durability_(durability) {}

IntervalSyncer::~IntervalSyncer() { Stop(); }

void IntervalSyncer::Start() {
  if (context_.options.sync_mode == SyncMode::kInterval) {
    // The first interval runs from now, not from when the thread runs.
    const uint64_t first = context_.clock->NowMicros() + interval_us();
    thread_ = std::thread([this, first] { Loop(first); });
  }
}

void IntervalSyncer::Stop() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IntervalSyncer::Loop(uint64_t deadline) {
  Clock* const clock = context_.clock;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (clock->WaitUntil(lock, cv_, deadline, [&] { return stop_; })) break;
    if (clock->NowMicros() < deadline) continue;
    deadline = clock->NowMicros() + interval_us();
    const uint64_t written = writer_->written_lsn();
    if (written > writer_->durable_lsn()) {
      lock.unlock();
      durability_->Sync(written, SyncFor::kAll).PermitUncheckedError();
      lock.lock();
    }
  }
}

}  // namespace segwal
