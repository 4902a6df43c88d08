// The process-wide registry of open logs, keyed by normalized log directory.
//
// A Log holds a lock file on its directory, so one process can open a
// directory only once: every FileSystem instance (and so every DB) that
// names the same log directory shares the one Log through this registry.
// A log opens on its first Acquire and closes when the last reference
// returned by Acquire is dropped.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "env/engine/log.h"

namespace segwal {

class LogRegistry {
 public:
  // The registry of this process.
  static LogRegistry* Get();

  // A reference to the log in `dir` (normalized), opening it with `options`
  // on `storage` if no one has it open. While it is open, `options` of
  // later callers are ignored: the first opener's options rule.
  IOStatus Acquire(Storage* storage, const std::string& dir,
                   const LogOptions& options, std::shared_ptr<Log>* log);

  // Runs `fn` while no log at or beneath `dir` is open and none can open:
  // for operations that move or remove log directories (directory renames,
  // Destroy). IOError naming the open log if one is open.
  IOStatus WithNoneOpenUnder(const std::string& dir,
                             const std::function<IOStatus()>& fn);

 private:
  struct Entry;
  LogRegistry();
  void Release(const std::string& dir);

  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace segwal
