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
  const uint64_t version = segment_.header.version;
  if (pos + MinFrameHeaderSize(version) > segment_.end) return false;
  const size_t avail = static_cast<size_t>(std::min<uint64_t>(
      std::max(kFrameHeaderSizeV1, kMaxFrameHeaderSize), segment_.end - pos));
  const char* p = nullptr;
  *status = At(pos, avail, &p);
  if (!status->ok()) return false;
  return DecodeFrameHeader(segment_.header.version, p, avail, seed_, pos,
                           h) ==
             FrameCheck::kValid &&
         h->header_len <= segment_.end - pos &&
         h->stored_len <= segment_.end - pos - h->header_len;
}

// The checksum as FrameHeader::crc defines it, read in bounded pieces:
// version 1 over the payload, version 2 (seeded) over the whole frame
// after its crc field.
IOStatus FrameWalker::CheckPayload(uint64_t pos, const FrameHeader& h,
                                   bool* ok) {
  const bool v1 = segment_.header.version == 1;
  uint32_t crc = v1 ? 0 : seed_;
  const uint64_t from = v1 ? h.header_len : 4;
  const uint64_t to = uint64_t{h.header_len} + h.stored_len;
  for (uint64_t done = from; done < to;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kWindow / 2, to - done));
    const char* p = nullptr;
    IOStatus s = At(pos + done, n, &p);
    if (!s.ok()) return s;
    crc = crc32c::Extend(crc, p, n);
    done += n;
  }
  *ok = crc32c::Mask(crc) == h.crc;
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
    const uint64_t step = FrameAlignment(segment_.header.version);
    uint64_t next = pos_ + step;
    while (next < segment_.end && !ValidAt(next, &h, status)) {
      if (!status->ok()) return false;
      next += step;
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
    *status = At(pos_ + h.header_len, n, &p);
    if (!status->ok()) return false;
    frame->name.assign(p, n);
    frame->name_cut = n < h.stored_len;
  }
  pos_ += FrameFootprint(segment_.header.version, h);
  return true;
}

}  // namespace tool
}  // namespace segwal
