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
// sleeps at once rather than spinning. The spin is made 50 ms long, so
// that a waiter that spun would show milliseconds of CPU however busy the
// machine (a sleeping one costs a few system calls: tens of microseconds).
TEST(AdaptiveMutexTest, AWaiterDoesNotSpinWhileTheHolderBlocks) {
  constexpr int64_t kLongSpinMicros = 50000;
  const auto waiter_cpu_nanos = [](bool holder_blocks) {
    AdaptiveMutex mu(kLongSpinMicros);
    mu.lock();
    std::unique_ptr<AdaptiveMutex::Blocking> blocking;
    if (holder_blocks) {
      blocking = std::make_unique<AdaptiveMutex::Blocking>(&mu);
    }
    uint64_t cpu = 0;
    std::thread waiter([&] {
      const uint64_t before = ThreadCpuNanos();
      mu.lock();
      cpu = ThreadCpuNanos() - before;
      mu.unlock();
    });
    std::this_thread::sleep_for(std::chrono::microseconds(2 * kLongSpinMicros));
    blocking.reset();
    mu.unlock();
    waiter.join();
    return cpu;
  };
  EXPECT_LT(waiter_cpu_nanos(/*holder_blocks=*/true), 5000000u);
  // And the measure tells: without the Blocking scope the waiter spins.
  EXPECT_GT(waiter_cpu_nanos(/*holder_blocks=*/false), 5000000u);
}

}  // namespace
}  // namespace segwal
