// A buffer for a recovery scan's window onto a segment
// (segment_window.h).
//
// Anonymous memory that asks for huge pages: filling a buffer of ordinary
// pages costs a page fault per 4 KiB, which is slow where every fault
// traps to a hypervisor; 2 MiB pages take a few hundred times fewer.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <string>

namespace segwal {

class ScanBuffer {
 public:
  explicit ScanBuffer(size_t n) : size_(n) {
    void* p = n == 0 ? MAP_FAILED
                     : ::mmap(nullptr, n, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      fallback_.assign(n, '\0');
      data_ = fallback_.data();
      return;
    }
#ifdef MADV_HUGEPAGE
    (void)::madvise(p, n, MADV_HUGEPAGE);  // a hint: ordinary pages also do
#endif
    data_ = static_cast<char*>(p);
    mapped_ = true;
  }
  ~ScanBuffer() {
    if (mapped_) ::munmap(data_, size_);
  }
  ScanBuffer(const ScanBuffer&) = delete;
  ScanBuffer& operator=(const ScanBuffer&) = delete;

  char* data() { return data_; }
  size_t size() const { return size_; }

 private:
  const size_t size_;
  char* data_ = nullptr;
  bool mapped_ = false;
  std::string fallback_;
};

}  // namespace segwal
