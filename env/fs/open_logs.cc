#include "env/fs/open_logs.h"

#include "env/fs/log_registry.h"
#include "env/fs/wal_path.h"

namespace segwal {

OpenLogs::OpenLogs(Storage* storage, const LogOptions& options)
    : storage_(storage), options_(options), state_(std::make_shared<State>()) {}

IOStatus OpenLogs::Get(const std::string& log_dir, bool create,
                       std::shared_ptr<Log>* log) {
  *log = Find(log_dir);
  if (*log != nullptr) return IOStatus::OK();
  if (!create) {
    IOStatus e = storage_->FileExists(log_dir);
    if (e.IsNotFound()) return IOStatus::OK();
    if (!e.ok()) return e;
  }
  std::shared_ptr<Log> acquired;
  IOStatus s =
      LogRegistry::Get()->Acquire(storage_, log_dir, options_, &acquired);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> guard(state_->mu);
  *log = state_->logs.emplace(log_dir, std::move(acquired)).first->second;
  return IOStatus::OK();
}

std::shared_ptr<Log> OpenLogs::Find(const std::string& log_dir) {
  std::lock_guard<std::mutex> guard(state_->mu);
  auto it = state_->logs.find(log_dir);
  return it == state_->logs.end() ? nullptr : it->second;
}

void OpenLogs::ForgetUnder(const std::string& dir) {
  std::vector<std::shared_ptr<Log>> dropped;
  {
    std::lock_guard<std::mutex> guard(state_->mu);
    auto& logs = state_->logs;
    for (auto it = logs.begin(); it != logs.end();) {
      if (IsUnder(it->first, dir)) {
        dropped.push_back(std::move(it->second));
        it = logs.erase(it);
      } else {
        ++it;
      }
    }
  }
  // The logs close here, outside the lock.
}

void OpenLogs::ReleaseIfIdle(State* state, const std::string& log_dir) {
  std::shared_ptr<Log> idle;
  std::lock_guard<std::mutex> guard(state->mu);
  auto it = state->logs.find(log_dir);
  if (it != state->logs.end() && it->second.use_count() == 1) {
    idle = std::move(it->second);
    state->logs.erase(it);
  }
  // Dropped (and closed) after the guard: `idle` is destroyed first.
}

std::function<void()> OpenLogs::OnWriterClose(const std::string& log_dir) {
  std::weak_ptr<State> weak = state_;
  return [weak, log_dir] {
    if (std::shared_ptr<State> state = weak.lock()) {
      ReleaseIfIdle(state.get(), log_dir);
    }
  };
}

}  // namespace segwal
