// Time as the engine reads it, injectable: tests put a clock they advance
// by hand beneath a log, so that nothing in them waits for real time to
// pass (mtimes, stats periods, sync intervals, group-commit windows).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace segwal {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic microseconds, for durations and deadlines.
  virtual uint64_t NowMicros() = 0;
  // Wall-clock seconds since the epoch, for file mtimes. Read for every
  // frame, so it may be coarse (a few milliseconds behind).
  virtual uint64_t NowUnixSeconds() = 0;
  // With `lock` held on cv's mutex: waits on `cv` until `done()` or until
  // NowMicros() reaches `deadline_us`. Returns done().
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock,
                         std::condition_variable& cv, uint64_t deadline_us,
                         const std::function<bool()>& done) = 0;

  // The system's clocks (steady and real time). Never destroyed.
  static Clock* Real();
};

}  // namespace segwal
