// Durability: Sync, SyncAll, group commit and the interval syncer (Log
// member functions; the rest of Log is in log.cc).
//
// Group commit (sync_mode=group), after tikv/raft-engine's write barrier and
// PostgreSQL's commit_delay/commit_siblings:
//  - The first syncer that finds no leader takes leadership (SyncLeadership,
//    an RAII guard: every path out of a round hands it to the oldest queued
//    follower, or releases it if none is queued). Syncers arriving while
//    leadership is held queue as followers, each sleeping on its own signal
//    until its round is decided: one wake-up per follower per round, none
//    for followers the round did not cover.
//  - Before its fdatasync the leader may wait up to group_commit_window_us
//    for more syncers, but only while that can pay: it stops (or never
//    starts) as soon as the requests it has (itself and the queue) number
//    at least the writers active in the current and the previous round
//    (the logical files appended since the last-but-one sync batch
//    started), or reach group_commit_max_batch. A lone writer never waits;
//    a writer that stops costs at most one window, once.
//  - One fdatasync of the head segment then covers everything written
//    before it started. The leader acknowledges itself and the queued
//    followers whose bytes it covered, oldest first, at most
//    group_commit_max_batch requests in all (0: no limit); the rest stay
//    queued and the oldest leads the next round, even if its bytes were
//    made durable meanwhile, so that the cap holds exactly. A request whose
//    bytes were durable when it arrived returns at once and belongs to no
//    batch. The leader wakes the next leader, then only the first follower
//    it acknowledged; the acknowledged wake one another as a binary tree
//    (follower i wakes 2i+1 and 2i+2), so the wake-ups run beside the next
//    fdatasync and on both CPUs, and the last of 32 wakes after 5 hops.
//  - When the fdatasync fails, the error becomes the log's sticky error:
//    the leader and every follower it covered get it as their Sync's
//    result, every follower still queued wakes and gets it too, and every
//    later Append, Sync or namespace change returns it. No member of the
//    group is told its bytes are durable, and no fdatasync is retried into a
//    false success (the kernel reports a writeback error only once).
#include <algorithm>
#include <chrono>

#include "env/engine/log.h"

namespace segwal {
namespace {

uint64_t NowMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

// Leadership of one sync round: while it is held, other syncers queue.
// Constructed and destroyed with mu_ held; a follower handed leadership
// constructs it again (it is still held for it).
class Log::SyncLeadership {
 public:
  explicit SyncLeadership(Log* log) : log_(log) {
    log_->sync_in_progress_ = true;
  }
  ~SyncLeadership() { HandOn(); }
  // Ends this leader's hold, once: the oldest follower still queued leads
  // the next round, or leadership is released if none is. (After an error
  // the queue is empty: SetErrorLocked answered every follower.)
  void HandOn() {
    if (released_) return;
    released_ = true;
    if (log_->sync_queue_.empty()) {
      log_->sync_in_progress_ = false;
      return;
    }
    SyncWaiter* next = log_->sync_queue_.front();
    log_->sync_queue_.pop_front();
    next->lead = true;
    next->wake.Set();
  }
  SyncLeadership(const SyncLeadership&) = delete;
  SyncLeadership& operator=(const SyncLeadership&) = delete;

 private:
  Log* const log_;
  bool released_ = false;
};

void Log::SetErrorLocked(const IOStatus& s) {
  if (error_.ok()) {
    error_ = s;
    // Every queued follower gets the error now; none will lead.
    for (SyncWaiter* w : sync_queue_) {
      w->done = true;
      w->status = s;
      w->wake.Set();
    }
    sync_queue_.clear();
    group_cv_.notify_all();
    prepare_cv_.notify_all();
  }
}

IOStatus Log::Sync(uint64_t id) {
  const uint64_t start = NowMicros();
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  const LogicalFile* file = table_.FindById(id);
  s = SyncToLocked(
      lock, file != nullptr ? file->last_lsn : written_lsn_, SyncFor::kFile);
  stats_.sync_latency_us.Record(NowMicros() - start);
  return s;
}

IOStatus Log::SyncAll() {
  const uint64_t start = NowMicros();
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = SyncToLocked(lock, written_lsn_, SyncFor::kAll);
  stats_.sync_latency_us.Record(NowMicros() - start);
  return s;
}

IOStatus Log::SyncToLocked(std::unique_lock<std::mutex>& lock,
                           uint64_t target, SyncFor why) {
  if (why != SyncFor::kEngine) ++stats_.sync_request_count;
  if (!error_.ok()) return error_;
  const SyncMode mode = options_.sync_mode;
  if (why != SyncFor::kEngine) {
    if (mode == SyncMode::kNone) return IOStatus::OK();
    if (mode == SyncMode::kInterval && why == SyncFor::kFile) {
      return IOStatus::OK();
    }
  }
  if (mode != SyncMode::kAlways) return GroupSyncLocked(lock, target, why);
  // Mode always: every call runs its own fdatasync (one at a time, see
  // SerialSync): a batch of one.
  uint64_t upto = 0, took = 0;
  IOStatus s = SyncHeadLocked(lock, &upto, &took);
  const uint64_t requests = why == SyncFor::kEngine ? 0 : 1;
  if (requests > 0) RecordSyncBatchLocked(requests, took);
  stats_.batch_max_us = std::max(stats_.batch_max_us, took);
  return s;
}

IOStatus Log::GroupSyncLocked(std::unique_lock<std::mutex>& lock,
                              uint64_t target, SyncFor why) {
  if (durable_lsn_ >= target) return IOStatus::OK();
  const uint64_t cap = options_.sync_mode == SyncMode::kGroup
                           ? options_.group_commit_max_batch
                           : 0;
  // Follow while someone leads.
  bool handed = false;
  if (sync_in_progress_) {
    SyncWaiter me;
    me.target = target;
    sync_queue_.push_back(&me);
    group_cv_.notify_all();  // a leader in its window counts requests
    const uint64_t queued_at = NowMicros();
    lock.unlock();
    me.wake.Wait();
    // Pass the wake-up on through the round's acknowledged followers.
    for (SyncWaiter* w : me.wakes) {
      if (w != nullptr) w->wake.Set();
    }
    lock.lock();
    stats_.queued_wait_max_us =
        std::max(stats_.queued_wait_max_us, NowMicros() - queued_at);
    if (me.done) return me.status;  // acknowledged (or failed) by a leader
    handed = me.lead;
  }

  // Lead.
  SyncLeadership leadership(this);
  if (!error_.ok()) return error_;
  // Handed leadership, not acknowledged by the last leader: its bytes were
  // written after that fdatasync started, or the group was full. With a
  // cap, lead a round even if they are durable by now, so that no
  // fdatasync ever acknowledges more than `cap` requests.
  if (handed && cap == 0 && durable_lsn_ >= target) return IOStatus::OK();
  const uint64_t round_start = NowMicros();
  if (options_.sync_mode == SyncMode::kGroup && why != SyncFor::kEngine &&
      options_.group_commit_window_us > 0) {
    WaitForGroupLocked(lock);
    if (!error_.ok()) return error_;
  }
  // Writers active from now on are counted for the next round.
  previous_active_files_.swap(active_files_);
  active_files_.clear();
  uint64_t upto = 0, took = 0;
  IOStatus s = SyncHeadLocked(lock, &upto, &took);
  // Acknowledge the followers this fdatasync covered, oldest first, up to
  // the cap. On failure s is the sticky error, and SetErrorLocked has
  // already answered every follower with it.
  uint64_t requests = why == SyncFor::kEngine ? 0 : 1;
  acknowledged_.clear();
  for (auto it = sync_queue_.begin(); it != sync_queue_.end();) {
    if (cap != 0 && requests >= cap) break;
    SyncWaiter* w = *it;
    if (w->target > upto) {
      ++it;
      continue;
    }
    w->done = true;
    w->status = s;
    acknowledged_.push_back(w);
    ++requests;
    it = sync_queue_.erase(it);
  }
  // The next leader is woken first, so that the next fdatasync starts as
  // soon as possible (the disk stays busy); then the root of the
  // acknowledged's wake-up tree: the leader makes two wake-ups, not one
  // per request, and the next round is not kept waiting for them.
  leadership.HandOn();
  const size_t acked = acknowledged_.size();
  for (size_t i = 0; i < acked; ++i) {
    for (size_t child = 0; child < 2; ++child) {
      const size_t at = 2 * i + 1 + child;
      acknowledged_[i]->wakes[child] = at < acked ? acknowledged_[at] : nullptr;
    }
  }
  if (acked > 0) acknowledged_[0]->wake.Set();
  if (requests > 0) RecordSyncBatchLocked(requests, took);
  stats_.batch_max_us =
      std::max(stats_.batch_max_us, NowMicros() - round_start);
  return s;
}

void Log::WaitForGroupLocked(std::unique_lock<std::mutex>& lock) {
  const uint64_t cap = options_.group_commit_max_batch;
  const auto enough = [&] {
    if (!error_.ok() || stop_) return true;
    const uint64_t requests = 1 + sync_queue_.size();
    if (cap != 0 && requests >= cap) return true;
    // Every writer active in this round or the last has asked (a lone
    // writer: at once).
    uint64_t active = active_files_.size();
    for (uint64_t id : previous_active_files_) {
      active += active_files_.count(id) == 0 ? 1 : 0;
    }
    return requests >= active;
  };
  if (enough()) return;
  const uint64_t start = NowMicros();
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::microseconds(options_.group_commit_window_us);
  group_cv_.wait_until(lock, deadline, enough);
  const uint64_t waited = NowMicros() - start;
  ++stats_.group_wait_count;
  stats_.group_wait_us += waited;
  stats_.group_wait_max_us = std::max(stats_.group_wait_max_us, waited);
}

// Fdatasyncs the head, which holds everything not yet durable (rotation
// made older segments durable before sealing them).
IOStatus Log::SyncHeadLocked(std::unique_lock<std::mutex>& lock,
                             uint64_t* upto, uint64_t* took_us) {
  const std::shared_ptr<Segment> head = head_;
  *upto = written_lsn_;
  lock.unlock();
  const uint64_t started = NowMicros();
  // Through the segment's SerialSync: a success here cannot follow or
  // overlap a failed fdatasync of the file (a rotation's, or another
  // caller's in mode always), which the kernel reports only once.
  IOStatus s = head->syncs.Sync(head->file.get());
  *took_us = NowMicros() - started;
  lock.lock();
  ++stats_.batch_count;
  if (!s.ok()) {
    SetErrorLocked(s);
  } else if (error_.ok()) {
    durable_lsn_ = std::max(durable_lsn_, *upto);
  }
  return error_;
}

void Log::RecordSyncBatchLocked(uint64_t requests, uint64_t took_us) {
  ++stats_.sync_batch_count;
  stats_.sync_us += took_us;
  stats_.sync_max_us = std::max(stats_.sync_max_us, took_us);
  stats_.batch_size_max = std::max(stats_.batch_size_max, requests);
}

void Log::IntervalSyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.sync_interval_ms);
  while (!stop_) {
    housekeeper_cv_.wait_until(lock, deadline, [&] { return stop_; });
    if (stop_) break;
    if (std::chrono::steady_clock::now() < deadline) continue;
    deadline = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(options_.sync_interval_ms);
    if (error_.ok() && written_lsn_ > durable_lsn_) {
      SyncToLocked(lock, written_lsn_, SyncFor::kAll).PermitUncheckedError();
    }
  }
}

}  // namespace segwal
