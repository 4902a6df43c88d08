#include "env/engine/housekeeper.h"

namespace segwal {
namespace {

constexpr uint64_t kPeriodMicros = 1000000;

}  // namespace

Housekeeper::Housekeeper(Clock* clock, std::function<void()> tasks)
    : clock_(clock), tasks_(std::move(tasks)) {}

Housekeeper::~Housekeeper() { Stop(); }

void Housekeeper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Housekeeper::Stop() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Housekeeper::Wake() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Housekeeper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    woken_ = false;
    lock.unlock();
    tasks_();
    lock.lock();
    if (stop_) break;
    clock_->WaitUntil(lock, cv_, clock_->NowMicros() + kPeriodMicros,
                      [&] { return stop_ || woken_; });
  }
}

}  // namespace segwal
