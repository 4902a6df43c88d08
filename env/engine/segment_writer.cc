#include "env/engine/segment_writer.h"

#include <algorithm>
#include <utility>

#include "env/format/format.h"
#include "env/storage/guarded_copy.h"

namespace segwal {
namespace {

// Unsynced frames in the head past which their writeback is started.
constexpr uint64_t kWritebackChunkBytes = 1 << 20;
// Frames are stored through the head's mapping once this many bytes of it
// are not durable (syncs are rare), and find this much faulted in ahead.
constexpr uint64_t kMapAfterUnsyncedBytes = 256 << 10;
constexpr uint64_t kPrefaultAhead = 1 << 20;
// LSNs and extents hold segment offsets in 32 bits: frames end before 4 GiB
// even in a 4 GiB segment.
constexpr uint64_t kMaxFrameEnd = (1ull << 32) - 1;

FrameHeader MakeFrame(FrameType type, uint64_t file_id, uint64_t offset) {
  FrameHeader h;
  h.type = static_cast<uint8_t>(type);
  h.file_id = file_id;
  h.offset = offset;
  return h;
}

uint64_t Capacity(const Segment& segment) {
  return std::min(segment.size, kMaxFrameEnd);
}

}  // namespace

SegmentWriter::SegmentWriter(const LogContext& context, Catalog* catalog,
                             SegmentPreparer* preparer,
                             const PayloadEncoder* encoder, StickyError* error,
                             std::function<void()> on_rotate)
    : context_(context),
      catalog_(catalog),
      preparer_(preparer),
      encoder_(encoder),
      error_(error),
      on_rotate_(std::move(on_rotate)) {}

void SegmentWriter::AdoptHead(std::shared_ptr<Segment> head) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  head_ = std::move(head);
}

IOStatus SegmentWriter::ContinueHead() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const uint64_t end = head_->end.load(std::memory_order_relaxed);
  const uint64_t lsn = MakeLsn(head_->id, end);
  written_lsn_.store(lsn, std::memory_order_release);
  durable_lsn_.store(lsn, std::memory_order_release);
  return IOStatus::OK();
}

IOStatus SegmentWriter::StartNewSegment() {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  for (;;) {
    std::shared_ptr<Segment> next = preparer_->TakePrepared();
    if (next != nullptr) return StartSegmentLocked(std::move(next));
    lock.unlock();
    IOStatus s = preparer_->PrepareOrWait();
    lock.lock();
    if (!s.ok()) return s;
  }
}

uint64_t SegmentWriter::head_id() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return head_ != nullptr ? head_->id : 0;
}

// ---- Frames -------------------------------------------------------------

uint64_t SegmentWriter::HeadDurableOffsetLocked() const {
  const uint64_t durable = durable_lsn();
  return LsnSegment(durable) == head_->id ? LsnOffset(durable) : 0;
}

// The preparer is asked for the next segment once the head is half full,
// not as soon as the head starts: zero-filling a new segment writes a whole
// segment, and right after a rotation (or the first change after Open) that
// burst would delay the first fdatasyncs of every writer. Half a segment
// leaves ample time, and a rotation that finds nothing prepared prepares
// inline.
bool SegmentWriter::HeadHalfFullLocked() const {
  return head_ != nullptr && head_->end.load(std::memory_order_relaxed) >=
                                 head_->size / 2;
}

// With few or no syncs (sync=0, sync_mode interval) the head's frames would
// stay dirty in the page cache until the fdatasync that seals the segment
// at rotation, which then writes up to a whole segment while the writer
// that filled it waits. Starting the writeback of every
// kWritebackChunkBytes of unsynced frames leaves that fdatasync little to
// do. Syncing writers never get here: their frames are durable.
//
// The append that crossed the MiB starts it after it releases the lock:
// queueing the I/O may take the kernel milliseconds, which every other
// appender would otherwise wait out behind the lock. The range's pages are
// unmapped first (StorageFile::UnmapStoredBelow): writing back a page still
// mapped writable costs a TLB shoot-down (an interprocessor interrupt)
// per page, unmapping the range one in all.
void SegmentWriter::NoteWritebackLocked() {
  const uint64_t end = head_->end.load(std::memory_order_relaxed);
  const uint64_t from =
      std::max(head_->writeback_end, HeadDurableOffsetLocked());
  if (end < from + kWritebackChunkBytes) return;
  if (writeback_.segment == head_) {
    writeback_.to = end;
  } else {
    writeback_ = Writeback{head_, from, end};
  }
  head_->writeback_end = end;
  ++stats_.writeback_starts;
}

void SegmentWriter::UnlockThenStartDeferred(
    std::unique_lock<AdaptiveMutex>& lock) {
  const Writeback writeback = std::exchange(writeback_, Writeback{});
  const bool wake_preparer = std::exchange(wake_preparer_, false);
  lock.unlock();
  if (wake_preparer) preparer_->Wake();
  if (writeback.segment != nullptr) {
    // Frames go only past the segment's end: nothing is stored below
    // `to` any more.
    writeback.segment->file->UnmapStoredBelow(writeback.to);
    writeback.segment->file->StartWriteback(writeback.from,
                                            writeback.to - writeback.from);
  }
}

// A frame records the durable mark when it moved since the last frame that
// did, and at least every kMarkIntervalBytes: recovery needs one valid
// frame after a damaged spot that proves the spot was durable, and every
// frame written after a sync could prove it. From version 4 on a mark at
// the frame's own offset (everything before the frame durable) costs no
// byte, so such a frame always records it.
uint32_t SegmentWriter::DurableMarkToRecordLocked(uint64_t offset) {
  const uint32_t mark = static_cast<uint32_t>(HeadDurableOffsetLocked());
  if (mark == 0) return 0;
  if (head_->version >= 4 && mark == offset) return mark;
  if (mark == head_->recorded_mark &&
      offset < head_->recorded_mark_end + kMarkIntervalBytes) {
    return 0;
  }
  return mark;
}

IOStatus SegmentWriter::WriteFrameLocked(FrameHeader header,
                                         const Slice& payload) {
  const uint64_t offset = head_->end.load(std::memory_order_relaxed);
  header.durable_mark = DurableMarkToRecordLocked(offset);
  frame_buffer_.clear();
  EncodeFrame(&header, payload, head_->seed, offset, &frame_buffer_,
              head_->version);
  IOStatus s = StoreLocked(offset, frame_buffer_);
  if (!s.ok()) return error_->Set(s);
  const bool was_half_full = HeadHalfFullLocked();
  const uint64_t end = offset + frame_buffer_.size();
  head_->end.store(end, std::memory_order_release);
  const uint64_t lsn = MakeLsn(head_->id, end);
  s = catalog_->Apply(header, payload,
                      FrameLocation{head_->id, static_cast<uint32_t>(offset),
                                    context_.clock->NowUnixSeconds()},
                      lsn);
  if (!s.ok()) {
    // The frame is in the log but the table refused it: replay would too.
    return error_->Set(
        IOStatus::IOError("segwal internal error: " + s.ToString()));
  }
  written_lsn_.store(lsn, std::memory_order_release);
  if (header.durable_mark != 0) {
    head_->recorded_mark = header.durable_mark;
    head_->recorded_mark_end = end;
  }
  if (!was_half_full && HeadHalfFullLocked()) {
    wake_preparer_ |= preparer_->RequestAhead();
  }
  if (end >= head_->extend_at.load(std::memory_order_acquire)) {
    wake_preparer_ |= preparer_->RequestExtend(head_);
  }
  if (MapsLocked() &&
      end + kPrefaultAhead / 2 >
          head_->prefaulted_end.load(std::memory_order_acquire)) {
    wake_preparer_ |= preparer_->RequestPrefault(head_);
  }
  NoteWritebackLocked();
  ++stats_.frames_written;
  stats_.frame_bytes_written += frame_buffer_.size();
  frame_bytes_written_.store(stats_.frame_bytes_written,
                             std::memory_order_relaxed);
  return IOStatus::OK();
}

// Frames go through a mapping of the head while syncs are rare: a store
// into pages faulted in ahead costs no system call, where a pwrite costs
// one per frame. Where syncs are frequent, a store into a page written
// back by the last fdatasync would fault (the file system makes the page
// writable again, journalling), so pwrite is cheaper there.
bool SegmentWriter::MapsLocked() const {
  return head_->end.load(std::memory_order_relaxed) -
             HeadDurableOffsetLocked() >=
         kMapAfterUnsyncedBytes;
}

IOStatus SegmentWriter::StoreLocked(uint64_t offset, const std::string& frame) {
  char* const map = head_->map.load(std::memory_order_acquire);
  if (map != nullptr && MapsLocked() &&
      offset + frame.size() <=
          head_->prefaulted_end.load(std::memory_order_acquire)) {
    if (!GuardedCopy(map + offset, frame.data(), frame.size())) {
      return IOStatus::IOError(
          "segwal log " + context_.dir + ": segment " +
          std::to_string(head_->id) + " offset " + std::to_string(offset) +
          ": storing a frame through the segment's mapping raised SIGBUS "
          "(an I/O error, or the file system went read-only)");
    }
    ++stats_.mapped_writes;
    return IOStatus::OK();
  }
  AdaptiveMutex::Blocking blocking(&mu_);
  return head_->file->Write(offset, frame.data(), frame.size());
}

IOStatus SegmentWriter::EnsureRoomMayUnlock(std::unique_lock<AdaptiveMutex>& lock,
                                            uint64_t footprint) {
  while (error_->ok()) {
    const uint64_t need = head_->end.load(std::memory_order_relaxed) + footprint;
    if (need > Capacity(*head_)) {
      std::shared_ptr<Segment> next = preparer_->TakePrepared();
      if (next == nullptr) {
        lock.unlock();
        IOStatus s = preparer_->PrepareOrWait();
        lock.lock();
        if (!s.ok()) return s;  // nothing was written: not sticky
        continue;
      }
      IOStatus s = RotateLocked(std::move(next));
      if (!s.ok()) return s;
      continue;
    }
    if (need <= head_->prepared_end.load(std::memory_order_acquire)) break;
    // The frame fits the segment but not the window prepared so far: the
    // writer caught up with the preparer.
    const std::shared_ptr<Segment> head = head_;
    lock.unlock();
    IOStatus s = preparer_->ExtendTo(head.get(), need);
    lock.lock();
    if (!s.ok()) return s;  // nothing was written: not sticky
  }
  return error_->Get();
}

IOStatus SegmentWriter::RotateLocked(std::shared_ptr<Segment> next) {
  AdaptiveMutex::Blocking blocking(&mu_);  // two fdatasyncs
  // Nothing is stored in the old head again; its pages still mapped (the
  // last writeback's, and those faulted in ahead) would each cost the
  // fdatasync a TLB shoot-down (NoteWritebackLocked).
  head_->file->UnmapStoredBelow(head_->size);
  IOStatus s = head_->syncs.Sync(head_->file.get());
  ++stats_.batch_count;
  if (!s.ok()) return error_->Set(s);
  durable_lsn_.store(written_lsn(), std::memory_order_release);
  s = StartSegmentLocked(std::move(next));
  if (!s.ok()) return s;
  ++stats_.rotations;
  on_rotate_();
  return IOStatus::OK();
}

IOStatus SegmentWriter::StartSegmentLocked(std::shared_ptr<Segment> next) {
  SegmentHeader header;
  header.segment_id = next->id;
  header.log_uid = context_.log_uid;
  header.segment_size = next->size;
  header.prev_segment_id = head_ != nullptr ? head_->id : 0;
  header.prev_segment_end =
      head_ != nullptr ? head_->end.load(std::memory_order_relaxed) : 0;
  header.created_unix_time = context_.clock->NowUnixSeconds();
  header.version = next->version;
  std::string block(kSegmentHeaderBlock, '\0');
  EncodeSegmentHeader(header, &block[0]);
  const std::string snapshot = catalog_->EncodeSnapshot();
  if (kSegmentHeaderBlock + MaxFrameFootprint(static_cast<uint32_t>(
                                snapshot.size())) > next->size / 2) {
    return IOStatus::InvalidArgument(
        "segwal log " + context_.dir + ": the file table (" +
        std::to_string(snapshot.size()) +
        " bytes) does not fit half a segment: raise segment_size");
  }
  FrameHeader h = MakeFrame(FrameType::kSnapshot, 0, 0);
  h.has_offset = false;
  h.durable_mark = static_cast<uint32_t>(kSegmentHeaderBlock);
  EncodeFrame(&h, snapshot, next->seed, block.size(), &block,
              next->version);
  // Nothing is written past the prepared window (the preparer extends it
  // by writing there). `next` is not shared yet: extending it here keeps
  // no one waiting but this rotation.
  IOStatus s = preparer_->ExtendTo(next.get(), block.size());
  if (!s.ok()) return s;  // nothing was written: not sticky
  s = next->file->Write(0, block.data(), block.size());
  if (s.ok()) s = next->file->Sync();
  if (!s.ok()) return error_->Set(s);
  next->end.store(block.size(), std::memory_order_release);
  next->recorded_mark = h.durable_mark;
  next->recorded_mark_end = block.size();
  ++(next->recycled ? stats_.segments_recycled : stats_.segments_created);
  if (next->zero_filled) ++stats_.segments_zero_filled;
  catalog_->AddSegment(next);
  head_ = std::move(next);
  const uint64_t lsn = MakeLsn(head_->id, block.size());
  written_lsn_.store(lsn, std::memory_order_release);
  durable_lsn_.store(lsn, std::memory_order_release);
  return IOStatus::OK();
}

IOStatus SegmentWriter::Write(uint64_t footprint,
                              const FrameDecision& decide) {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  IOStatus s = EnsureRoomMayUnlock(lock, footprint);
  if (!s.ok()) return s;
  FrameHeader frame;
  Slice payload;
  bool write = false;
  s = decide(&frame, &payload, &write);
  if (s.ok() && write) s = WriteFrameLocked(frame, payload);
  UnlockThenStartDeferred(lock);
  return s;
}

// ---- Data ---------------------------------------------------------------

IOStatus SegmentWriter::WriteDataMayUnlock(
    std::unique_lock<AdaptiveMutex>& lock, uint64_t id, const uint64_t* at,
    const std::vector<EncodedChunk>& chunks, GroupCursor* cursor,
    size_t* written) {
  uint64_t offset = at != nullptr ? *at : 0;
  if (written != nullptr) *written = 0;
  for (const EncodedChunk& chunk : chunks) {
    const uint64_t footprint =
        MaxFrameFootprint(static_cast<uint32_t>(chunk.stored().size()));
    IOStatus s = EnsureRoomMayUnlock(lock, footprint);
    if (!s.ok()) return s;
    uint64_t size = 0;
    s = catalog_->WritableSize(id, &size);
    if (!s.ok()) return s;
    // An append goes where the file ends now (one writer per file).
    if (at == nullptr) offset = size;
    if (offset > size) {
      return IOStatus::InvalidArgument(
          "segwal: write at offset " + std::to_string(offset) +
          " beyond the end (" + std::to_string(size) + ") of " +
          catalog_->NameOf(id));
    }
    FrameHeader h = MakeFrame(FrameType::kData, id, offset);
    h.codec = chunk.codec;
    h.raw_len = chunk.raw_len();
    const bool grouped = IsGroupCodec(chunk.codec);
    if (grouped && !chunk.group_start) {
      const uint64_t link =
          cursor != nullptr
              ? GroupLinkLocked(*cursor, chunk.codec, offset, footprint)
              : 0;
      if (link == 0) {
        if (cursor != nullptr) cursor->segment_id = 0;
        return IOStatus::OK();  // the caller starts a new group here
      }
      h.prev = static_cast<uint32_t>(link);
    }
    const uint64_t frame_offset = head_->end.load(std::memory_order_relaxed);
    s = WriteFrameLocked(h, chunk.stored());
    if (!s.ok()) return s;
    if (cursor != nullptr) {
      if (grouped) {
        if (chunk.group_start) cursor->group_start = frame_offset;
        cursor->segment_id = head_->id;
        cursor->frame_offset = frame_offset;
        cursor->file_end = offset + chunk.raw_len();
        cursor->codec = chunk.codec;
      } else {
        cursor->segment_id = 0;  // a raw frame ends the group
      }
    }
    if (written != nullptr) ++*written;
    offset += chunk.raw_len();
  }
  return IOStatus::OK();
}

// A group never leaves its segment, its frames hold consecutive bytes of
// one file, and it spans at most kMaxGroupSpan bytes: what a reader relies
// on to find and decode a frame's group.
uint64_t SegmentWriter::GroupLinkLocked(const GroupCursor& cursor, Codec codec,
                                        uint64_t offset,
                                        uint64_t footprint) const {
  const uint64_t pos = head_->end.load(std::memory_order_relaxed);
  if (cursor.segment_id != head_->id || cursor.codec != codec ||
      cursor.file_end != offset || pos <= cursor.frame_offset ||
      pos + footprint - cursor.group_start > kMaxGroupSpan) {
    return 0;
  }
  return pos - cursor.frame_offset;
}

void SegmentWriter::RecordWriteLocked(const WriteStats& write) {
  ++stats_.write_request_count;
  stats_.write_bytes += write.bytes;
  if (write.timed) {
    const uint64_t took = context_.clock->NowMicros() - write.start_us;
    stats_.write_max_us = std::max(stats_.write_max_us, took);
    stats_.append_latency_us.Record(took);
  }
}

IOStatus SegmentWriter::Append(uint64_t id,
                               const std::vector<EncodedChunk>& chunks,
                               const WriteStats& stats, GroupCursor* cursor,
                               size_t* written) {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  IOStatus s = error_->Get();
  *written = 0;
  // An empty append to a deleted file fails as a non-empty one does.
  uint64_t size = 0;
  if (s.ok() && chunks.empty()) s = catalog_->WritableSize(id, &size);
  if (s.ok()) {
    s = WriteDataMayUnlock(lock, id, /*at=*/nullptr, chunks, cursor, written);
  }
  // Counted once, when the caller's bytes are all written (or failed).
  if (!s.ok() || *written == chunks.size()) RecordWriteLocked(stats);
  UnlockThenStartDeferred(lock);
  return s;
}

IOStatus SegmentWriter::WriteAt(uint64_t id, uint64_t offset,
                                const std::vector<EncodedChunk>& chunks,
                                const WriteStats& stats) {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  IOStatus s = WriteDataMayUnlock(lock, id, &offset, chunks);
  RecordWriteLocked(stats);
  UnlockThenStartDeferred(lock);
  return s;
}

IOStatus SegmentWriter::WriteZeros(uint64_t id, uint64_t start,
                                   uint64_t end) {
  const std::string zeros(
      std::min<uint64_t>(end - start, encoder_->max_frame_payload()), '\0');
  IOStatus s;
  for (uint64_t pos = start; s.ok() && pos < end; pos += zeros.size()) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(end - pos, zeros.size()));
    const std::vector<EncodedChunk> chunks =
        encoder_->Encode(Slice(zeros.data(), n));
    std::unique_lock<AdaptiveMutex> lock(mu_);
    s = WriteDataMayUnlock(lock, id, &pos, chunks);
    UnlockThenStartDeferred(lock);
  }
  return s;
}

IOStatus SegmentWriter::Truncate(uint64_t id, uint64_t size) {
  uint64_t grow_from = 0;
  IOStatus s = Write(MaxFrameFootprint(0), [&](FrameHeader* frame, Slice*,
                                            bool* write) {
    uint64_t now = 0;
    IOStatus found = catalog_->WritableSize(id, &now);
    if (!found.ok()) return found;
    // Growth is written as zeros: bytes no frame holds would be lost once
    // the segment of a truncate frame is reclaimed (snapshots carry sizes,
    // not extents).
    grow_from = now;
    if (size > now && size - now > kMaxTruncateGrowth) {
      return IOStatus::InvalidArgument(
          "segwal: Truncate of logical file id " + std::to_string(id) +
          " from " + std::to_string(now) + " to " + std::to_string(size) +
          " bytes: growing writes zeros into the log, at most " +
          std::to_string(kMaxTruncateGrowth) + " bytes at once");
    }
    *write = size < now;
    *frame = MakeFrame(FrameType::kTruncate, id, size);
    return IOStatus::OK();
  });
  if (!s.ok() || size <= grow_from) return s;
  return WriteZeros(id, grow_from, size);
}

// ---- Durability -----------------------------------------------------------

IOStatus SegmentWriter::SyncHead(uint64_t* upto, uint64_t* took_us) {
  std::shared_ptr<Segment> head;
  {
    std::lock_guard<AdaptiveMutex> guard(mu_);
    head = head_;
    *upto = written_lsn();
  }
  const uint64_t started = context_.clock->NowMicros();
  // Through the segment's SerialSync: a success here cannot follow or
  // overlap a failed fdatasync of the file (a rotation's, or another
  // caller's in mode always), which the kernel reports only once.
  IOStatus s = head->syncs.Sync(head->file.get());
  *took_us = context_.clock->NowMicros() - started;
  std::lock_guard<AdaptiveMutex> guard(mu_);
  ++stats_.batch_count;
  if (!s.ok()) return error_->Set(s);
  if (error_->ok() && durable_lsn() < *upto) {
    durable_lsn_.store(*upto, std::memory_order_release);
  }
  return error_->Get();
}

void SegmentWriter::AddStatsTo(LogStats* out) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogStats& s = stats_;
  out->write_request_count = s.write_request_count;
  out->write_bytes = s.write_bytes;
  out->write_max_us = s.write_max_us;
  out->append_latency_us = s.append_latency_us;
  out->frames_written = s.frames_written;
  out->frame_bytes_written = s.frame_bytes_written;
  out->writeback_starts = s.writeback_starts;
  out->batch_count = s.batch_count;
  out->rotations = s.rotations;
  out->segments_created = s.segments_created;
  out->segments_recycled = s.segments_recycled;
  out->segments_zero_filled = s.segments_zero_filled;
  out->mapped_writes = s.mapped_writes;
  out->head_segment_bytes =
      head_ != nullptr ? head_->end.load(std::memory_order_relaxed) : 0;
}

}  // namespace segwal
