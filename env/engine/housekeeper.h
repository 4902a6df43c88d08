// The log's background thread for periodic and deferred work: it runs its
// tasks when woken (a file deleted or closed, a segment rotated) and at
// least once a second.
//
// Thread-safe. Its lock guards only its own wake-up: tasks run without it
// and take their own locks.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "env/engine/clock.h"

namespace segwal {

class Housekeeper {
 public:
  // `tasks` runs on the thread, never concurrently with itself.
  Housekeeper(Clock* clock, std::function<void()> tasks);
  ~Housekeeper();
  void Start();
  void Stop();
  // Runs the tasks soon (a leaf lock: callable with other locks held).
  void Wake();

 private:
  void Loop();

  Clock* const clock_;
  const std::function<void()> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace segwal
