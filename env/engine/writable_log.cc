#include "env/engine/writable_log.h"

#include <random>

#include "env/engine/recovery_apply.h"
#include "env/engine/segment_preparer.h"
#include "env/format/file_names.h"
#include "env/stats/log_metrics.h"

namespace segwal {
namespace {

constexpr size_t kMaxNameLength = 4096;

uint64_t NewLogUid(Clock* clock) {
  std::random_device device;
  const uint64_t uid = (static_cast<uint64_t>(device()) << 32) ^ device() ^
                       clock->NowMicros();
  return uid == 0 ? 1 : uid;
}

LogContext MakeContext(Storage* storage, const std::string& dir,
                       const LogOptions& options, const ScanResult& scan) {
  LogContext context;
  context.storage = storage;
  context.dir = dir;
  context.options = options;
  context.clock = options.clock != nullptr ? options.clock : Clock::Real();
  context.log_uid =
      scan.log_uid != 0 ? scan.log_uid : NewLogUid(context.clock);
  return context;
}

}  // namespace

WritableLog::WritableLog(Storage* storage, const std::string& dir,
                         const LogOptions& options,
                         std::unique_ptr<ScanResult> scan,
                         const RecoveryInfo& info)
    : Log(storage, dir, options, scan.get()),
      context_(MakeContext(storage, dir, options, *scan)),
      read_only_error_(IOStatus::IOError(
          "segwal log " + dir + ": open for reading only, another process "
          "holds " + dir + "/" + kLockFileName +
          " (one process at a time writes a log)")),
      encoder_(options),
      preparer_(context_, &error_,
                [this] {
                  return SegmentPreparer::Workload{
                      durability_.sync_batches(),
                      writer_.frame_bytes_written()};
                }),
      writer_(context_, catalog(), &preparer_, &encoder_, &error_,
              [this] { housekeeper_.Wake(); }),
      durability_(context_, &writer_, &error_),
      reclaimer_(context_, catalog(), &writer_, &durability_, &preparer_,
                 reader(), &encoder_, &error_),
      interval_syncer_(context_, &writer_, &durability_),
      housekeeper_(context_.clock, [this] { HousekeepingTasks(); }),
      pending_recovery_(std::move(scan)),
      recovered_info_(info),
      metrics_file_(storage, dir, options, &info_log_) {
  error_.SetListener([this](const IOStatus& s) { durability_.FailAll(s); });
  // The files as recovery left them (torn tail cut, repairs made in
  // memory) serve reads; nothing is renamed, sealed or written until the
  // first change.
  writer_.AdoptHead(catalog()->Newest());
}

WritableLog::~WritableLog() {
  housekeeper_.Stop();
  interval_syncer_.Stop();
  preparer_.Stop();
  // A log never changed wrote nothing, and leaves nothing (not even LOG).
  if (!writable_.load(std::memory_order_acquire)) return;
  if (error_.ok()) {
    durability_.Sync(writer_.written_lsn(), SyncFor::kAll)
        .PermitUncheckedError();
    preparer_.ReleaseSpare().PermitUncheckedError();
  }
  metrics_file_.Write(FormatPrometheus(GetStats(), dir()));
  // The last word in the LOG: the counters of the whole session.
  info_log_.Write("segwal log " + dir() + " closed\n" +
                  FormatStatsDump(GetStats()));
}

IOStatus WritableLog::EnsureWritable() {
  if (writable_.load(std::memory_order_acquire)) return IOStatus::OK();
  std::lock_guard<std::mutex> guard(writable_mu_);
  if (writable_.load(std::memory_order_relaxed)) return IOStatus::OK();
  // Nothing has been written yet, so the only error is that of an earlier
  // attempt.
  if (!error_.ok()) return error_.Get();
  if (dir_lock_ == nullptr) {
    std::unique_ptr<StorageLock> lock;
    IOStatus s =
        context_.storage->Lock(context_.PathOf(kLockFileName), &lock);
    // Not sticky: the next change tries again (that process may be gone).
    if (s.IsBusy()) return read_only_error_;
    if (!s.ok()) return s;
    dir_lock_ = std::move(lock);
  }
  // No other process writes now. If one did since the scan, recovery is
  // decided again on what is there now.
  std::unique_ptr<ScanResult> rescan;
  RecoveryInfo info;
  IOStatus s = follower()->StopForWriting(&rescan, &info);
  if (!s.ok()) return error_.Set(s);
  if (rescan != nullptr) {
    pending_recovery_ = std::move(rescan);
    recovered_info_ = info;
    if (pending_recovery_->log_uid != 0) {
      context_.log_uid = pending_recovery_->log_uid;
    }
    writer_.AdoptHead(catalog()->Newest());
  }
  s = ApplyRecovery(context_, *pending_recovery_, &preparer_, &writer_,
                    &durability_);
  if (!s.ok()) return error_.Set(s);  // every later change returns it
  pending_recovery_.reset();
  OpenInfoLog();
  preparer_.Start();
  interval_syncer_.Start();
  if (options().background_housekeeping ||
      options().stats_dump_period_sec > 0 || metrics_file_.active()) {
    housekeeper_.Start();
  }
  writable_.store(true, std::memory_order_release);
  return IOStatus::OK();
}

void WritableLog::OpenInfoLog() {
  info_log_.Open(context_.storage, context_.PathOf(kInfoLogFileName));
  std::string text = FormatOptionsLine(dir(), options()) + "\n" +
                     FormatRecoverySummary(recovered_info_);
  if (options().sync_mode == SyncMode::kNone) {
    text += std::string("\n") + kSyncModeNoneWarning;
  }
  info_log_.Write(text);
  next_stats_dump_us_ = context_.clock->NowMicros() +
                        options().stats_dump_period_sec * 1000000;
  metrics_file_.Start(context_.clock->NowMicros());
}

void WritableLog::InfoLogWrite(const std::string& text) {
  info_log_.Write(text);
}

void WritableLog::HousekeepingTasks() {
  const uint64_t period = options().stats_dump_period_sec;
  const uint64_t now = context_.clock->NowMicros();
  if (period > 0 && now >= next_stats_dump_us_) {
    next_stats_dump_us_ = now + period * 1000000;
    std::string text = FormatStatsDump(GetStats());
    if (options().sync_mode == SyncMode::kNone) text += kSyncModeNoneWarning;
    info_log_.Write(text);
  }
  if (metrics_file_.Due(now)) {
    metrics_file_.Write(FormatPrometheus(GetStats(), dir()));
  }
  if (options().background_housekeeping) {
    reclaimer_.Housekeep().PermitUncheckedError();  // retried on wake-up
  }
}

// ---- Namespace ----------------------------------------------------------

IOStatus WritableLog::CheckName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return IOStatus::InvalidArgument("segwal: bad logical file name '" + name +
                                     "'");
  }
  return IOStatus::OK();
}

uint64_t WritableLog::CreateFrame(const std::string& name, FrameHeader* frame,
                                  Slice* payload) {
  const uint64_t id = catalog()->AllocateFileId();
  frame->type = static_cast<uint8_t>(FrameType::kCreate);
  frame->has_offset = false;
  frame->file_id = id;
  *payload = name;
  return id;
}

IOStatus WritableLog::Create(const std::string& name, uint64_t* id) {
  IOStatus s = CheckName(name);
  if (s.ok()) s = EnsureWritable();
  if (!s.ok()) return s;
  uint64_t new_id = 0;
  s = writer_.Write(MaxFrameFootprint(static_cast<uint32_t>(name.size())),
                    [&](FrameHeader* frame, Slice* payload, bool* write) {
                      new_id = CreateFrame(name, frame, payload);
                      *write = true;
                      return IOStatus::OK();
                    });
  if (s.ok()) *id = new_id;
  return s;
}

IOStatus WritableLog::CreateOrTruncate(const std::string& name,
                                       uint64_t* id) {
  IOStatus s = CheckName(name);
  if (s.ok()) s = EnsureWritable();
  if (!s.ok()) return s;
  uint64_t file_id = 0;
  // Decided under the writer's lock: no create, rename or delete of `name`
  // comes between finding it and the frame.
  s = writer_.Write(MaxFrameFootprint(static_cast<uint32_t>(name.size())),
                    [&](FrameHeader* frame, Slice* payload, bool* write) {
                      if (catalog()->IdOf(name, &file_id).ok()) {
                        frame->type =
                            static_cast<uint8_t>(FrameType::kTruncate);
                        frame->file_id = file_id;
                        frame->offset = 0;
                      } else {
                        file_id = CreateFrame(name, frame, payload);
                      }
                      *write = true;
                      return IOStatus::OK();
                    });
  if (s.ok()) *id = file_id;
  return s;
}

IOStatus WritableLog::Rename(const std::string& from, const std::string& to) {
  IOStatus s = CheckName(to);
  if (s.ok()) s = EnsureWritable();
  if (!s.ok()) return s;
  return writer_.Write(
      MaxFrameFootprint(static_cast<uint32_t>(to.size())),
      [&](FrameHeader* frame, Slice* payload, bool* write) {
        uint64_t file_id = 0;
        IOStatus found = catalog()->IdOf(from, &file_id);
        if (!found.ok()) return found;
        frame->type = static_cast<uint8_t>(FrameType::kRename);
        frame->has_offset = false;
        frame->file_id = file_id;
        *payload = to;
        *write = true;
        return IOStatus::OK();
      });
}

IOStatus WritableLog::Delete(const std::string& name, uint64_t only_id) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  s = writer_.Write(MaxFrameFootprint(0), [&](FrameHeader* frame, Slice*,
                                           bool* write) {
    uint64_t file_id = 0;
    IOStatus found = catalog()->IdOf(name, &file_id);
    if (only_id != 0 && (!found.ok() || file_id != only_id)) {
      *write = false;
      return IOStatus::OK();
    }
    if (!found.ok()) return found;
    frame->type = static_cast<uint8_t>(FrameType::kDelete);
    frame->has_offset = false;
    frame->file_id = file_id;
    *write = true;
    return IOStatus::OK();
  });
  // Segments may have become reclaimable.
  if (s.ok()) housekeeper_.Wake();
  return s;
}

IOStatus WritableLog::Link(const std::string& from, const std::string& to) {
  IOStatus s = CheckName(to);
  if (s.ok()) s = EnsureWritable();
  if (!s.ok()) return s;
  return writer_.Write(
      MaxFrameFootprint(static_cast<uint32_t>(to.size())),
      [&](FrameHeader* frame, Slice* payload, bool* write) {
        uint64_t source = 0;
        IOStatus found = catalog()->IdOf(from, &source);
        if (!found.ok()) return found;
        if (catalog()->Exists(to)) {
          return IOStatus::IOError("segwal log " + dir() + ": link target " +
                                   to + " exists");
        }
        frame->type = static_cast<uint8_t>(FrameType::kLink);
        frame->file_id = catalog()->AllocateFileId();
        frame->offset = source;
        *payload = to;
        *write = true;
        return IOStatus::OK();
      });
}

void WritableLog::CloseHandle(uint64_t id) {
  Log::CloseHandle(id);
  // The writer is done with it (or a reader closed: the writer's next
  // append only starts a new group).
  encoder_.Forget(id);
  // A deleted file's segments may have become reclaimable.
  housekeeper_.Wake();
}

// ---- Data -----------------------------------------------------------------

SegmentWriter::WriteStats WritableLog::StartWrite(size_t bytes) {
  SegmentWriter::WriteStats stats;
  stats.bytes = bytes;
  const uint64_t n = appends_started_.fetch_add(1, std::memory_order_relaxed);
  stats.timed = n % options().append_timing_interval == 0;
  if (stats.timed) stats.start_us = context_.clock->NowMicros();
  return stats;
}

IOStatus WritableLog::Append(uint64_t id, const Slice& data) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  const SegmentWriter::WriteStats stats = StartWrite(data.size());
  const std::shared_ptr<FileStream> stream = encoder_.StreamOf(id);
  std::unique_lock<std::mutex> appending;
  if (stream != nullptr) appending = std::unique_lock<std::mutex>(stream->mu);
  Slice rest = data;
  // Encoded before the writer's lock; a chunk that cannot continue its
  // group where it lands (a new segment) is encoded again, starting one.
  for (;;) {
    const std::vector<EncodedChunk> chunks =
        stream != nullptr ? encoder_.EncodeAppend(stream.get(), rest)
                          : encoder_.Encode(rest);
    size_t written = 0;
    s = writer_.Append(id, chunks, stats,
                       stream != nullptr ? &stream->cursor : nullptr,
                       &written);
    if (!s.ok() || written == chunks.size()) break;
    for (size_t i = 0; i < written; ++i) rest.remove_prefix(chunks[i].raw_len());
    stream->encoder.Restart();
  }
  durability_.NoteWriter(id);
  return s;
}

IOStatus WritableLog::WriteAt(uint64_t id, uint64_t offset,
                              const Slice& data) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  const SegmentWriter::WriteStats stats = StartWrite(data.size());
  s = writer_.WriteAt(id, offset, encoder_.Encode(data), stats);
  durability_.NoteWriter(id);
  return s;
}

IOStatus WritableLog::Truncate(uint64_t id, uint64_t size) {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  encoder_.Forget(id);
  return writer_.Truncate(id, size);
}

// ---- Durability -------------------------------------------------------------

IOStatus WritableLog::Sync(uint64_t id) {
  const uint64_t start = context_.clock->NowMicros();
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  s = durability_.Sync(catalog()->LastLsn(id, writer_.written_lsn()),
                       SyncFor::kFile);
  durability_.RecordSyncLatency(context_.clock->NowMicros() - start);
  return s;
}

IOStatus WritableLog::SyncAll() {
  const uint64_t start = context_.clock->NowMicros();
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  s = durability_.Sync(writer_.written_lsn(), SyncFor::kAll);
  durability_.RecordSyncLatency(context_.clock->NowMicros() - start);
  return s;
}

IOStatus WritableLog::Housekeep() {
  IOStatus s = EnsureWritable();
  if (!s.ok()) return s;
  return reclaimer_.Housekeep();
}

LogStats WritableLog::GetStats() {
  LogStats stats;
  writer_.AddStatsTo(&stats);
  durability_.AddStatsTo(&stats);
  reclaimer_.AddStatsTo(&stats);
  preparer_.AddStatsTo(&stats);
  const Catalog::Usage usage = catalog()->GetUsage();
  stats.live_bytes = usage.live_bytes;
  stats.active_segments = usage.active_segments;
  stats.log_bytes = usage.active_segments * options().segment_size;
  follower()->AddStatsTo(&stats);
  return stats;
}

}  // namespace segwal
