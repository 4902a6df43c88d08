// Copies into a shared file mapping without letting a fault kill the
// process.
//
// Storing into a MAP_SHARED mapping of a file normally never faults when
// the pages were faulted in ahead (StorageFile::Prefault), the file covers
// the range and its blocks are allocated. If the kernel still cannot back
// a page (an I/O error reading it, a file system that has gone read-only),
// the store raises SIGBUS, whose default action ends the process. A copy
// made through GuardedCopy instead returns false: a SIGBUS raised on this
// thread while it copies jumps back out of the copy. Any other SIGBUS goes
// to the handler that was installed before (or the default action).
//
// Thread-safe. The first call installs the process's SIGBUS handler.
#pragma once

#include <cstddef>

namespace segwal {

// Copies n bytes from src to dst (in a shared file mapping); false if the
// copy raised SIGBUS, leaving dst partly written.
bool GuardedCopy(char* dst, const char* src, size_t n);

}  // namespace segwal
