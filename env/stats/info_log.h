// The LOG file of a log directory: an append-only text file for people,
// with the log's options, what recovery found, periodic statistics and
// notable events. Each line gets a UTC timestamp. Best effort and never
// synced: failing to write it fails nothing else.
//
// Thread-safe (a leaf lock).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "env/storage/storage.h"

namespace segwal {

class InfoLog {
 public:
  // Opens (creating) the file at `path`. Until then, and if that fails,
  // Write does nothing.
  void Open(Storage* storage, const std::string& path);
  // Appends every line of `text` (a final newline is added if missing).
  void Write(const std::string& text);

 private:
  std::mutex mu_;
  std::unique_ptr<StorageFile> file_;
  uint64_t size_ = 0;
};

}  // namespace segwal
