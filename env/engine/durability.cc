#include "env/engine/durability.h"

#include <algorithm>

namespace segwal {

Durability::Durability(const LogContext& context, SegmentWriter* writer,
                       const StickyError* error)
    : context_(context),
      writer_(writer),
      error_(error),
      track_writers_(context.options.sync_mode == SyncMode::kGroup &&
                     context.options.group_commit_window_us > 0),
      group_(context.options.sync_mode == SyncMode::kGroup
                 ? context.options.group_commit_window_us
                 : 0,
             context.options.sync_mode == SyncMode::kGroup
                 ? context.options.group_commit_max_batch
                 : 0,
             context.clock, error,
             [writer](uint64_t* upto, uint64_t* took_us) {
               return writer->SyncHead(upto, took_us);
             },
             [writer] { return writer->durable_lsn(); }) {}

IOStatus Durability::Sync(uint64_t target, SyncFor why) {
  if (why != SyncFor::kEngine) {
    std::lock_guard<std::mutex> guard(mu_);
    ++sync_request_count_;
  }
  if (!error_->ok()) return error_->Get();
  const SyncMode mode = context_.options.sync_mode;
  if (why != SyncFor::kEngine) {
    if (mode == SyncMode::kNone) return IOStatus::OK();
    if (mode == SyncMode::kInterval && why == SyncFor::kFile) {
      return IOStatus::OK();
    }
  }
  GroupCommit::Round round;
  IOStatus s;
  if (mode == SyncMode::kAlways) {
    // Every call runs its own fdatasync (one at a time, see SerialSync): a
    // batch of one.
    uint64_t upto = 0;
    s = writer_->SyncHead(&upto, &round.sync_us);
    round.led = true;
    round.requests = why == SyncFor::kEngine ? 0 : 1;
    round.round_us = round.sync_us;
  } else {
    s = group_.Sync(target, why != SyncFor::kEngine, &round);
  }
  if (round.led) {
    std::lock_guard<std::mutex> guard(mu_);
    RecordRoundLocked(round);
  }
  return s;
}

void Durability::RecordRoundLocked(const GroupCommit::Round& round) {
  batch_max_us_ = std::max(batch_max_us_, round.round_us);
  if (round.requests == 0) return;
  sync_batches_.fetch_add(1, std::memory_order_relaxed);
  sync_us_ += round.sync_us;
  sync_max_us_ = std::max(sync_max_us_, round.sync_us);
  batch_size_max_ = std::max(batch_size_max_, round.requests);
}

void Durability::RecordSyncLatency(uint64_t micros) {
  std::lock_guard<std::mutex> guard(mu_);
  sync_latency_us_.Record(micros);
}

void Durability::AddStatsTo(LogStats* stats) {
  group_.AddStatsTo(stats);
  std::lock_guard<std::mutex> guard(mu_);
  stats->sync_request_count = sync_request_count_;
  stats->sync_batch_count = sync_batches();
  stats->sync_us = sync_us_;
  stats->sync_max_us = sync_max_us_;
  stats->batch_size_max = batch_size_max_;
  stats->batch_max_us = batch_max_us_;
  stats->sync_latency_us = sync_latency_us_;
}

}  // namespace segwal
