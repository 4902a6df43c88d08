#include "env/engine/log_follower.h"

#include "env/engine/segment_preparer.h"
#include "env/format/file_names.h"
#include "env/recovery/tail_scan.h"

namespace segwal {
namespace {

// A full rescan beside a writer may meet a segment reclaimed or recycled
// under it (a vanished file, frames that no longer check out).
constexpr int kRescanAttempts = 3;

}  // namespace

std::shared_ptr<Segment> SegmentFromScan(const ScannedSegment& scanned) {
  auto segment = std::make_shared<Segment>();
  segment->id = scanned.id;
  segment->size = scanned.header.segment_size;
  segment->seed = SegmentSeed(scanned.header.log_uid, scanned.id);
  segment->version = scanned.header.version;
  segment->end.store(scanned.end, std::memory_order_relaxed);
  SegmentPreparer::AdoptRecovered(segment.get(), scanned.file_size);
  segment->file = scanned.file;
  return segment;
}

LogFollower::LogFollower(Storage* storage, std::string dir, RecoveryMode mode,
                         Catalog* catalog)
    : storage_(storage),
      dir_(std::move(dir)),
      mode_(mode),
      catalog_(catalog) {}

void LogFollower::Init(const ScanResult& scan,
                       const std::vector<std::shared_ptr<Segment>>& segments) {
  std::lock_guard<std::mutex> guard(mu_);
  Opened& o = opened_;
  for (const ScannedSegment& s : scan.segments) o.segment_files.insert(s.id);
  for (uint64_t id : scan.unused_segments) o.inactive.insert(id);
  for (uint64_t id : scan.quarantine) o.inactive.insert(id);
  o.segment_files.insert(o.inactive.begin(), o.inactive.end());
  o.free_files.insert(scan.free_segments.begin(), scan.free_segments.end());
  o.log_uid = scan.log_uid;
  if (!segments.empty()) {
    o.head = segments.back();
    o.head_end = scan.segments.back().end;
  }
  FollowFromLocked(scan, segments);
}

void LogFollower::FollowFromLocked(
    const ScanResult& scan,
    const std::vector<std::shared_ptr<Segment>>& segments) {
  // An empty directory keeps the uid it had: a log made anew there later
  // is another log (its file ids name other files).
  if (scan.log_uid != 0) log_uid_ = scan.log_uid;
  head_ = segments.empty() ? nullptr : segments.back();
  head_created_ =
      scan.segments.empty() ? 0 : scan.segments.back().header.created_unix_time;
  next_id_ = 0;
  next_file_.reset();
}

IOStatus LogFollower::Refresh() {
  if (!following()) return IOStatus::OK();
  std::lock_guard<std::mutex> guard(mu_);
  if (!following()) return IOStatus::OK();
  return RefreshLocked();
}

IOStatus LogFollower::RefreshLocked() {
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  bool fall_back = false;
  IOStatus s = StepLocked(&fall_back);
  if (s.ok() && !fall_back) return s;
  ScanResult scan;
  RecoveryInfo info;
  return RescanLocked(kRescanAttempts, &scan, &info);
}

IOStatus LogFollower::ListSegmentFiles(std::set<uint64_t>* segments,
                                       std::set<uint64_t>* free) {
  std::vector<std::string> names;
  IOStatus s = storage_->ListDir(dir_, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    uint64_t id = 0;
    switch (ClassifyLogFile(name, &id)) {
      case LogFileKind::kSegment:
        segments->insert(id);
        break;
      case LogFileKind::kFreeSegment:
        free->insert(id);
        break;
      default:
        break;
    }
  }
  return IOStatus::OK();
}

IOStatus LogFollower::StepLocked(bool* fall_back) {
  // Listed before the frames are read: a segment missing here was reclaimed
  // after every frame that made it dead (deletes, relocated copies) had been
  // written, so those frames are read below.
  std::set<uint64_t> segments, free;
  if (!ListSegmentFiles(&segments, &free).ok()) {
    *fall_back = true;  // the rescan tells what happened
    return IOStatus::OK();
  }
  if (head_ == nullptr || segments.count(head_->id) == 0) {
    // No segment yet (a log started since: rescan), or the writer has
    // reclaimed the newest segment this process knew.
    *fall_back = head_ != nullptr || !segments.empty();
    return IOStatus::OK();
  }
  bool changed = false;
  const FrameSink apply = [&](const FrameHeader& h, const Slice& payload,
                              uint64_t offset) {
    const uint64_t end = offset + FrameFootprint(head_->version, h);
    // As the writer does: the segment's end first, so that a reader that
    // finds the frame through the catalog finds it within the end.
    head_->end.store(end, std::memory_order_release);
    changed = true;
    return catalog_->Apply(
        h, payload,
        FrameLocation{head_->id, static_cast<uint32_t>(offset), head_created_},
        MakeLsn(head_->id, end));
  };
  for (;;) {
    const auto later = segments.upper_bound(head_->id);
    SegmentHeader next_header;
    Next next = Next::kNotYet;
    if (later != segments.end()) {
      IOStatus s = ExamineNextLocked(*later, &next_header, &next);
      // A file past one not started yet is unexpected: the writer prepares
      // one segment ahead.
      if (!s.ok() || next == Next::kUnexpected ||
          (next == Next::kNotYet && std::next(later) != segments.end())) {
        *fall_back = true;
        break;
      }
    }
    // A successor that names the head seals it where the successor says;
    // else the head is still being written.
    const bool sealed = next == Next::kChained;
    const uint64_t start = head_->end.load(std::memory_order_relaxed);
    const uint64_t limit = sealed ? next_header.prev_segment_end : head_->size;
    if (limit < start || limit > head_->size) {
      *fall_back = true;
      break;
    }
    uint64_t end = start;
    uint64_t read = 0;
    IOStatus s = ScanFramesFrom(head_->file.get(), head_->version, head_->seed, start,
                                limit,
                                apply, &end, &read);
    bytes_read_.fetch_add(read, std::memory_order_relaxed);
    if (!s.ok()) {
      *fall_back = true;  // the catalog refused a frame, or a read failed
      break;
    }
    if (!sealed) break;
    if (end != limit) {
      // Sealed, yet its frames stop short: damage, for a rescan to judge.
      *fall_back = true;
      break;
    }
    auto segment = std::make_shared<Segment>();
    segment->id = *later;
    segment->size = next_header.segment_size;
    segment->seed = SegmentSeed(log_uid_, *later);
    segment->version = next_header.version;
    // prepared_end stays 0: a process that followed another writer's
    // frames rescans before it writes (Log::EnsureWritable).
    segment->end.store(kSegmentHeaderBlock, std::memory_order_release);
    segment->file = std::move(next_file_);
    next_id_ = 0;
    catalog_->AddSegment(segment);
    head_ = std::move(segment);
    head_created_ = next_header.created_unix_time;
    changed = true;
  }
  if (!*fall_back) catalog_->ForgetSegmentsNotIn(segments);
  if (changed) {
    changed_since_open_ = true;
    opened_ = Opened();
    catalog_->NoteFilesChanged();
  }
  return IOStatus::OK();
}

IOStatus LogFollower::ExamineNextLocked(uint64_t id, SegmentHeader* header,
                                        Next* next) {
  *next = Next::kUnexpected;
  if (next_id_ != id || next_file_ == nullptr) {
    next_file_.reset();
    next_id_ = 0;
    std::unique_ptr<StorageFile> file;
    if (!storage_->OpenFile(PathOf(SegmentFileName(id)), /*create=*/false,
                            &file)
             .ok()) {
      return IOStatus::OK();  // gone since it was listed
    }
    next_file_ = std::move(file);
    next_id_ = id;
  }
  char block[kSegmentHeaderSize];
  size_t got = 0;
  IOStatus s = next_file_->Read(0, sizeof(block), block, &got);
  if (!s.ok()) return s;
  uint32_t version = 0;
  switch (DecodeSegmentHeader(block, got, header, &version)) {
    case HeaderCheck::kValid:
      if (header->segment_id < id) {
        *next = Next::kNotYet;  // recycled, its old header still there
      } else if (header->segment_id == id && header->log_uid == log_uid_ &&
                 header->prev_segment_id == head_->id &&
                 header->segment_size >= kMinSegmentSize &&
                 header->segment_size <= kMaxSegmentSize) {
        *next = Next::kChained;
      }
      break;
    case HeaderCheck::kZero:
    case HeaderCheck::kTooShort:
      *next = Next::kNotYet;  // prepared, not started
      break;
    case HeaderCheck::kBadMagic:
    case HeaderCheck::kBadChecksum:
      // Being written right now, or damaged: a segment started after it
      // sends this to a rescan.
      *next = Next::kNotYet;
      break;
    case HeaderCheck::kBadVersion:
      break;  // the rescan says which version
  }
  return IOStatus::OK();
}

IOStatus LogFollower::RescanLocked(int attempts, ScanResult* scan,
                                   RecoveryInfo* info) {
  rescans_.fetch_add(1, std::memory_order_relaxed);
  IOStatus s;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    *scan = ScanResult();
    *info = RecoveryInfo();
    s = ScanLog(storage_, dir_, mode_, scan, info);
    if (s.ok() || s.IsNotSupported()) break;
  }
  if (!s.ok() && storage_->FileExists(dir_).IsNotFound()) {
    // The directory was removed: no files any more.
    *scan = ScanResult();
    *info = RecoveryInfo();
    s = IOStatus::OK();
  }
  if (!s.ok()) return s;
  std::vector<std::shared_ptr<Segment>> segments;
  for (const ScannedSegment& scanned : scan->segments) {
    segments.push_back(SegmentFromScan(scanned));
  }
  const bool same_log =
      log_uid_ == 0 || scan->log_uid == 0 || scan->log_uid == log_uid_;
  if (!catalog_->Replace(std::move(scan->table), segments, same_log)) {
    return IOStatus::IOError(
        "segwal log " + dir_ +
        ": another process removed this log and made a new one in its "
        "place while files of the old one are open here; close them and "
        "open the log again");
  }
  FollowFromLocked(*scan, segments);
  changed_since_open_ = true;
  opened_ = Opened();
  return IOStatus::OK();
}

IOStatus LogFollower::ReadSegmentHeader(uint64_t id,
                                        std::unique_ptr<StorageFile>* file,
                                        SegmentHeader* header, bool* valid) {
  *valid = false;
  IOStatus s = storage_->OpenFile(PathOf(SegmentFileName(id)), false, file);
  if (!s.ok()) return s;
  char block[kSegmentHeaderSize];
  size_t got = 0;
  s = (*file)->Read(0, sizeof(block), block, &got);
  if (!s.ok()) return s;
  uint32_t version = 0;
  *valid = DecodeSegmentHeader(block, got, header, &version) ==
           HeaderCheck::kValid;
  return IOStatus::OK();
}

IOStatus LogFollower::ChangedSinceOpenLocked(bool* changed) {
  *changed = true;
  std::set<uint64_t> segments, free;
  IOStatus s = ListSegmentFiles(&segments, &free);
  if (!s.ok()) return s;
  if (segments != opened_.segment_files || free != opened_.free_files) {
    return IOStatus::OK();
  }
  // A segment that was not active (prepared, or one the scan gave up on)
  // and now names itself was started by another writer: recovery would
  // set it aside.
  for (uint64_t id : opened_.inactive) {
    std::unique_ptr<StorageFile> file;
    SegmentHeader header;
    bool valid = false;
    s = ReadSegmentHeader(id, &file, &header, &valid);
    if (!s.ok()) return s;
    if (valid && header.segment_id == id) return IOStatus::OK();
  }
  if (opened_.head != nullptr) {
    const Segment& head = *opened_.head;
    // The same file under that name (a log made anew reuses names)...
    std::unique_ptr<StorageFile> file;
    SegmentHeader header;
    bool valid = false;
    s = ReadSegmentHeader(head.id, &file, &header, &valid);
    if (!s.ok()) return s;
    if (!valid || header.segment_id != head.id ||
        header.log_uid != opened_.log_uid) {
      return IOStatus::OK();
    }
    // ... and no frame past where the scan ended it.
    bool more = false;
    uint64_t end = 0;
    uint64_t read = 0;
    s = ScanFramesFrom(file.get(), head.version, head.seed, opened_.head_end,
                       head.size,
                       [&](const FrameHeader&, const Slice&, uint64_t) {
                         more = true;
                         return IOStatus::Aborted("found a frame");
                       },
                       &end, &read);
    bytes_read_.fetch_add(read, std::memory_order_relaxed);
    if (more) return IOStatus::OK();
    if (!s.ok()) return s;
  }
  *changed = false;
  return IOStatus::OK();
}

IOStatus LogFollower::StopForWriting(std::unique_ptr<ScanResult>* rescan,
                                     RecoveryInfo* info) {
  std::lock_guard<std::mutex> guard(mu_);
  stopped_.store(true, std::memory_order_release);
  next_file_.reset();
  next_id_ = 0;
  bool changed = changed_since_open_;
  if (!changed) {
    IOStatus s = ChangedSinceOpenLocked(&changed);
    if (!s.ok()) return s;
  }
  opened_ = Opened();
  if (!changed) return IOStatus::OK();
  // This process holds the lock: nothing changes under this scan.
  auto scan = std::make_unique<ScanResult>();
  IOStatus s = RescanLocked(1, scan.get(), info);
  if (!s.ok()) return s;
  *rescan = std::move(scan);
  return IOStatus::OK();
}

void LogFollower::AddStatsTo(LogStats* stats) const {
  stats->follow_refreshes = refreshes_.load(std::memory_order_relaxed);
  stats->follow_rescans = rescans_.load(std::memory_order_relaxed);
  stats->follow_bytes_read = bytes_read_.load(std::memory_order_relaxed);
}

}  // namespace segwal
