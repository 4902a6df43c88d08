#include "tool/frame_walker.h"

#include <algorithm>
#include <cstring>

#include "env/format/crc32c.h"

namespace segwal {
namespace tool {

using rocksdb::IOStatus;

FrameWalker::FrameWalker(const ScannedSegment& segment)
    : segment_(segment),
      seed_(SegmentSeed(segment.header.log_uid, segment.id)),
      pos_(kSegmentHeaderBlock),
      window_(kWindow, '\0') {}

IOStatus FrameWalker::At(uint64_t pos, size_t n, const char** p) {
  if (pos < window_start_ || pos + n > window_start_ + window_len_) {
    window_start_ = pos;
    const uint64_t want = std::min<uint64_t>(
        kWindow, std::max<uint64_t>(segment_.end, pos + n) - pos);
    size_t got = 0;
    IOStatus s = segment_.file->Read(pos, want, &window_[0], &got);
    if (!s.ok()) return s;
    std::memset(&window_[got], 0, kWindow - got);
    window_len_ = static_cast<size_t>(want);
  }
  *p = window_.data() + (pos - window_start_);
  return IOStatus::OK();
}

bool FrameWalker::ValidAt(uint64_t pos, FrameHeader* h, IOStatus* status) {
  if (pos + kFrameHeaderSize > segment_.end) return false;
  const char* p = nullptr;
  *status = At(pos, kFrameHeaderSize, &p);
  if (!status->ok()) return false;
  return DecodeFrameHeader(p, seed_, h) == FrameCheck::kValid &&
         h->stored_len <= segment_.end - pos - kFrameHeaderSize;
}

IOStatus FrameWalker::CheckPayload(uint64_t pos, const FrameHeader& h,
                                   bool* ok) {
  uint32_t crc = 0;
  for (uint64_t done = 0; done < h.stored_len;) {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(kWindow / 2, h.stored_len - done));
    const char* p = nullptr;
    IOStatus s = At(pos + kFrameHeaderSize + done, n, &p);
    if (!s.ok()) return s;
    crc = crc32c::Extend(crc, p, n);
    done += n;
  }
  *ok = crc32c::Mask(crc) == h.payload_crc;
  return IOStatus::OK();
}

bool FrameWalker::Next(WalkedFrame* frame, IOStatus* status) {
  *status = IOStatus::OK();
  *frame = WalkedFrame();
  if (pos_ >= segment_.end) return false;
  frame->offset = pos_;
  FrameHeader h;
  if (!ValidAt(pos_, &h, status)) {
    if (!status->ok()) return false;
    // Damage a skipping scan passed over: up to the next valid header.
    uint64_t next = pos_ + kFrameAlignment;
    while (next < segment_.end && !ValidAt(next, &h, status)) {
      if (!status->ok()) return false;
      next += kFrameAlignment;
    }
    next = std::min(next, segment_.end);
    frame->damaged = true;
    frame->damaged_bytes = next - pos_;
    pos_ = next;
    return true;
  }
  frame->header = h;
  *status = CheckPayload(pos_, h, &frame->payload_ok);
  if (!status->ok()) return false;
  const auto type = static_cast<FrameType>(h.type);
  if (type == FrameType::kCreate || type == FrameType::kRename ||
      type == FrameType::kLink) {
    const size_t n = std::min<size_t>(h.stored_len, kMaxName);
    const char* p = nullptr;
    *status = At(pos_ + kFrameHeaderSize, n, &p);
    if (!status->ok()) return false;
    frame->name.assign(p, n);
    frame->name_cut = n < h.stored_len;
  }
  pos_ += FrameFootprint(h.stored_len);
  return true;
}

}  // namespace tool
}  // namespace segwal
