// A window onto one segment's bytes during a recovery scan.
//
// The window holds a contiguous range [start(), end()) of the segment and
// slides forward as the scan moves on, while other threads read the
// next chunk of the file. The segment reads as its file's bytes, then
// zeros, up to `held` (a file shorter than its segment).
//
// Why a window and not an image of the whole segment: fresh memory costs
// the kernel a page of zeros for every page first touched, and an image of
// every segment cost more in zeroing than the copy from the page cache.
// Two chunk-sized buffers, reused for every segment, are zeroed once.
// (Segment files are read, not mapped: a media error must come back as an
// IOError, where touching a mapping would raise SIGBUS.)
//
// Not thread-safe: one scan uses it. The read-ahead threads only ever
// touch their parts of the spare buffer and their own status, and every
// call that changes what they read waits for them first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "env/recovery/scan_buffer.h"
#include "env/storage/storage.h"
#include "rocksdb/slice.h"

namespace segwal {

class SegmentWindow {
 public:
  // `chunk`: how much one read brings in. `keep`: the most bytes of the
  // current window a slide carries over without re-reading them (a frame
  // that straddles two chunks: the largest data frame).
  SegmentWindow(size_t chunk, size_t keep);
  ~SegmentWindow();  // waits for the read-ahead
  SegmentWindow(const SegmentWindow&) = delete;
  SegmentWindow& operator=(const SegmentWindow&) = delete;

  // Starts on a segment whose bytes are the first `file_size` bytes of
  // `file` (its size when the scan looked), then zeros, up to `held`; the
  // scan begins at `from`: reading from there starts at once.
  void Reset(StorageFile* file, uint64_t file_size, uint64_t held,
             uint64_t from);
  // Waits for the read-ahead and lets go of the file (call before the
  // file goes away); the window then holds nothing until the next Reset.
  void Release() { Reset(nullptr, 0, 0, 0); }

  // Makes the window hold [pos, pos + n), clipped to held(): past held()
  // the window holds nothing (a frame there reads as zeros). A slide
  // forward from inside the window or its end keeps the bytes from `pos`
  // and takes the chunk already read ahead; any other move reads anew.
  IOStatus Hold(uint64_t pos, uint64_t n) {
    const uint64_t want = pos < held_ ? std::min<uint64_t>(n, held_ - pos) : 0;
    if (pos >= start_ && pos + want <= start_ + size_) return IOStatus::OK();
    return Move(pos, want);
  }

  // The bytes held; bytes()[0] is the segment's byte at start().
  rocksdb::Slice bytes() const {
    return rocksdb::Slice(data_, static_cast<size_t>(size_));
  }
  uint64_t start() const { return start_; }
  uint64_t end() const { return start_ + size_; }
  uint64_t held() const { return held_; }

 private:
  using Buffer = std::unique_ptr<ScanBuffer>;
  IOStatus Move(uint64_t pos, uint64_t want);
  // Reads [pos, pos + n) of the segment into dst (zeros past the file).
  IOStatus ReadRange(uint64_t pos, size_t n, char* dst) const;
  // How many of the n bytes from `pos` lie in the file (the rest are
  // zeros, never read).
  uint64_t FileBytesIn(uint64_t pos, uint64_t n) const {
    return pos < file_size_ ? std::min(n, file_size_ - pos) : 0;
  }
  // Starts reading the chunk at `pos` into the spare buffer.
  void StartReadAhead(uint64_t pos);
  void WaitReadAhead();
  static void Reserve(Buffer* buffer, size_t n);

  const size_t chunk_;
  const size_t keep_;
  StorageFile* file_ = nullptr;
  uint64_t file_size_ = 0;  // bytes past it are zeros, never read
  uint64_t held_ = 0;

  Buffer current_;
  uint64_t start_ = 0;
  uint64_t size_ = 0;
  const char* data_ = nullptr;  // in current_

  // The chunk being read ahead, into spare_ at offset keep_ (room for the
  // bytes a slide carries over).
  Buffer spare_;
  std::thread ahead_[2];  // each reads a part of the chunk
  bool ahead_valid_ = false;
  uint64_t ahead_start_ = 0;
  uint64_t ahead_size_ = 0;
  IOStatus ahead_status_[2];
};

}  // namespace segwal
