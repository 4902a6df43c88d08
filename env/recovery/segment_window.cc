#include "env/recovery/segment_window.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace segwal {

SegmentWindow::SegmentWindow(size_t chunk, size_t keep)
    : chunk_(chunk), keep_(keep) {}

SegmentWindow::~SegmentWindow() { WaitReadAhead(); }

void SegmentWindow::Reset(StorageFile* file, uint64_t file_size, uint64_t held,
                          uint64_t from) {
  WaitReadAhead();
  ahead_valid_ = false;
  file_ = file;
  file_size_ = file_size;
  held_ = held;
  start_ = from;
  size_ = 0;
  data_ = nullptr;
  if (from < held_) StartReadAhead(from);
}

IOStatus SegmentWindow::Move(uint64_t pos, uint64_t want) {
  if (want == 0) {  // at or past held(): nothing to hold
    start_ = pos;
    size_ = 0;
    return IOStatus::OK();
  }
  const uint64_t carry = pos >= start_ && pos <= end() ? end() - pos : ~0ull;
  const bool slide = ahead_valid_ && ahead_start_ == end() && carry <= keep_ &&
                     pos + want <= ahead_start_ + ahead_size_;
  WaitReadAhead();
  ahead_valid_ = false;
  if (slide) {
    for (const IOStatus& s : ahead_status_) {
      if (!s.ok()) return s;
    }
    char* base = spare_->data() + keep_ - carry;
    if (carry > 0) std::memcpy(base, data_ + (pos - start_), carry);
    std::swap(current_, spare_);
    data_ = base;
    size_ = carry + ahead_size_;
  } else {
    const uint64_t n =
        std::min<uint64_t>(held_ - pos, std::max<uint64_t>(want, chunk_));
    Reserve(&current_, n);
    size_ = 0;
    IOStatus s = ReadRange(pos, n, current_->data());
    if (!s.ok()) return s;
    data_ = current_->data();
    size_ = n;
  }
  start_ = pos;
  if (end() < held_) StartReadAhead(end());
  return IOStatus::OK();
}

IOStatus SegmentWindow::ReadRange(uint64_t pos, size_t n, char* dst) const {
  const size_t readable = static_cast<size_t>(FileBytesIn(pos, n));
  size_t got = 0;
  if (readable > 0) {
    IOStatus s = file_->Read(pos, readable, dst, &got);
    if (!s.ok()) return s;
  }
  // The buffers are reused, and the file may be shorter than the segment
  // (or have shrunk): what lies past the bytes read reads as zeros.
  std::memset(dst + got, 0, n - got);
  return IOStatus::OK();
}

void SegmentWindow::StartReadAhead(uint64_t pos) {
  Reserve(&spare_, keep_ + chunk_);
  ahead_valid_ = true;
  ahead_start_ = pos;
  ahead_size_ = std::min<uint64_t>(chunk_, held_ - pos);
  char* dst = spare_->data() + keep_;
  // A small read (or zeros past the file) costs less than starting a
  // thread: read it now.
  constexpr uint64_t kThreadFrom = 64 << 10;
  if (FileBytesIn(pos, ahead_size_) < kThreadFrom) {
    ahead_status_[0] = ReadRange(pos, static_cast<size_t>(ahead_size_), dst);
    ahead_status_[1] = IOStatus::OK();
    return;
  }
  // Two threads, each copying half the chunk from the page cache: the
  // copy, not the checks, bounds a scan of cached segments, and the
  // checking thread leaves a core half idle.
  constexpr uint64_t kSplitFrom = 256 << 10;
  const uint64_t half =
      ahead_size_ >= kSplitFrom ? (ahead_size_ / 2) & ~uint64_t{4095} : 0;
  const uint64_t parts[2][2] = {{0, ahead_size_ - half},
                                {ahead_size_ - half, half}};
  for (int i = 0; i < 2; ++i) {
    const uint64_t offset = parts[i][0], n = parts[i][1];
    ahead_status_[i] = IOStatus::OK();
    if (n == 0) continue;
    ahead_[i] = std::thread([this, i, pos, offset, n, dst] {
      ahead_status_[i] = ReadRange(pos + offset, n, dst + offset);
    });
  }
}

void SegmentWindow::WaitReadAhead() {
  for (std::thread& t : ahead_) {
    if (t.joinable()) t.join();
  }
}

void SegmentWindow::Reserve(Buffer* buffer, size_t n) {
  if (*buffer == nullptr || (*buffer)->size() < n) {
    *buffer = std::make_unique<ScanBuffer>(n);
  }
}

}  // namespace segwal
