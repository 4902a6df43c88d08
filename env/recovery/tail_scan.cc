#include "env/recovery/tail_scan.h"

#include <algorithm>
#include <string>

#include "env/recovery/frame_check.h"

namespace segwal {
namespace {

// The first read covers what a follower polled every few milliseconds
// usually finds new; each further read of the same step doubles, so a long
// backlog is read in few large pieces.
constexpr uint64_t kFirstWindow = 16 << 10;
constexpr uint64_t kMaxWindow = 4 << 20;

}  // namespace

IOStatus ScanFramesFrom(StorageFile* file, uint32_t version, uint32_t seed,
                        uint64_t from, uint64_t limit, const FrameSink& sink,
                        uint64_t* end, uint64_t* bytes_read) {
  std::string buffer;
  uint64_t buffer_start = from;  // segment offset of buffer[0]
  uint64_t window = kFirstWindow;
  bool file_ended = false;  // a read came back short: zeros beyond
  // Makes `buffer` hold [pos, want) if the file has those bytes.
  auto hold = [&](uint64_t pos, uint64_t want) -> IOStatus {
    if (pos >= buffer_start && want <= buffer_start + buffer.size()) {
      return IOStatus::OK();
    }
    if (file_ended && pos >= buffer_start) return IOStatus::OK();
    const uint64_t len =
        std::min(limit - pos, std::max(window, want - pos));
    window = std::min(window * 2, kMaxWindow);
    buffer.resize(len);
    size_t got = 0;
    IOStatus s = file->Read(pos, len, &buffer[0], &got);
    if (!s.ok()) return s;
    buffer.resize(got);
    buffer_start = pos;
    file_ended = got < len;
    *bytes_read += got;
    return IOStatus::OK();
  };

  const uint64_t min_header = MinFrameHeaderSize(version);
  const uint64_t max_header = version == 1 ? kFrameHeaderSizeV1
                                           : kMaxFrameHeaderSize;
  uint64_t pos = from;
  while (pos < limit && limit - pos >= min_header) {
    IOStatus s = hold(pos, pos + std::min(max_header, limit - pos));
    if (!s.ok()) return s;
    const uint64_t at = pos - buffer_start;
    if (at + min_header > buffer.size()) break;  // zeros: no frame
    FrameHeader h;
    if (DecodeFrameHeader(version, buffer.data() + at, buffer.size() - at,
                          seed, pos, &h) != FrameCheck::kValid) {
      break;
    }
    if (h.header_len > limit - pos ||
        h.stored_len > limit - pos - h.header_len) {
      break;
    }
    s = hold(pos, pos + h.header_len + h.stored_len);
    if (!s.ok()) return s;
    const uint64_t rel = pos - buffer_start;
    if (!IsValidFrame(version, Slice(buffer.data(), buffer.size()),
                      buffer_start, rel, limit - buffer_start, seed, &h)) {
      break;
    }
    s = sink(h, Slice(buffer.data() + rel + h.header_len, h.stored_len), pos);
    if (!s.ok()) return s;
    pos += FrameFootprint(version, h);
  }
  *end = std::min(pos, limit);
  return IOStatus::OK();
}

}  // namespace segwal
