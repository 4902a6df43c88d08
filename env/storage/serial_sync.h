// The fdatasyncs of one segment file, one at a time, and none after the
// first failure.
//
// Linux reports a writeback error to one fdatasync of an open file and then
// forgets it (the failed pages are marked clean; their data never reached
// the disk). So:
//  - of two overlapping fdatasyncs that both waited on a failed page, one
//    may return the error and the other success;
//  - an fdatasync that starts after a failed one returns success, though
//    the bytes the failed one was to write are lost.
// Either success, acted on before the failure became the log's sticky
// error, would acknowledge lost writes. The log therefore runs every
// fdatasync of a shared segment through its SerialSync: they never
// overlap, and once one failed every later one returns that failure
// without running.
#pragma once
#include <mutex>

#include "env/storage/storage.h"

namespace segwal {

class SerialSync {
 public:
  // file->Sync(), serialized with every other Sync through this object;
  // the first failure is returned by every later call without syncing.
  IOStatus Sync(StorageFile* file) {
    std::lock_guard<std::mutex> guard(mu_);
    if (failed_.ok()) failed_ = file->Sync();
    return failed_;
  }

 private:
  std::mutex mu_;
  IOStatus failed_;  // OK until a Sync fails
};

}  // namespace segwal
