// The logs one SegWalFileSystem has open, by log directory: a log opens
// on first use (through the process-wide LogRegistry) and stays open while
// files are open on it. When the last writer created by NewWritableFile or
// ReuseWritableFile closes (a DB closing, a checkpoint or backup copy
// finished) and nothing else holds it, it closes: its lock is free for
// other processes and no thread or prepared segment lingers for a
// directory no one uses. Readers and reopened writers do not close it: a
// DB's open reads its WALs one by one and reopens the last one to truncate
// it, and every open of a log costs a recovery scan.
//
// A log this process only reads is kept too: it holds no lock (that waits
// for the first change), and it follows what another process writes
// (Log::Refresh), so later calls see that process's new WALs.
//
// Thread-safe; its lock is never held while a log opens or closes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/engine/log.h"

namespace segwal {

class OpenLogs {
 public:
  OpenLogs(Storage* storage, const LogOptions& options);

  // The log in `log_dir`, opened if need be. With create false, a log
  // directory that does not exist yields *log == nullptr (no logical files
  // there) rather than a new log.
  IOStatus Get(const std::string& log_dir, bool create,
               std::shared_ptr<Log>* log);
  // The open log in `log_dir`, if any (opens nothing).
  std::shared_ptr<Log> Find(const std::string& log_dir);
  // Drops the references to logs at or beneath `dir`, so the registry can
  // close them (a directory being moved or removed).
  void ForgetUnder(const std::string& dir);
  // What a writer runs when it closes: closes the log in `log_dir` if no
  // file is open on it any more. Safe to run after this object is gone.
  std::function<void()> OnWriterClose(const std::string& log_dir);

  Storage* storage() const { return storage_; }

 private:
  struct State {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<Log>> logs;
  };
  static void ReleaseIfIdle(State* state, const std::string& log_dir);

  Storage* const storage_;
  const LogOptions& options_;
  const std::shared_ptr<State> state_;
};

}  // namespace segwal
