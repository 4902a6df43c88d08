// A Clock that moves only when a test advances it, so that tests of
// mtimes, periods, intervals and windows never wait for real time to pass.
//
// WaitUntil waits (for real) until its condition holds or the fake time
// reaches the deadline; Advance wakes every such waiter to look again.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

#include "env/engine/clock.h"

namespace segwal {
namespace testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(uint64_t unix_seconds = 1700000000)
      : unix_seconds_(unix_seconds) {}

  uint64_t NowMicros() override { return micros_.load(); }
  uint64_t NowUnixSeconds() override { return unix_seconds_.load(); }

  bool WaitUntil(std::unique_lock<std::mutex>& lock,
                 std::condition_variable& cv, uint64_t deadline_us,
                 const std::function<bool()>& done) override {
    ++waiting_;
    // Advance cannot take the waiter's mutex (lock order), so it cannot
    // be sure a notify lands after the waiter checked the time: waiters
    // look again at least every millisecond.
    while (!done() && NowMicros() < deadline_us) {
      cv.wait_for(lock, std::chrono::milliseconds(1));
    }
    --waiting_;
    return done();
  }

  // Moves both clocks forward.
  void Advance(uint64_t micros) {
    micros_ += micros;
    unix_seconds_ += (micros_ / 1000000) - ((micros_ - micros) / 1000000);
  }
  void AdvanceSeconds(uint64_t seconds) { Advance(seconds * 1000000); }

  // Threads inside WaitUntil now.
  int waiting() const { return waiting_.load(); }

 private:
  std::atomic<uint64_t> micros_{1};
  std::atomic<uint64_t> unix_seconds_;
  std::atomic<int> waiting_{0};
};

}  // namespace testing
}  // namespace segwal
