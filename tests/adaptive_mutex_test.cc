// AdaptiveMutex: a waiter spins for a bounded time (not at all while the
// holder blocks), then sleeps; either way the lock excludes, and a sleeper
// gets it once it is released.
#include "env/engine/adaptive_mutex.h"

#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace segwal {
namespace {

uint64_t ThreadCpuNanos() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

TEST(AdaptiveMutexTest, ExcludesUnderContention) {
  AdaptiveMutex mu;
  uint64_t counter = 0;  // guarded by mu, deliberately not atomic
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        std::lock_guard<AdaptiveMutex> guard(mu);
        const uint64_t seen = counter;
        if (i % 1000 == 0) std::this_thread::yield();  // widen the window
        counter = seen + 1;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(static_cast<uint64_t>(kThreads) * kIncrements, counter);
}

// A holder that keeps the lock far longer than the spin: the waiter stops
// spinning, sleeps, and gets the lock when (and only when) it is released.
TEST(AdaptiveMutexTest, AWaiterPastItsSpinSleepsUntilTheRelease) {
  AdaptiveMutex mu;
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    std::lock_guard<AdaptiveMutex> guard(mu);
    acquired.store(true);
  });
  std::this_thread::sleep_for(
      std::chrono::microseconds(200 * AdaptiveMutex::kSpinMicros));
  EXPECT_FALSE(acquired.load()) << "the lock was taken while held";
  mu.unlock();
  waiter.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

// A holder in a Blocking scope (a system call under the lock): a waiter
// sleeps at once rather than spinning out kSpinMicros of CPU.
TEST(AdaptiveMutexTest, AWaiterDoesNotSpinWhileTheHolderBlocks) {
  AdaptiveMutex mu;
  mu.lock();
  auto blocking = std::make_unique<AdaptiveMutex::Blocking>(&mu);
  uint64_t waiter_cpu_ns = 0;
  std::thread waiter([&] {
    const uint64_t before = ThreadCpuNanos();
    mu.lock();
    waiter_cpu_ns = ThreadCpuNanos() - before;
    mu.unlock();
  });
  std::this_thread::sleep_for(
      std::chrono::microseconds(200 * AdaptiveMutex::kSpinMicros));
  blocking.reset();
  mu.unlock();
  waiter.join();
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
  // Spinning would cost the waiter kSpinMicros of CPU; sleeping, a few
  // system calls. (Sanitizers slow every step too much to tell.)
  EXPECT_LT(waiter_cpu_ns, AdaptiveMutex::kSpinMicros * 1000 / 2);
#endif
}

}  // namespace
}  // namespace segwal
