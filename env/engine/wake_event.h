// A one-shot wake-up between two threads, on a Linux futex.
//
// Why not a mutex and condition variable: to let the waiter free the event
// as soon as Wait returns, a condition variable must be notified with its
// mutex held, and then every wake-up costs a second one (the woken thread
// blocks on the mutex the signaller still holds). Here Set is one atomic
// store and at most one FUTEX_WAKE; it never reads the event's memory after
// the store, so the waiter may return and free the event at once. (A wake
// aimed at freed memory at worst wakes a later futex at the same address
// spuriously; Wait re-checks its word and sleeps again.)
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
  void Set() {
    std::atomic<uint32_t>* word = &word_;
    word->store(1, std::memory_order_release);
    Futex(word, FUTEX_WAKE_PRIVATE, 1);
  }

  // Returns once Set has been called; what the setter wrote before Set is
  // visible after.
  void Wait() {
    while (word_.load(std::memory_order_acquire) == 0) {
      Futex(&word_, FUTEX_WAIT_PRIVATE, 0);  // returns at once unless still 0
    }
  }

 private:
  static void Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr,
            nullptr, 0);
  }

  std::atomic<uint32_t> word_{0};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t),
                "a futex is a 32-bit word");
};

}  // namespace segwal
