#include "env/engine/log.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include "env/format/codec.h"
#include "env/recovery/recovery.h"

namespace segwal {
namespace {

constexpr size_t kReadWindow = 256 * 1024;
// Zero-fill in page-sized writes. The page cache sizes a folio by the write
// that creates it (Linux 6.x, ext4 with large folios): 1 MiB writes make
// large folios, and every later small frame write into one walks all of
// its buffer heads (measured on ext4, 6.18: 2.3 us per 336-byte pwrite
// after 1 MiB fills against 0.63 us after 4 KiB fills, and appending 0.77).
constexpr size_t kZeroFillChunk = 4096;
constexpr size_t kMaxNameLength = 4096;
constexpr uint64_t kAutoZeroFillBytesPerSync = 1 << 20;
// Unsynced frames in the head past which their writeback is started.
constexpr uint64_t kWritebackChunkBytes = 1 << 20;
constexpr char kLockFileName[] = "LOCK";

// Seconds, for mtimes: read on every frame, so from the coarse clock where
// there is one (a memory read; a precise read costs ~170 ns on a VM whose
// TSC reads trap).
uint64_t NowUnix() {
#ifdef CLOCK_REALTIME_COARSE
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) {
    return static_cast<uint64_t>(now.tv_sec);
  }
#endif
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

uint64_t NowMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// A log sequence number: segment id and offset, ordered as the log is.
uint64_t MakeLsn(uint64_t segment_id, uint64_t offset) {
  return (segment_id << 32) | offset;
}

// Data frames are small enough that several fit in one segment, so a
// rotation never strands most of a segment.
uint32_t MaxFramePayload(uint64_t segment_size) {
  uint64_t quarter = (segment_size - kSegmentHeaderBlock) / 4;
  return static_cast<uint32_t>(
      std::min<uint64_t>(kMaxDataFramePayload, quarter & ~uint64_t{7}));
}

uint64_t NewLogUid() {
  std::random_device device;
  uint64_t uid = (static_cast<uint64_t>(device()) << 32) ^ device() ^
                 static_cast<uint64_t>(NowMicros());
  return uid == 0 ? 1 : uid;
}

// Appends one encoded frame (header, payload, zero padding) to *out.
// Completes *header (lengths, payload checksum) as it is written.
void EncodeFrame(FrameHeader* header, const Slice& payload, uint32_t seed,
                 std::string* out) {
  header->stored_len = static_cast<uint32_t>(payload.size());
  if (header->codec == Codec::kNone) header->raw_len = header->stored_len;
  header->payload_crc = PayloadChecksum(payload.data(), payload.size());
  const size_t start = out->size();
  out->resize(start + kFrameHeaderSize);
  EncodeFrameHeader(*header, seed, &(*out)[start]);
  out->append(payload.data(), payload.size());
  out->resize(start + FrameFootprint(header->stored_len), '\0');
}

FrameHeader MakeFrame(FrameType type, uint64_t file_id, uint64_t offset) {
  FrameHeader h;
  h.type = static_cast<uint8_t>(type);
  h.file_id = file_id;
  h.offset = offset;
  return h;
}

// True if bytes [offset, offset + len) of `file` still come from the frame
// behind `extent`, at the same place as when that extent started at
// logical offset `start`.
bool StillBackedBy(const LogicalFile* file, uint64_t offset, uint64_t len,
                   const Extent& extent, uint64_t start) {
  if (file == nullptr || file->name.empty()) return false;
  auto it = file->extents.upper_bound(offset);
  if (it == file->extents.begin()) return false;
  --it;
  const Extent& now = it->second;
  return !now.hole && now.segment_id == extent.segment_id &&
         now.frame_offset == extent.frame_offset &&
         it->first + now.length >= offset + len &&
         now.skip + (offset - it->first) == extent.skip + (offset - start);
}

IOStatus ValidateOptions(const LogOptions& o) {
  if (o.segment_size < kMinSegmentSize || o.segment_size > kMaxSegmentSize ||
      o.segment_size % kSegmentHeaderBlock != 0) {
    return IOStatus::InvalidArgument(
        "segment_size " + std::to_string(o.segment_size) +
        ": must be a multiple of 4096 between " +
        std::to_string(kMinSegmentSize) + " and " +
        std::to_string(kMaxSegmentSize));
  }
  if (o.append_timing_interval == 0) {
    return IOStatus::InvalidArgument(
        "append_timing_interval 0: must be at least 1 (1 times every Append)");
  }
  return IOStatus::OK();
}

}  // namespace

Log::Log(Storage* storage, std::string dir, const LogOptions& options)
    : storage_(storage),
      dir_(std::move(dir)),
      options_(options),
      max_frame_payload_(MaxFramePayload(options.segment_size)) {}

IOStatus Log::Open(Storage* storage, const std::string& dir,
                   const LogOptions& options, std::unique_ptr<Log>* log,
                   RecoveryInfo* info) {
  IOStatus s = ValidateOptions(options);
  if (!s.ok()) return s;
  RecoveryInfo unused;
  if (info == nullptr) info = &unused;
  s = storage->CreateDirIfMissing(dir);
  if (!s.ok()) return s;
  std::unique_ptr<Log> opened(new Log(storage, dir, options));
  s = storage->Lock(opened->PathOf(kLockFileName), &opened->dir_lock_);
  if (s.IsBusy()) return OpenView(storage, dir, options, log, info);
  if (s.ok()) s = opened->Recover(info);
  if (!s.ok()) return s;
  opened->recovered_info_ = *info;
  *log = std::move(opened);
  return IOStatus::OK();
}

IOStatus Log::EnsureWritable() {
  if (writable_.load(std::memory_order_acquire)) return IOStatus::OK();
  std::lock_guard<std::mutex> guard(writable_mu_);
  if (writable_.load(std::memory_order_relaxed)) return IOStatus::OK();
  {
    // Nothing has been written yet, so the only errors are a view's (it
    // names the lock's holder) and that of an earlier ApplyRecovery.
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
  }
  IOStatus s = ApplyRecovery();
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    SetErrorLocked(s);  // sticky: every later change returns it
    return s;
  }
  pending_recovery_.reset();
  OpenInfoLog(recovered_info_);
  StartThreads();
  writable_.store(true, std::memory_order_release);
  return IOStatus::OK();
}

void Log::StartThreads() {
  if (options_.background_housekeeping || options_.background_prepare ||
      options_.stats_dump_period_sec > 0) {
    housekeeper_ = std::thread([this] { HousekeeperLoop(); });
  }
  if (options_.sync_mode == SyncMode::kInterval) {
    interval_syncer_ = std::thread([this] { IntervalSyncLoop(); });
  }
}

// Another process writes this log: a read-only view of it as it is now
// (RocksDB's read-only and secondary instances, ldb), which never writes to
// the directory; its sticky error refuses every change. The writer may
// reclaim or recycle a segment while the scan reads it, which the scan sees
// as damage or a vanished file: the scan is retried, on a fresh Log.
IOStatus Log::OpenView(Storage* storage, const std::string& dir,
                       const LogOptions& options, std::unique_ptr<Log>* log,
                       RecoveryInfo* info) {
  constexpr int kAttempts = 3;
  RecoveryInfo unused;
  if (info == nullptr) info = &unused;
  IOStatus s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::unique_ptr<Log> opened(new Log(storage, dir, options));
    opened->read_only_ = true;
    *info = RecoveryInfo();
    s = opened->Recover(info);
    if (!s.ok()) continue;
    opened->error_ = IOStatus::IOError(
        "segwal log " + dir + ": open for reading only, another process "
        "holds " + opened->PathOf(kLockFileName) +
        " (one process at a time writes a log)");
    *log = std::move(opened);
    return IOStatus::OK();
  }
  return s;
}

IOStatus Log::ReopenView(uint64_t id, std::unique_ptr<Log>* fresh) {
  std::string name;
  {
    std::lock_guard<std::mutex> guard(mu_);
    const LogicalFile* file = table_.FindById(id);
    if (!read_only_ || file == nullptr || file->name.empty()) {
      return IOStatus::NotFound("segwal log " + dir_ + ": logical file id " +
                                std::to_string(id) + " has no fresh view");
    }
    name = file->name;
  }
  std::unique_ptr<Log> view;
  IOStatus s = OpenView(storage_, dir_, options_, &view, nullptr);
  if (!s.ok()) return s;
  uint64_t same = 0;
  s = view->OpenHandle(name, &same);
  if (!s.ok()) return s;
  if (same != id) {  // replaced by another file of that name meanwhile
    view->CloseHandle(same);
    return IOStatus::NotFound("segwal log " + dir_ + ": " + name +
                              " is another file now");
  }
  *fresh = std::move(view);
  return IOStatus::OK();
}

IOStatus Log::Recover(RecoveryInfo* info) {
  auto pending = std::make_unique<ScanResult>();
  ScanResult& scan = *pending;
  IOStatus s = ScanLog(storage_, dir_, options_.recovery_mode, &scan, info);
  if (!s.ok()) return s;
  table_ = std::move(scan.table);
  log_uid_ = scan.log_uid != 0 ? scan.log_uid : NewLogUid();
  next_segment_id_ = scan.max_segment_id + 1;
  for (ScannedSegment& scanned : scan.segments) {
    auto seg = std::make_shared<Segment>();
    seg->id = scanned.id;
    seg->size = scanned.header.segment_size;
    seg->seed = SegmentSeed(scanned.header.log_uid, scanned.id);
    seg->end = scanned.end;
    seg->file = std::move(scanned.file);
    segments_[seg->id] = seg;
    head_ = seg;
  }
  // The table as recovery left it (torn tail cut, repairs made in memory)
  // serves reads; nothing is renamed, sealed or written until the first
  // change (never, in a view: its sticky error refuses every change).
  if (!read_only_) pending_recovery_ = std::move(pending);
  return IOStatus::OK();
}

// What recovery decided, made durable: the first change runs it, through
// EnsureWritable, with no lock held (readers may run meanwhile).
IOStatus Log::ApplyRecovery() {
  const ScanResult& scan = *pending_recovery_;
  IOStatus s;
  // Segments recovery gave up on are set aside, durably, before a new
  // segment names its predecessor: else the next recovery would find them
  // between the two.
  for (uint64_t id : scan.quarantine) {
    std::string name = SegmentFileName(id);
    s = storage_->Rename(PathOf(name), PathOf(name + ".quarantined"));
    if (!s.ok()) return s;
  }
  if (!scan.quarantine.empty()) {
    s = storage_->SyncDir(dir_);
    if (!s.ok()) return s;
  }
  std::vector<uint64_t> free = scan.free_segments;
  for (uint64_t id : scan.unused_segments) {
    s = storage_->Rename(PathOf(SegmentFileName(id)),
                         PathOf(FreeSegmentFileName(id)));
    if (!s.ok()) return s;
    free.push_back(id);
  }
  std::sort(free.begin(), free.end());

  // Recovery always starts a new segment: the old head is sealed where its
  // valid frames end, so bytes beyond (a torn tail) are never scanned again.
  // After a killed process those frames may be in the OS's cache only: they
  // must be durable before a new segment header says where they end.
  if (head_ != nullptr) {
    s = head_->file->Sync();
    if (!s.ok()) return s;
  }
  std::unique_lock<std::mutex> lock(mu_);
  free_segments_ = std::move(free);
  s = PrepareNextLocked(lock);
  if (s.ok()) s = StartSegmentLocked(std::move(prepared_));
  if (!s.ok()) return s;

  // Repairs decided by recovery become frames, so the next recovery
  // reaches the same table.
  for (const Repair& repair : scan.repairs) {
    if (repair.zero_fill) {
      s = WriteZerosLocked(lock, repair.file_id, repair.start, repair.end);
    } else {
      s = EnsureRoomLocked(lock, FrameFootprint(0));
      if (s.ok()) {
        s = WriteFrameLocked(MakeFrame(FrameType::kTruncate, repair.file_id,
                                       repair.start),
                             Slice());
      }
    }
    if (!s.ok()) return s;
  }
  if (!scan.repairs.empty()) {
    s = SyncToLocked(lock, written_lsn_, SyncFor::kEngine);
  }
  return s;
}

Log::~Log() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  housekeeper_cv_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
  if (interval_syncer_.joinable()) interval_syncer_.join();
  // A log never changed wrote nothing, and leaves nothing (not even LOG).
  if (!writable_.load(std::memory_order_acquire)) return;
  std::unique_lock<std::mutex> lock(mu_);
  if (error_.ok()) {
    SyncToLocked(lock, written_lsn_, SyncFor::kAll).PermitUncheckedError();
  }
  lock.unlock();
  // The last word in the LOG: the counters of the whole session.
  InfoLogWrite("segwal log " + dir_ + " closed\n" +
               FormatStatsDump(GetStats()));
}

IOStatus Log::Destroy(Storage* storage, const std::string& dir) {
  std::vector<std::string> names;
  IOStatus s = storage->ListDir(dir, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    uint64_t id = 0;
    const bool ours = ParseSegmentFileName(name, &id) ||
                      ParseFreeSegmentFileName(name, &id) ||
                      name == kLockFileName || name == InfoLog::kFileName ||
                      (name.size() > 12 &&
                       name.compare(name.size() - 12, 12, ".quarantined") == 0);
    if (ours) {
      s = storage->Remove(dir + "/" + name);
      if (!s.ok()) return s;
    }
  }
  return storage->RemoveDir(dir);
}

std::vector<Log::EncodedChunk> Log::EncodeData(const Slice& data) const {
  std::vector<EncodedChunk> chunks;
  chunks.reserve((data.size() + max_frame_payload_ - 1) / max_frame_payload_);
  for (size_t pos = 0; pos < data.size(); pos += max_frame_payload_) {
    EncodedChunk chunk;
    chunk.raw = Slice(data.data() + pos,
                      std::min<size_t>(max_frame_payload_, data.size() - pos));
    if (options_.compression != Codec::kNone &&
        chunk.raw.size() >= options_.compression_min_bytes &&
        CompressPayload(options_.compression, options_.compression_level,
                        chunk.raw, &chunk.compressed)) {
      chunk.codec = options_.compression;
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

// ---- Writing ----------------------------------------------------------

IOStatus Log::CheckName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return IOStatus::InvalidArgument("segwal: bad logical file name '" + name +
                                     "'");
  }
  return IOStatus::OK();
}

IOStatus Log::NoFile(const std::string& name) const {
  return IOStatus::PathNotFound("segwal log " + dir_ + ": no file " + name);
}

LogicalFile* Log::WritableFileLocked(uint64_t id, IOStatus* s) {
  *s = error_;
  if (!s->ok()) return nullptr;
  LogicalFile* file = table_.FindById(id);
  if (file == nullptr || file->name.empty()) {
    *s = IOStatus::IOError("segwal log " + dir_ + ": logical file id " +
                           std::to_string(id) + " was deleted");
    return nullptr;
  }
  return file;
}

IOStatus Log::EnsureRoomLocked(std::unique_lock<std::mutex>& lock,
                               uint64_t footprint) {
  while (error_.ok() && head_->end + footprint > head_->size) {
    IOStatus s = RotateLocked(lock);
    if (!s.ok()) return s;
  }
  return error_;
}

// The housekeeper prepares the next segment once the head is half full, not
// as soon as the head starts: zero-filling a new segment writes a whole
// segment, and right after Open (which starts a new head) that burst would
// delay the first fdatasyncs of every writer (measured with
// wal_flush_batch_bench, 32 writers, the 0.6 s after Open: 31-33k appends
// and syncs per second with the burst, 36-39k without). Half a segment
// still leaves ample time: zero-filling 64 MiB takes ~0.2 s, and a rotation
// that finds nothing prepared prepares inline.
bool Log::HeadHalfFullLocked() const {
  return head_ != nullptr && head_->end >= head_->size / 2;
}

uint64_t Log::HeadDurableOffsetLocked() const {
  return (durable_lsn_ >> 32) == head_->id ? (durable_lsn_ & 0xffffffffu) : 0;
}

// With few or no syncs (sync=0, sync_mode interval) the head's frames would
// stay dirty in the page cache until the fdatasync that seals the segment
// at rotation, which then writes up to a whole segment while the writer
// that filled it waits (15-20 ms for 64 MiB on the development VM).
// Starting the writeback of every kWritebackChunkBytes of unsynced frames
// leaves that fdatasync little to do. Syncing writers never get here: their
// frames are durable.
void Log::MaybeStartWritebackLocked() {
  const uint64_t from =
      std::max(head_->writeback_end, HeadDurableOffsetLocked());
  if (head_->end < from + kWritebackChunkBytes) return;
  head_->file->StartWriteback(from, head_->end - from);
  head_->writeback_end = head_->end;
  ++stats_.writeback_starts;
}

// Writes one frame at the head. Room must have been ensured, and the frame
// must be valid for the table now: mu_ is not released in between.
IOStatus Log::WriteFrameLocked(FrameHeader header, const Slice& payload) {
  header.durable_mark = static_cast<uint32_t>(HeadDurableOffsetLocked());
  frame_buffer_.clear();
  EncodeFrame(&header, payload, head_->seed, &frame_buffer_);
  const uint64_t offset = head_->end;
  IOStatus s = head_->file->Write(offset, frame_buffer_.data(),
                                  frame_buffer_.size());
  if (!s.ok()) {
    SetErrorLocked(s);
    return error_;
  }
  s = table_.Apply(header, payload,
                   FrameLocation{head_->id, static_cast<uint32_t>(offset),
                                 NowUnix()});
  if (!s.ok()) {
    // The frame is in the log but the table refused it: replay would too.
    SetErrorLocked(IOStatus::IOError("segwal internal error: " + s.ToString()));
    return error_;
  }
  const bool was_half_full = HeadHalfFullLocked();
  head_->end += frame_buffer_.size();
  written_lsn_ = MakeLsn(head_->id, head_->end);
  if (!was_half_full && HeadHalfFullLocked() && options_.background_prepare) {
    housekeeper_cv_.notify_all();  // time to prepare the next segment
  }
  MaybeStartWritebackLocked();
  if (LogicalFile* file = table_.FindById(header.file_id)) {
    file->last_lsn = written_lsn_;
  }
  ++stats_.frames_written;
  stats_.frame_bytes_written += frame_buffer_.size();
  return IOStatus::OK();
}

IOStatus Log::WriteChunkLocked(FrameType type, uint64_t id, uint64_t offset,
                              const EncodedChunk& chunk) {
  FrameHeader h = MakeFrame(type, id, offset);
  h.codec = chunk.codec;
  h.raw_len = chunk.raw_len();
  return WriteFrameLocked(h, chunk.stored());
}

IOStatus Log::WriteDataLocked(std::unique_lock<std::mutex>& lock, uint64_t id,
                              uint64_t offset,
                              const std::vector<EncodedChunk>& chunks) {
  for (const EncodedChunk& chunk : chunks) {
    IOStatus s = EnsureRoomLocked(
        lock, FrameFootprint(static_cast<uint32_t>(chunk.stored().size())));
    if (!s.ok()) return s;
    LogicalFile* file = WritableFileLocked(id, &s);
    if (file == nullptr) return s;
    if (offset > file->size) {
      return IOStatus::InvalidArgument(
          "segwal: write at offset " + std::to_string(offset) +
          " beyond the end (" + std::to_string(file->size) + ") of " +
          file->name);
    }
    s = WriteChunkLocked(FrameType::kData, id, offset, chunk);
    if (!s.ok()) return s;
    offset += chunk.raw_len();
  }
  return IOStatus::OK();
}

IOStatus Log::WriteZerosLocked(std::unique_lock<std::mutex>& lock,
                               uint64_t id, uint64_t start, uint64_t end) {
  const std::string zeros(
      std::min<uint64_t>(end - start, max_frame_payload_), '\0');
  IOStatus s;
  for (uint64_t pos = start; s.ok() && pos < end; pos += zeros.size()) {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(end - pos, zeros.size()));
    s = WriteDataLocked(lock, id, pos, EncodeData(Slice(zeros.data(), n)));
  }
  return s;
}

bool Log::StartAppendTiming(uint64_t* start_us) {
  const uint64_t n = appends_started_.fetch_add(1, std::memory_order_relaxed);
  if (n % options_.append_timing_interval != 0) return false;
  *start_us = NowMicros();
  return true;
}

void Log::RecordWriteLocked(uint64_t id, uint64_t bytes, bool timed,
                            uint64_t start_us) {
  ++stats_.write_request_count;
  stats_.write_bytes += bytes;
  if (timed) {
    const uint64_t took = NowMicros() - start_us;
    stats_.write_max_us = std::max(stats_.write_max_us, took);
    stats_.append_latency_us.Record(took);
  }
  active_files_.insert(id);  // a writer a group leader may wait for
}

IOStatus Log::Append(uint64_t id, const Slice& data) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  uint64_t start = 0;
  const bool timed = StartAppendTiming(&start);
  std::vector<EncodedChunk> chunks = EncodeData(data);
  std::unique_lock<std::mutex> lock(mu_);
  LogicalFile* file = WritableFileLocked(id, &s);
  if (file == nullptr) return s;
  // Chunks go one after another; the size read per chunk is where the
  // previous one ended (one writer per file).
  uint64_t offset = file->size;
  s = WriteDataLocked(lock, id, offset, chunks);
  RecordWriteLocked(id, data.size(), timed, start);
  return s;
}

IOStatus Log::WriteAt(uint64_t id, uint64_t offset, const Slice& data) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  uint64_t start = 0;
  const bool timed = StartAppendTiming(&start);
  std::vector<EncodedChunk> chunks = EncodeData(data);
  std::unique_lock<std::mutex> lock(mu_);
  s = WriteDataLocked(lock, id, offset, chunks);
  RecordWriteLocked(id, data.size(), timed, start);
  return s;
}

IOStatus Log::Truncate(uint64_t id, uint64_t size) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = EnsureRoomLocked(lock, FrameFootprint(0));
  if (!s.ok()) return s;
  LogicalFile* file = WritableFileLocked(id, &s);
  if (file == nullptr) return s;
  if (size == file->size) return IOStatus::OK();
  // Growth is written as zeros: bytes no frame holds would be lost once
  // the segment of a truncate frame is reclaimed (snapshots carry sizes,
  // not extents).
  if (size > file->size) return WriteZerosLocked(lock, id, file->size, size);
  return WriteFrameLocked(MakeFrame(FrameType::kTruncate, id, size), Slice());
}

// ---- Namespace --------------------------------------------------------

IOStatus Log::Create(const std::string& name, uint64_t* id) {
  IOStatus s = CheckName(name);
  if (!s.ok()) return s;
  s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = EnsureRoomLocked(
      lock, FrameFootprint(static_cast<uint32_t>(name.size())));
  if (!s.ok()) return s;
  const uint64_t new_id = table_.AllocateFileId();
  s = WriteFrameLocked(MakeFrame(FrameType::kCreate, new_id, 0), name);
  if (s.ok()) *id = new_id;
  return s;
}

IOStatus Log::Rename(const std::string& from, const std::string& to) {
  IOStatus s = CheckName(to);
  if (!s.ok()) return s;
  s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = EnsureRoomLocked(
      lock, FrameFootprint(static_cast<uint32_t>(to.size())));
  if (!s.ok()) return s;
  LogicalFile* file = table_.FindByName(from);
  if (file == nullptr) {
    return NoFile(from);
  }
  return WriteFrameLocked(MakeFrame(FrameType::kRename, file->id, 0), to);
}

IOStatus Log::Delete(const std::string& name, uint64_t only_id) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = EnsureRoomLocked(lock, FrameFootprint(0));
  if (!s.ok()) return s;
  LogicalFile* file = table_.FindByName(name);
  if (only_id != 0 && (file == nullptr || file->id != only_id)) {
    return IOStatus::OK();
  }
  if (file == nullptr) {
    return NoFile(name);
  }
  s = WriteFrameLocked(MakeFrame(FrameType::kDelete, file->id, 0), Slice());
  // Segments may have become reclaimable.
  if (s.ok()) housekeeper_cv_.notify_all();
  return s;
}

IOStatus Log::Link(const std::string& from, const std::string& to) {
  IOStatus s = CheckName(to);
  if (!s.ok()) return s;
  s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  s = EnsureRoomLocked(
      lock, FrameFootprint(static_cast<uint32_t>(to.size())));
  if (!s.ok()) return s;
  LogicalFile* source = table_.FindByName(from);
  if (source == nullptr) {
    return NoFile(from);
  }
  if (table_.FindByName(to) != nullptr) {
    return IOStatus::IOError("segwal log " + dir_ + ": link target " + to +
                             " exists");
  }
  const uint64_t new_id = table_.AllocateFileId();
  return WriteFrameLocked(MakeFrame(FrameType::kLink, new_id, source->id), to);
}

bool Log::Lookup(const std::string& name, FileInfo* info) {
  std::lock_guard<std::mutex> guard(mu_);
  const LogicalFile* file = table_.FindByName(name);
  if (file == nullptr) return false;
  *info = FileInfo{file->id, file->name, file->size, file->mtime};
  return true;
}

std::vector<FileInfo> Log::List() {
  std::lock_guard<std::mutex> guard(mu_);
  return table_.List();
}

IOStatus Log::OpenHandle(const std::string& name, uint64_t* id) {
  std::lock_guard<std::mutex> guard(mu_);
  const LogicalFile* file = table_.FindByName(name);
  if (file == nullptr) {
    return NoFile(name);
  }
  *id = file->id;
  table_.AddHandle(file->id);
  return IOStatus::OK();
}

void Log::CloseHandle(uint64_t id) {
  std::lock_guard<std::mutex> guard(mu_);
  table_.ReleaseHandle(id);
  // A deleted file's segments may have become reclaimable.
  housekeeper_cv_.notify_all();
}

uint64_t Log::Size(uint64_t id) {
  std::lock_guard<std::mutex> guard(mu_);
  const LogicalFile* file = table_.FindById(id);
  return file == nullptr ? 0 : file->size;
}

// ---- Segments ---------------------------------------------------------

// Makes segment `id` ready: a reclaimed file renamed (its stale frames can
// never validate under the new id) or a new file zero-filled, so that later
// fdatasyncs on it update no block allocation. The directory entry is
// durable before the segment is used.
IOStatus Log::PrepareSegment(uint64_t id, uint64_t recycle_from,
                             bool zero_fill,
                             std::shared_ptr<Segment>* segment) {
  const std::string path = PathOf(SegmentFileName(id));
  std::unique_ptr<StorageFile> file;
  IOStatus s;
  bool recycled = false;
  if (recycle_from != 0) {
    const std::string free_path = PathOf(FreeSegmentFileName(recycle_from));
    uint64_t size = 0;
    s = storage_->Rename(free_path, path);
    const bool renamed = s.ok();
    if (s.ok()) s = storage_->OpenFile(path, /*create=*/false, &file);
    if (s.ok()) s = file->Size(&size);
    recycled = s.ok() && size == options_.segment_size;
    if (!recycled) {
      file.reset();
      storage_->Remove(renamed ? path : free_path).PermitUncheckedError();
    }
  }
  if (!recycled) {
    s = storage_->OpenFile(path, /*create=*/true, &file);
    if (s.ok()) s = file->Allocate(options_.segment_size);
    if (s.IsNotSupported()) {
      zero_fill = true;  // the zeros make the file its full size
      s = IOStatus::OK();
    }
    const std::string zeros(zero_fill ? kZeroFillChunk : 0, '\0');
    for (uint64_t pos = 0; s.ok() && zero_fill && pos < options_.segment_size;
         pos += zeros.size()) {
      s = file->Write(pos, zeros.data(),
                      std::min<uint64_t>(zeros.size(),
                                         options_.segment_size - pos));
    }
    if (s.ok()) s = file->Sync();
    if (!s.ok()) {
      file.reset();
      storage_->Remove(path).PermitUncheckedError();
      return s;
    }
  }
  s = storage_->SyncDir(dir_);
  if (!s.ok()) {
    // Left behind, the file would lie between active segments once later
    // ones exist, and recovery would take it for a lost one.
    file.reset();
    storage_->Remove(path).PermitUncheckedError();
    return s;
  }
  auto seg = std::make_shared<Segment>();
  seg->id = id;
  seg->size = options_.segment_size;
  seg->seed = SegmentSeed(log_uid_, id);
  seg->file = std::move(file);
  seg->recycled = recycled;
  seg->zero_filled = !recycled && zero_fill;
  *segment = std::move(seg);
  return IOStatus::OK();
}

// Writes `next`'s header and the file-table snapshot in one write and makes
// them durable; then `next` is the head.
IOStatus Log::StartSegmentLocked(std::shared_ptr<Segment> next) {
  SegmentHeader header;
  header.segment_id = next->id;
  header.log_uid = log_uid_;
  header.segment_size = next->size;
  header.prev_segment_id = head_ != nullptr ? head_->id : 0;
  header.prev_segment_end = head_ != nullptr ? head_->end : 0;
  header.created_unix_time = NowUnix();
  std::string block(kSegmentHeaderBlock, '\0');
  EncodeSegmentHeader(header, &block[0]);
  const std::string snapshot = table_.EncodeSnapshot();
  if (kSegmentHeaderBlock + FrameFootprint(static_cast<uint32_t>(
                                snapshot.size())) > next->size / 2) {
    return IOStatus::InvalidArgument(
        "segwal log " + dir_ + ": the file table (" +
        std::to_string(snapshot.size()) +
        " bytes) does not fit half a segment: raise segment_size");
  }
  FrameHeader h = MakeFrame(FrameType::kSnapshot, 0, 0);
  h.durable_mark = static_cast<uint32_t>(kSegmentHeaderBlock);
  EncodeFrame(&h, snapshot, next->seed, &block);
  IOStatus s = next->file->Write(0, block.data(), block.size());
  if (s.ok()) s = next->file->Sync();
  if (!s.ok()) {
    SetErrorLocked(s);
    return error_;
  }
  next->end = block.size();
  ++(next->recycled ? stats_.segments_recycled : stats_.segments_created);
  if (next->zero_filled) ++stats_.segments_zero_filled;
  segments_[next->id] = next;
  head_ = std::move(next);
  written_lsn_ = durable_lsn_ = MakeLsn(head_->id, head_->end);
  return IOStatus::OK();
}

// Seals the head and starts the next segment, in the crash-safe order: the
// old head's frames durable, then the new header naming where they end.
IOStatus Log::RotateLocked(std::unique_lock<std::mutex>& lock) {
  if (prepared_ == nullptr) {
    if (preparing_) {
      prepare_cv_.wait(lock,
                       [&] { return prepared_ != nullptr || !preparing_; });
      return IOStatus::OK();  // the caller checks for room again
    }
    // On failure nothing was written: not sticky.
    return PrepareNextLocked(lock);
  }
  IOStatus s = head_->syncs.Sync(head_->file.get());
  ++stats_.batch_count;
  if (!s.ok()) {
    SetErrorLocked(s);
    return error_;
  }
  durable_lsn_ = written_lsn_;
  s = StartSegmentLocked(std::move(prepared_));
  if (!s.ok()) return s;
  ++stats_.rotations;
  housekeeper_cv_.notify_all();  // prepare the next, reclaim
  return IOStatus::OK();
}

IOStatus Log::PrepareNextLocked(std::unique_lock<std::mutex>& lock) {
  preparing_ = true;
  const uint64_t id = next_segment_id_++;
  const uint64_t recycle = PopFreeSegmentLocked();
  const bool zero_fill = recycle == 0 && ChooseZeroFillLocked();
  std::shared_ptr<Segment> seg;
  lock.unlock();
  IOStatus s = PrepareSegment(id, recycle, zero_fill, &seg);
  lock.lock();
  preparing_ = false;
  if (s.ok()) prepared_ = std::move(seg);
  prepare_cv_.notify_all();
  return s;
}

// Zero-filling writes a segment twice to make each later fdatasync cheaper
// (no unwritten extents to convert, so no journal commit): it pays when
// syncs are frequent, and only costs (twice the disk writes) when they are
// rare. Auto zero-fills when the log made at least one sync batch per
// kAutoZeroFillBytesPerSync of frames written since the previous decision;
// with less than that written since, the previous decision stands. The
// first decision after open has no history: it follows the sync mode
// (zero-fill unless syncs only come from a timer or never).
bool Log::ChooseZeroFillLocked() {
  switch (options_.preallocate) {
    case Preallocation::kZero: return true;
    case Preallocation::kFallocate: return false;
    case Preallocation::kAuto: break;
  }
  const uint64_t syncs = stats_.sync_batch_count - choice_sync_batches_;
  const uint64_t bytes = stats_.frame_bytes_written - choice_frame_bytes_;
  if (!made_first_choice_) {
    made_first_choice_ = true;
    zero_fill_choice_ = options_.sync_mode == SyncMode::kGroup ||
                        options_.sync_mode == SyncMode::kAlways;
  } else if (bytes >= kAutoZeroFillBytesPerSync) {
    // Sync batches only: the engine's own fdatasyncs (one per rotation)
    // say nothing about the workload.
    zero_fill_choice_ = syncs * kAutoZeroFillBytesPerSync >= bytes;
  } else {
    return zero_fill_choice_;
  }
  choice_sync_batches_ = stats_.sync_batch_count;
  choice_frame_bytes_ = stats_.frame_bytes_written;
  return zero_fill_choice_;
}

uint64_t Log::PopFreeSegmentLocked() {
  if (free_segments_.empty()) return 0;
  const uint64_t id = free_segments_.front();
  free_segments_.erase(free_segments_.begin());
  return id;
}

// Reclaims dead segments oldest first. Each is renamed out of the segment
// namespace durably before the next: the active segments must stay a chain
// without gaps whenever the machine stops.
IOStatus Log::ReclaimLocked(std::unique_lock<std::mutex>& lock) {
  std::vector<uint64_t> dead;
  for (const auto& [id, segment] : segments_) {
    if (segment == head_ || table_.LiveBytes(id) > 0) break;
    dead.push_back(id);
  }
  if (dead.empty()) return IOStatus::OK();
  // The frames that killed these segments (deletes, truncates, relocated
  // copies of their bytes) must be durable before the segments leave the
  // log: else a power loss brings back files whose bytes are gone.
  if (durable_lsn_ < written_lsn_) {
    IOStatus s = SyncToLocked(lock, written_lsn_, SyncFor::kEngine);
    if (!s.ok()) return s;
  }
  for (uint64_t id : dead) {
    if (segments_.empty() || segments_.begin()->first != id) continue;
    const std::shared_ptr<Segment> oldest = segments_.begin()->second;
    if (oldest == head_) break;
    segments_.erase(id);
    lock.unlock();
    IOStatus s = storage_->Rename(PathOf(SegmentFileName(id)),
                                  PathOf(FreeSegmentFileName(id)));
    const IOStatus synced = s.ok() ? storage_->SyncDir(dir_) : s;
    lock.lock();
    if (!s.ok()) {
      segments_[id] = oldest;
      return s;
    }
    // Renamed, if not yet durably: it is out of the log either way, and
    // the next SyncDir makes the rename durable.
    ++stats_.segments_reclaimed;
    stats_.bytes_reclaimed += oldest->end;
    free_segments_.push_back(id);
    while (free_segments_.size() > options_.recycle_segments) {
      const uint64_t extra = free_segments_.back();
      free_segments_.pop_back();
      s = storage_->Remove(PathOf(FreeSegmentFileName(extra)));
      if (!s.ok()) return s;
      ++stats_.segments_removed;
    }
    if (!synced.ok()) return synced;
  }
  return IOStatus::OK();
}

// Copies the live bytes of the oldest segment forward when live files pin
// more segments than the bound in log.h allows.
IOStatus Log::RelocateLocked(std::unique_lock<std::mutex>& lock) {
  if (segments_.size() < 3) return IOStatus::OK();
  const std::shared_ptr<Segment> oldest = segments_.begin()->second;
  if (oldest == head_) return IOStatus::OK();
  const uint64_t capacity = options_.segment_size - kSegmentHeaderBlock;
  const uint64_t live = table_.TotalLiveBytes();
  const uint64_t allowed = 2 * ((live + capacity - 1) / capacity) + 2;
  if (segments_.size() <= allowed) return IOStatus::OK();

  ReadCache cache;
  for (const auto& [file_id, start] : table_.ExtentsIn(oldest->id)) {
    const LogicalFile* file = table_.FindById(file_id);
    if (file == nullptr || file->name.empty()) continue;  // deleted, open
    auto it = file->extents.find(start);
    if (it == file->extents.end() || it->second.segment_id != oldest->id) {
      continue;
    }
    const Extent extent = it->second;
    IOStatus s = ReadFramePayload(extent, *oldest, oldest->end, &cache,
                                  file->name);
    if (!s.ok()) return s;
    uint64_t offset = start;
    for (const EncodedChunk& chunk : EncodeData(
             Slice(cache.decoded.data() + extent.skip, extent.length))) {
      s = EnsureRoomLocked(
          lock, FrameFootprint(static_cast<uint32_t>(chunk.stored().size())));
      if (!s.ok()) return s;
      // Making room may have let writers in: copy only bytes the file
      // still takes from this frame, never over newer ones.
      if (!StillBackedBy(table_.FindById(file_id), offset, chunk.raw_len(),
                         extent, start)) {
        break;
      }
      s = WriteChunkLocked(FrameType::kRelocatedData, file_id, offset, chunk);
      if (!s.ok()) return s;
      offset += chunk.raw_len();
      stats_.bytes_relocated += chunk.raw_len();
    }
  }
  return IOStatus::OK();
}

IOStatus Log::HousekeepLocked(std::unique_lock<std::mutex>& lock) {
  if (!error_.ok()) return error_;
  IOStatus s = ReclaimLocked(lock);
  if (s.ok()) s = RelocateLocked(lock);
  if (s.ok()) s = ReclaimLocked(lock);
  return s;
}

IOStatus Log::Housekeep() {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  return HousekeepLocked(lock);
}

// ---- The LOG file ----------------------------------------------------

// Best effort: the LOG file is for people; failing to write it fails
// nothing else.
void Log::InfoLogWrite(const std::string& text) {
  std::lock_guard<std::mutex> guard(info_mu_);
  if (info_log_ != nullptr) info_log_->Write(text).PermitUncheckedError();
}

void Log::OpenInfoLog(const RecoveryInfo& info) {
  {
    std::lock_guard<std::mutex> guard(info_mu_);
    InfoLog::Open(storage_, PathOf(InfoLog::kFileName), &info_log_)
        .PermitUncheckedError();
  }
  std::string text =
      "segwal log " + dir_ + " opened: sync_mode=" +
      SyncModeName(options_.sync_mode) +
      " segment_size=" + std::to_string(options_.segment_size) +
      " group_commit_window_us=" +
      std::to_string(options_.group_commit_window_us) +
      " group_commit_max_batch=" +
      std::to_string(options_.group_commit_max_batch) +
      " sync_interval_ms=" + std::to_string(options_.sync_interval_ms) +
      " compression=" + CodecName(options_.compression) +
      " preallocate=" + PreallocationName(options_.preallocate) +
      " recovery_mode=" + RecoveryModeName(options_.recovery_mode) +
      " stats_dump_period_sec=" +
      std::to_string(options_.stats_dump_period_sec) +
      " append_timing_interval=" +
      std::to_string(options_.append_timing_interval) + "\n" +
      FormatRecoverySummary(info);
  if (options_.sync_mode == SyncMode::kNone) {
    text += std::string("\n") + kSyncModeNoneWarning;
  }
  InfoLogWrite(text);
  next_stats_dump_us_ = NowMicros() + options_.stats_dump_period_sec * 1000000;
}

// Called by the housekeeper with mu_ held; releases it to write.
void Log::MaybeDumpStatsLocked(std::unique_lock<std::mutex>& lock) {
  if (options_.stats_dump_period_sec == 0) return;
  const uint64_t now = NowMicros();
  if (now < next_stats_dump_us_) return;
  next_stats_dump_us_ = now + options_.stats_dump_period_sec * 1000000;
  lock.unlock();
  std::string text = FormatStatsDump(GetStats());
  if (options_.sync_mode == SyncMode::kNone) {
    text += kSyncModeNoneWarning;
  }
  InfoLogWrite(text);
  lock.lock();
}

void Log::HousekeeperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    MaybeDumpStatsLocked(lock);
    if (stop_) break;
    if (options_.background_housekeeping) {
      HousekeepLocked(lock).PermitUncheckedError();  // retried on wake-up
    }
    if (!stop_ && error_.ok() && options_.background_prepare &&
        prepared_ == nullptr && !preparing_ && HeadHalfFullLocked()) {
      if (PrepareNextLocked(lock).ok()) continue;
    }
    // HousekeepLocked may have released mu_: a stop requested meanwhile
    // was notified already and would be missed for a whole second.
    if (stop_) break;
    housekeeper_cv_.wait_for(lock, std::chrono::seconds(1));
  }
}

// ---- Durability: env/engine/log_sync.cc -------------------------------------

// ---- Reading ----------------------------------------------------------

// Loads the decoded payload of the frame behind `extent` into
// cache->decoded, verifying its checksum. `valid_end` is where the
// segment's written bytes end, so the window never caches unwritten bytes.
IOStatus Log::ReadFramePayload(const Extent& extent, const Segment& segment,
                               uint64_t valid_end, ReadCache* cache,
                               const std::string& file_name) {
  if (cache->frame_segment == segment.id &&
      cache->frame_offset == extent.frame_offset && cache->has_frame) {
    return IOStatus::OK();
  }
  const uint64_t start = extent.frame_offset;
  const uint64_t need = kFrameHeaderSize + extent.stored_len;
  const auto where = [&] {
    return "segwal log " + dir_ + ": file " + file_name + ", segment " +
           std::to_string(segment.id) + " offset " + std::to_string(start);
  };
  if (start + need > valid_end) {
    return IOStatus::Corruption(where() + ": frame lies past the segment end");
  }
  const bool cached = cache->segment_id == segment.id &&
                      start >= cache->window_start &&
                      start + need <= cache->window_start + cache->window.size();
  if (!cached) {
    const uint64_t len =
        std::max<uint64_t>(need, std::min<uint64_t>(kReadWindow,
                                                     valid_end - start));
    cache->window.resize(len);
    cache->has_frame = false;
    size_t got = 0;
    IOStatus s = segment.file->Read(start, len, &cache->window[0], &got);
    if (!s.ok()) return s;
    if (got < need) {
      return IOStatus::Corruption(where() + ": segment file is truncated");
    }
    cache->window.resize(got);
    cache->segment_id = segment.id;
    cache->window_start = start;
  }
  const char* payload =
      cache->window.data() + (start - cache->window_start) + kFrameHeaderSize;
  if (PayloadChecksum(payload, extent.stored_len) != extent.payload_crc) {
    IOStatus s = IOStatus::Corruption(where() + ": payload checksum mismatch");
    s.SetDataLoss(true);
    return s;
  }
  cache->decoded.resize(extent.raw_len);
  IOStatus s = DecompressPayload(extent.codec,
                                 Slice(payload, extent.stored_len),
                                 &cache->decoded[0], extent.raw_len);
  if (!s.ok()) return IOStatus::Corruption(where() + ": " + s.ToString());
  cache->frame_segment = segment.id;
  cache->frame_offset = extent.frame_offset;
  cache->has_frame = true;
  return IOStatus::OK();
}

// Resolves [offset, offset + n) of a file to the frames holding it. Needs
// mu_ held.
IOStatus Log::ResolveReadLocked(uint64_t id, uint64_t offset, size_t n,
                                std::vector<ReadPiece>* pieces,
                                std::string* file_name) {
  const LogicalFile* file = table_.FindById(id);
  if (file == nullptr) {
    return IOStatus::PathNotFound("segwal log " + dir_ +
                                  ": no logical file id " +
                                  std::to_string(id));
  }
  *file_name = file->name;
  pieces->clear();
  if (offset >= file->size) return IOStatus::OK();
  n = static_cast<size_t>(std::min<uint64_t>(n, file->size - offset));
  auto it = file->extents.upper_bound(offset);
  if (it != file->extents.begin()) --it;
  uint64_t pos = offset;
  while (pos < offset + n) {
    if (it == file->extents.end() || it->first > pos ||
        it->first + it->second.length <= pos) {
      return IOStatus::Corruption("segwal log " + dir_ + ": file " +
                                  *file_name + " has no bytes at offset " +
                                  std::to_string(pos));
    }
    ReadPiece piece;
    piece.extent = it->second;
    piece.skip_into = pos - it->first;
    piece.len = static_cast<size_t>(std::min<uint64_t>(
        it->first + it->second.length - pos, offset + n - pos));
    if (!piece.extent.hole) {
      auto seg = segments_.find(piece.extent.segment_id);
      if (seg == segments_.end()) {
        return IOStatus::Corruption(
            "segwal log " + dir_ + ": file " + *file_name +
            " refers to reclaimed segment " +
            std::to_string(piece.extent.segment_id));
      }
      piece.segment = seg->second;
      piece.valid_end = seg->second->end;
    }
    pos += piece.len;
    pieces->push_back(std::move(piece));
    ++it;
  }
  return IOStatus::OK();
}

// The segment files are read without mu_. Meanwhile relocation may copy the
// bytes forward and their old segment be reclaimed and recycled (renamed
// and overwritten): the frame then fails its checksum. A failure after a
// reclaim is therefore retried on freshly resolved extents; one with no
// reclaim in between is real.
IOStatus Log::Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                   size_t* read, ReadCache* cache) {
  constexpr int kAttempts = 8;
  std::vector<ReadPiece> pieces;
  std::string file_name;
  *read = 0;
  IOStatus s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint64_t reclaims = 0;
    {
      std::lock_guard<std::mutex> guard(mu_);
      s = ResolveReadLocked(id, offset, n, &pieces, &file_name);
      if (!s.ok()) return s;
      reclaims = stats_.segments_reclaimed;
    }
    size_t done = 0;
    for (const ReadPiece& piece : pieces) {
      if (piece.extent.hole) {
        std::memset(scratch + done, 0, piece.len);
      } else {
        s = ReadFramePayload(piece.extent, *piece.segment, piece.valid_end,
                             cache, file_name);
        if (!s.ok()) break;
        std::memcpy(scratch + done,
                    cache->decoded.data() + piece.extent.skip +
                        piece.skip_into,
                    piece.len);
      }
      done += piece.len;
    }
    if (s.ok()) {
      *read = done;
      return s;
    }
    // The cached window may hold the recycled file's new bytes.
    cache->segment_id = 0;
    cache->has_frame = false;
    std::lock_guard<std::mutex> guard(mu_);
    if (stats_.segments_reclaimed == reclaims) return s;
  }
  return s;
}

LogStats Log::GetStats() {
  std::lock_guard<std::mutex> guard(mu_);
  LogStats stats = stats_;
  stats.live_bytes = table_.TotalLiveBytes();
  stats.active_segments = segments_.size();
  stats.log_bytes = segments_.size() * options_.segment_size;
  stats.head_segment_bytes = head_ != nullptr ? head_->end : 0;
  return stats;
}

}  // namespace segwal
