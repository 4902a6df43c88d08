// Group commit: a leader/follower barrier around the log's fdatasync, after
// tikv/raft-engine's write barrier. docs/group-commit.md describes the
// algorithm; in short:
//  - the first syncer that finds no leader leads; later ones queue as
//    followers, each asleep on its own wake-up until its round is decided;
//  - a leader may wait up to `window_us` for more syncers while writers
//    noted since the last-but-one round have not all asked yet;
//  - one fdatasync covers everything written before it started; the leader
//    acknowledges itself and the followers it covered, oldest first, at
//    most `max_batch` requests (0: no limit); the oldest follower left
//    queued leads the next round;
//  - the acknowledged wake one another as a binary tree, beside the next
//    round's fdatasync;
//  - when the fdatasync fails, that failure is the log's sticky error:
//    every follower covered or still queued gets it (FailAll), and no
//    member of the group is told its bytes are durable.
//
// Thread-safe. Its lock is a leaf: it is never held while the round's
// fdatasync runs or while another lock is taken.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "env/engine/clock.h"
#include "env/engine/sticky_error.h"
#include "env/engine/wake_event.h"
#include "env/stats/log_stats.h"

namespace segwal {

class GroupCommit {
 public:
  // One round's fdatasync: covers everything written before it started,
  // up to *upto (an LSN). A failure must already be the sticky error.
  using SyncRound = std::function<IOStatus(uint64_t* upto, uint64_t* took_us)>;
  // The LSN up to which the log is durable now.
  using DurableLsn = std::function<uint64_t()>;

  GroupCommit(uint64_t window_us, uint64_t max_batch, Clock* clock,
              const StickyError* error, SyncRound sync_round,
              DurableLsn durable_lsn);

  // A round this caller led.
  struct Round {
    bool led = false;
    uint64_t requests = 0;  // requests it acknowledged
    uint64_t sync_us = 0;   // its fdatasync
    uint64_t round_us = 0;  // window wait and fdatasync
  };
  // Returns once everything up to `target` is durable, or with the sticky
  // error. `request`: a caller's sync (counted; may wait in the window);
  // else one the engine needs for itself. *led tells whether this call led
  // a round, and what the round did.
  IOStatus Sync(uint64_t target, bool request, Round* led);

  // A writer of `file_id` appended: a leader's window waits for it.
  void NoteWriter(uint64_t file_id);
  // The sticky error is set: every queued follower returns it now.
  void FailAll(const IOStatus& s);

  // Window waits and follower waits.
  void AddStatsTo(LogStats* stats);

 private:
  // A follower, on its own stack while it waits. Each follower is woken
  // by its own signal, only when its round is decided (acknowledged,
  // failed, or handed leadership).
  struct Waiter {
    uint64_t target = 0;
    // Set with mu_ held before the signal.
    bool done = false;  // acknowledged by a leader, with `status`
    bool lead = false;  // handed leadership of the next round
    IOStatus status;
    // Followers acknowledged by the same round that this one wakes on
    // waking (a tree), so that a leader wakes only the first.
    Waiter* wakes[2] = {nullptr, nullptr};
    WakeEvent wake;
  };
  class Leadership;

  // Raises the longest follower wait seen to `micros`; without mu_.
  void RecordQueuedWait(uint64_t micros);
  // The leader's optional wait for more syncers (commit_delay). Called
  // and returns with mu_ held; releases it while it waits (appenders and
  // new followers need it meanwhile).
  void WaitForGroupMayUnlock(std::unique_lock<std::mutex>& lock);

  const uint64_t window_us_;
  const uint64_t max_batch_;
  Clock* const clock_;
  const StickyError* const error_;
  const SyncRound sync_round_;
  const DurableLsn durable_lsn_;

  std::mutex mu_;
  // A leader holds leadership (or it was handed to a follower not yet
  // running).
  bool leading_ = false;
  std::deque<Waiter*> queue_;           // followers, oldest first
  std::vector<Waiter*> acknowledged_;  // a leader's, reused per round
  std::condition_variable joined_;     // a follower queued (wakes a leader)
  // Logical files appended since the last round started, and in the round
  // before: the writers a window may wait for (two rounds, because writers
  // acknowledged by the last round append again while the next one is
  // being gathered).
  std::unordered_set<uint64_t> active_files_;
  std::unordered_set<uint64_t> previous_active_files_;
  uint64_t group_wait_count_ = 0;
  uint64_t group_wait_us_ = 0;
  uint64_t group_wait_max_us_ = 0;
  // Kept by followers without mu_ (RecordQueuedWait).
  std::atomic<uint64_t> queued_wait_max_us_{0};
};

}  // namespace segwal
