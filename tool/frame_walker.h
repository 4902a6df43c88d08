// Walks the frames of one scanned segment, from its header block to where
// recovery kept frames (ScannedSegment::end), reading through a bounded
// window (never a size taken from the log). Bytes between valid frames
// (damage a skipping scan passed over) come back as one damaged run; a
// frame whose header holds but whose payload does not is flagged.
#pragma once

#include <cstdint>
#include <string>

#include "env/format/format.h"
#include "env/recovery/scanner.h"

namespace segwal {
namespace tool {

struct WalkedFrame {
  uint64_t offset = 0;   // in the segment
  bool damaged = false;  // [offset, offset + damaged_bytes) is no frame
  uint64_t damaged_bytes = 0;
  FrameHeader header;      // when not damaged
  bool payload_ok = true;  // the payload matches its checksum
  // The payload's first bytes for create, rename and link frames (a name),
  // at most kMaxName of them.
  std::string name;
  bool name_cut = false;
};

class FrameWalker {
 public:
  static constexpr size_t kMaxName = 4096;

  explicit FrameWalker(const ScannedSegment& segment);
  // The next frame; false at the end (*status says whether reading failed).
  bool Next(WalkedFrame* frame, rocksdb::IOStatus* status);

 private:
  // Points *p at n bytes at `pos` of the segment (zeros past the file's
  // end); n is at most kWindow / 2.
  rocksdb::IOStatus At(uint64_t pos, size_t n, const char** p);
  bool ValidAt(uint64_t pos, FrameHeader* h, rocksdb::IOStatus* status);
  rocksdb::IOStatus CheckPayload(uint64_t pos, const FrameHeader& h, bool* ok);

  static constexpr size_t kWindow = 1 << 20;
  const ScannedSegment& segment_;
  const uint32_t seed_;
  uint64_t pos_;
  std::string window_;
  uint64_t window_start_ = 0;
  size_t window_len_ = 0;
};

}  // namespace tool
}  // namespace segwal
