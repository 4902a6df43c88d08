#include "env/engine/clock.h"

#include <time.h>

#include <chrono>

namespace segwal {
namespace {

class RealClock : public Clock {
 public:
  uint64_t NowMicros() override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  // From the coarse clock where there is one: a memory read, where a
  // precise read may trap to the hypervisor on a VM.
  uint64_t NowUnixSeconds() override {
#ifdef CLOCK_REALTIME_COARSE
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) {
      return static_cast<uint64_t>(now.tv_sec);
    }
#endif
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  }

  bool WaitUntil(std::unique_lock<std::mutex>& lock,
                 std::condition_variable& cv, uint64_t deadline_us,
                 const std::function<bool()>& done) override {
    const uint64_t now = NowMicros();
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::microseconds(deadline_us > now ? deadline_us - now : 0);
    return cv.wait_until(lock, deadline, done);
  }
};

}  // namespace

Clock* Clock::Real() {
  static Clock* clock = new RealClock();
  return clock;
}

}  // namespace segwal
