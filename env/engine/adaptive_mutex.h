// A mutex for locks held for well under a microsecond by many threads. A
// waiter first spins, watching the lock without writing to it, for up to
// kSpinMicros; only then does it sleep (in glibc's adaptive mutex, which
// spins a little more). A waiter that sleeps pays two context switches and
// its wake-up's latency, and meanwhile its DB's write pipeline stands
// still (RocksDB's WAL writer is the thread waiting here); the holder,
// storing a frame through a mapping, is done long before that.
//
// A holder about to make a system call (a pwrite, a rotation's fdatasync)
// says so with a Blocking scope: waiters then sleep at once instead of
// burning CPU the holder's I/O does not need and other threads do. The
// spin is bounded in time, so a preempted holder costs each waiter at most
// kSpinMicros of CPU.
// BasicLockable, for std::lock_guard and std::unique_lock (not for
// std::condition_variable).
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace segwal {

class AdaptiveMutex {
 public:
  static constexpr int64_t kSpinMicros = 50;

  // `spin_micros`: how long a waiter spins (tests lengthen it to tell a
  // spinning waiter from a sleeping one by its CPU time).
  explicit AdaptiveMutex(int64_t spin_micros = kSpinMicros)
      : spin_micros_(spin_micros) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() {
    if (try_lock() || SpinToLock()) return;
    pthread_mutex_lock(&mu_);
    held_.store(true, std::memory_order_relaxed);
  }
  bool try_lock() {
    if (pthread_mutex_trylock(&mu_) != 0) return false;
    held_.store(true, std::memory_order_relaxed);
    return true;
  }
  void unlock() {
    blocking_.store(false, std::memory_order_relaxed);
    held_.store(false, std::memory_order_relaxed);
    pthread_mutex_unlock(&mu_);
  }

  // Held by the lock's holder around a system call made under the lock.
  class Blocking {
   public:
    explicit Blocking(AdaptiveMutex* mu) : mu_(mu) {
      mu_->blocking_.store(true, std::memory_order_relaxed);
    }
    ~Blocking() { mu_->blocking_.store(false, std::memory_order_relaxed); }
    Blocking(const Blocking&) = delete;
    Blocking& operator=(const Blocking&) = delete;

   private:
    AdaptiveMutex* const mu_;
  };

 private:
  // True once it holds the lock; false after spin_micros_ without, or as
  // soon as the holder blocks.
  bool SpinToLock() {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(spin_micros_);
    for (uint32_t i = 1;; ++i) {
      Pause();
      // held_ is only a hint (the mutex decides): reading it keeps the
      // cache line shared while the holder works.
      if (!held_.load(std::memory_order_relaxed) && try_lock()) return true;
      if (blocking_.load(std::memory_order_relaxed)) return false;
      if (i % 32 == 0 && std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
  }
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  const int64_t spin_micros_;
  pthread_mutex_t mu_;
  std::atomic<bool> held_{false};      // hints, read by spinning waiters
  std::atomic<bool> blocking_{false};
};

}  // namespace segwal
