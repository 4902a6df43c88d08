#include "env/engine/group_commit.h"

#include <algorithm>

namespace segwal {

// Leadership of one round: while it is held, other syncers queue.
// Constructed and destroyed with mu_ held; a follower handed leadership
// constructs it again (it is still held for it).
class GroupCommit::Leadership {
 public:
  explicit Leadership(GroupCommit* group) : group_(group) {
    group_->leading_ = true;
  }
  // On an early return (the sticky error), the wake-up is made at once.
  ~Leadership() {
    if (Waiter* next = HandOn()) next->wake.Set();
  }
  // Ends this leader's hold, once: the oldest follower still queued leads
  // the next round, or leadership is released if none is. (After a
  // failure the queue is empty: FailAll answered every follower.) Returns
  // the new leader, out of the queue and not woken yet: the caller wakes
  // it, with mu_ held or not (nobody else can).
  Waiter* HandOn() {
    if (released_) return nullptr;
    released_ = true;
    if (group_->queue_.empty()) {
      group_->leading_ = false;
      return nullptr;
    }
    Waiter* next = group_->queue_.front();
    group_->queue_.pop_front();
    next->lead = true;
    return next;
  }
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

 private:
  GroupCommit* const group_;
  bool released_ = false;
};

GroupCommit::GroupCommit(uint64_t window_us, uint64_t max_batch, Clock* clock,
                         const StickyError* error, SyncRound sync_round,
                         DurableLsn durable_lsn)
    : window_us_(window_us),
      max_batch_(max_batch),
      clock_(clock),
      error_(error),
      sync_round_(std::move(sync_round)),
      durable_lsn_(std::move(durable_lsn)) {}

void GroupCommit::NoteWriter(uint64_t file_id) {
  std::lock_guard<std::mutex> guard(mu_);
  active_files_.insert(file_id);
}

void GroupCommit::FailAll(const IOStatus& s) {
  std::lock_guard<std::mutex> guard(mu_);
  for (Waiter* w : queue_) {
    w->done = true;
    w->status = s;
    w->wake.Set();
  }
  queue_.clear();
  joined_.notify_all();
}

IOStatus GroupCommit::Sync(uint64_t target, bool request, Round* led) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_->ok()) return error_->Get();
  if (durable_lsn_() >= target) return IOStatus::OK();
  // Follow while someone leads.
  bool handed = false;
  if (leading_) {
    Waiter me;
    me.target = target;
    queue_.push_back(&me);
    joined_.notify_all();  // a leader in its window counts requests
    const uint64_t queued_at = clock_->NowMicros();
    lock.unlock();
    me.wake.Wait();
    // Pass the wake-up on through the round's acknowledged followers.
    for (Waiter* w : me.wakes) {
      if (w != nullptr) w->wake.Set();
    }
    // The leader wrote done, status and lead before the wake-up; an
    // acknowledged follower returns without the lock, which every syncer
    // of the round would otherwise take again at once.
    RecordQueuedWait(clock_->NowMicros() - queued_at);
    if (me.done) return me.status;  // acknowledged (or failed) by a leader
    handed = me.lead;
    lock.lock();
  }

  // Lead.
  Leadership leadership(this);
  if (!error_->ok()) return error_->Get();
  // Handed leadership, not acknowledged by the last leader: its bytes were
  // written after that fdatasync started, or the group was full. With a
  // cap, lead a round even if they are durable by now, so that no
  // fdatasync ever acknowledges more than the cap.
  if (handed && max_batch_ == 0 && durable_lsn_() >= target) {
    return IOStatus::OK();
  }
  const uint64_t round_start = clock_->NowMicros();
  if (request && window_us_ > 0) {
    WaitForGroupMayUnlock(lock);
    if (!error_->ok()) return error_->Get();
  }
  // Writers active from now on are counted for the next round.
  previous_active_files_.swap(active_files_);
  active_files_.clear();
  uint64_t upto = 0;
  uint64_t took = 0;
  lock.unlock();
  IOStatus s = sync_round_(&upto, &took);
  lock.lock();
  // Acknowledge the followers this fdatasync covered, oldest first, up to
  // the cap. On failure s is the sticky error, and FailAll has already
  // answered every follower with it.
  uint64_t requests = request ? 1 : 0;
  acknowledged_.clear();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (max_batch_ != 0 && requests >= max_batch_) break;
    Waiter* w = *it;
    if (w->target > upto) {
      ++it;
      continue;
    }
    w->done = true;
    w->status = s;
    acknowledged_.push_back(w);
    ++requests;
    it = queue_.erase(it);
  }
  // The next leader is woken first, so that the next fdatasync starts as
  // soon as possible (the disk stays busy); then the root of the
  // acknowledged's wake-up tree: the leader makes two wake-ups, not one
  // per request, and the next round is not kept waiting for them. Both
  // are made after mu_ is released, so that syncers arriving meanwhile do
  // not wait for the system calls; both are out of the queue, so nobody
  // else wakes them (FailAll answers only the queued), and each stays
  // asleep, its Waiter alive, until woken here. acknowledged_ is not read
  // after the release: the next leader reuses it.
  Waiter* const next_leader = leadership.HandOn();
  const size_t acked = acknowledged_.size();
  for (size_t i = 0; i < acked; ++i) {
    for (size_t child = 0; child < 2; ++child) {
      const size_t at = 2 * i + 1 + child;
      acknowledged_[i]->wakes[child] = at < acked ? acknowledged_[at] : nullptr;
    }
  }
  Waiter* const root = acked > 0 ? acknowledged_[0] : nullptr;
  led->led = true;
  led->requests = requests;
  led->sync_us = took;
  led->round_us = clock_->NowMicros() - round_start;
  lock.unlock();
  if (next_leader != nullptr) next_leader->wake.Set();
  if (root != nullptr) root->wake.Set();
  return s;
}

void GroupCommit::WaitForGroupMayUnlock(std::unique_lock<std::mutex>& lock) {
  const auto enough = [&] {
    if (!error_->ok()) return true;
    const uint64_t requests = 1 + queue_.size();
    if (max_batch_ != 0 && requests >= max_batch_) return true;
    // Every writer active in this round or the last has asked (a lone
    // writer: at once).
    uint64_t active = active_files_.size();
    for (uint64_t id : previous_active_files_) {
      active += active_files_.count(id) == 0 ? 1 : 0;
    }
    return requests >= active;
  };
  if (enough()) return;
  const uint64_t start = clock_->NowMicros();
  clock_->WaitUntil(lock, joined_, start + window_us_, enough);
  const uint64_t waited = clock_->NowMicros() - start;
  ++group_wait_count_;
  group_wait_us_ += waited;
  group_wait_max_us_ = std::max(group_wait_max_us_, waited);
}

void GroupCommit::RecordQueuedWait(uint64_t micros) {
  uint64_t max = queued_wait_max_us_.load(std::memory_order_relaxed);
  while (micros > max && !queued_wait_max_us_.compare_exchange_weak(
                             max, micros, std::memory_order_relaxed)) {
  }
}

void GroupCommit::AddStatsTo(LogStats* stats) {
  std::lock_guard<std::mutex> guard(mu_);
  stats->group_wait_count = group_wait_count_;
  stats->group_wait_us = group_wait_us_;
  stats->group_wait_max_us = group_wait_max_us_;
  stats->queued_wait_max_us =
      queued_wait_max_us_.load(std::memory_order_relaxed);
}

}  // namespace segwal
