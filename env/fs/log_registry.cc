#include "env/fs/log_registry.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include "env/fs/wal_path.h"

namespace segwal {

struct LogRegistry::Entry {
  enum class Phase { kOpening, kOpen, kClosing };
  Phase phase = Phase::kOpening;
  std::unique_ptr<Log> log;
  uint64_t refs = 0;
};

struct LogRegistry::State {
  std::mutex mu;
  std::condition_variable cv;  // an entry finished opening or closing
  std::map<std::string, Entry> entries;
  bool exclusive = false;      // WithNoneOpenUnder is running
};

LogRegistry::LogRegistry() : state_(std::make_shared<State>()) {}

LogRegistry* LogRegistry::Get() {
  // Never destroyed: logs held by static objects may be released during
  // exit, after function-local statics would have been torn down.
  static LogRegistry* registry = new LogRegistry();
  return registry;
}

IOStatus LogRegistry::Acquire(Storage* storage, const std::string& dir,
                              const LogOptions& options,
                              std::shared_ptr<Log>* log) {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mu);
  for (;;) {
    st.cv.wait(lock, [&] {
      if (st.exclusive) return false;
      auto it = st.entries.find(dir);
      return it == st.entries.end() ||
             it->second.phase == Entry::Phase::kOpen;
    });
    auto it = st.entries.find(dir);
    if (it != st.entries.end()) {
      ++it->second.refs;
      Log* raw = it->second.log.get();
      *log = std::shared_ptr<Log>(raw, [this, dir](Log*) { Release(dir); });
      return IOStatus::OK();
    }
    st.entries[dir].phase = Entry::Phase::kOpening;
    lock.unlock();
    std::unique_ptr<Log> opened;
    IOStatus s = Log::Open(storage, dir, options, &opened, nullptr);
    lock.lock();
    if (!s.ok()) {
      st.entries.erase(dir);
      st.cv.notify_all();
      return s;
    }
    Entry& entry = st.entries[dir];
    entry.phase = Entry::Phase::kOpen;
    entry.log = std::move(opened);
    st.cv.notify_all();
    // Loop: take the reference like any other caller.
  }
}

void LogRegistry::Release(const std::string& dir) {
  State& st = *state_;
  std::unique_ptr<Log> closing;
  {
    std::lock_guard<std::mutex> guard(st.mu);
    auto it = st.entries.find(dir);
    if (it == st.entries.end() || --it->second.refs > 0) return;
    it->second.phase = Entry::Phase::kClosing;
    closing = std::move(it->second.log);
  }
  // Closing syncs and joins the log's threads: not under the mutex.
  closing.reset();
  std::lock_guard<std::mutex> guard(st.mu);
  st.entries.erase(dir);
  st.cv.notify_all();
}

IOStatus LogRegistry::WithNoneOpenUnder(const std::string& dir,
                                        const std::function<IOStatus()>& fn) {
  State& st = *state_;
  {
    std::unique_lock<std::mutex> lock(st.mu);
    // Wait out logs that are only closing; refuse if one is open.
    for (;;) {
      st.cv.wait(lock, [&] { return !st.exclusive; });
      bool closing = false;
      for (const auto& [open_dir, entry] : st.entries) {
        if (!IsUnder(open_dir, dir)) continue;
        if (entry.phase != Entry::Phase::kClosing) {
          return IOStatus::IOError("segwal: the log in " + open_dir +
                                   " is in use (open files or another "
                                   "FileSystem), cannot move or remove " +
                                   dir);
        }
        closing = true;
      }
      if (!closing) break;
      st.cv.wait(lock);
    }
    st.exclusive = true;
  }
  IOStatus s = fn();
  std::lock_guard<std::mutex> guard(st.mu);
  st.exclusive = false;
  st.cv.notify_all();
  return s;
}

}  // namespace segwal
