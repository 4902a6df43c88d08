// A one-shot wake-up between two threads, on a Linux futex.
//
// Why not a mutex and condition variable: to let the waiter free the event
// as soon as Wait returns, a condition variable must be notified with its
// mutex held, and then every wake-up costs a second one (the woken thread
// blocks on the mutex the signaller still holds). Here Set is one atomic
// exchange and a FUTEX_WAKE only when the waiter is asleep (or about to
// be); it never reads the event's memory after the exchange, so the waiter
// may return and free the event at once. (A wake aimed at freed memory at
// worst wakes a later futex at the same address spuriously; Wait re-checks
// its word and sleeps again.)
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace segwal {

class WakeEvent {
 public:
  // Wakes the thread in Wait (or lets the next Wait return at once).
  // Returns whether the waiter was asleep (or about to be), which is when
  // it makes the system call.
  bool Set() {
    std::atomic<uint32_t>* word = &word_;
    if (word->exchange(kSet, std::memory_order_acq_rel) != kSleeping) {
      return false;
    }
    Futex(word, FUTEX_WAKE_PRIVATE, 1);
    return true;
  }

  // Returns once Set has been called; what the setter wrote before Set is
  // visible after.
  void Wait() {
    uint32_t state = kUnset;
    // Announce the sleep first, so that a Set from now on makes the call.
    if (word_.compare_exchange_strong(state, kSleeping,
                                      std::memory_order_acquire)) {
      state = kSleeping;
    }
    while (state != kSet) {
      Futex(&word_, FUTEX_WAIT_PRIVATE, kSleeping);  // at once unless asleep
      state = word_.load(std::memory_order_acquire);
    }
  }

 private:
  static void Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr,
            nullptr, 0);
  }

  // kUnset -> kSleeping (Wait, before it sleeps) -> kSet (Set), or
  // kUnset -> kSet when Set comes first.
  static constexpr uint32_t kUnset = 0;
  static constexpr uint32_t kSleeping = 1;
  static constexpr uint32_t kSet = 2;
  std::atomic<uint32_t> word_{kUnset};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t),
                "a futex is a 32-bit word");
};

}  // namespace segwal
