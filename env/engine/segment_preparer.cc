#include "env/engine/segment_preparer.h"

#include <algorithm>
#include <limits>

#include "env/format/file_names.h"
#include "env/format/format.h"

namespace segwal {
namespace {

// Zero-fill in page-sized writes. The page cache sizes a folio by the write
// that creates it (Linux 6.x, ext4 with large folios): large writes make
// large folios, and every later small frame write into one walks all of
// its buffer heads, several times slower than into a page-sized folio.
constexpr size_t kZeroFillChunk = 4096;
// The writer's stores through a mapping find this much faulted in ahead.
constexpr uint64_t kPrefaultAhead = 1 << 20;
constexpr uint64_t kPageSize = 4096;
// A failed background preparation is retried after this long.
constexpr uint64_t kRetryMicros = 1000000;
// The first window of a new segment, and the most one extension adds: at
// most 1 MiB and 8 MiB, and a sixteenth and a quarter of the segment (so
// that small segments grow by windows too).
uint64_t InitialWindow(uint64_t segment_size) {
  return std::min<uint64_t>(
      1 << 20, std::max<uint64_t>(2 * kSegmentHeaderBlock, segment_size / 16));
}
uint64_t MaxWindow(uint64_t segment_size) {
  return std::max(InitialWindow(segment_size),
                  std::min<uint64_t>(8 << 20, segment_size / 4));
}

// Where the writer asks for the next window: half the last one before the
// prepared end, so that the preparer has the writer's time to fill that
// half to do it.
uint64_t ExtendAt(const Segment& segment, uint64_t prepared, uint64_t added) {
  if (prepared >= segment.size) return std::numeric_limits<uint64_t>::max();
  return prepared - added / 2;
}

}  // namespace

SegmentPreparer::SegmentPreparer(const LogContext& context,
                                 const StickyError* error,
                                 std::function<Workload()> workload)
    : context_(context),
      error_(error),
      workload_(std::move(workload)),
      zero_fill_(context.options.preallocate, context.options.sync_mode) {}

SegmentPreparer::~SegmentPreparer() { Stop(); }

void SegmentPreparer::Init(uint64_t next_id, std::vector<uint64_t> free_ids) {
  std::lock_guard<std::mutex> guard(mu_);
  next_id_ = next_id;
  free_ = std::move(free_ids);
}

void SegmentPreparer::AdoptRecovered(Segment* segment, uint64_t file_size) {
  const uint64_t ready = std::min(file_size, segment->size);
  segment->prepared_end.store(ready, std::memory_order_relaxed);
  segment->extend_at.store(
      ExtendAt(*segment, ready,
               std::min(ready, InitialWindow(segment->size))),
      std::memory_order_relaxed);
  segment->next_window = InitialWindow(segment->size);
}

void SegmentPreparer::Start() {
  if (context_.options.background_prepare) {
    thread_ = std::thread([this] { Loop(); });
  }
}

void SegmentPreparer::Stop() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SegmentPreparer::RequestAhead() {
  if (!context_.options.background_prepare) return false;
  std::lock_guard<std::mutex> guard(mu_);
  requested_ = true;
  ++requests_;
  return true;
}

std::shared_ptr<Segment> SegmentPreparer::TakePrepared() {
  std::lock_guard<std::mutex> guard(mu_);
  return std::move(prepared_);
}

bool SegmentPreparer::RequestExtend(const std::shared_ptr<Segment>& segment) {
  if (!context_.options.background_prepare) return false;
  std::lock_guard<std::mutex> guard(mu_);
  if (extend_ == segment) return false;
  extend_ = segment;
  return true;
}

bool SegmentPreparer::RequestPrefault(
    const std::shared_ptr<Segment>& segment) {
  if (!context_.options.background_prepare) return false;
  std::lock_guard<std::mutex> guard(mu_);
  if (prefault_ == segment || segment->map_failed) return false;
  prefault_ = segment;
  return true;
}

void SegmentPreparer::PrefaultMayUnlock(std::unique_lock<std::mutex>& lock,
                                        Segment* segment) {
  if (segment->map_failed) return;
  char* map = segment->map.load(std::memory_order_acquire);
  const uint64_t end = segment->end.load(std::memory_order_acquire);
  const uint64_t from =
      std::max(segment->prefaulted_end.load(std::memory_order_acquire),
               end / kPageSize * kPageSize);
  const uint64_t prepared =
      segment->prepared_end.load(std::memory_order_acquire);
  const uint64_t to = std::min(from + kPrefaultAhead, prepared) / kPageSize *
                      kPageSize;
  lock.unlock();
  IOStatus s;
  if (map == nullptr) s = segment->file->Map(segment->size, &map);
  if (s.ok() && to > from) s = segment->file->Prefault(from, to - from);
  lock.lock();
  if (!s.ok()) {
    segment->map_failed = true;
    return;
  }
  segment->prefaulted_end.store(std::max(from, to), std::memory_order_release);
  segment->map.store(map, std::memory_order_release);
  ++prefaults_;
}

IOStatus SegmentPreparer::ExtendTo(Segment* segment, uint64_t end) {
  end = std::min(end, segment->size);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (segment->prepared_end.load(std::memory_order_acquire) >= end) {
      return IOStatus::OK();
    }
    if (!extending_) return ExtendOneMayUnlock(lock, segment, end);
    cv_.wait(lock, [&] { return !extending_; });
  }
}

bool SegmentPreparer::ChooseZeroFillLocked() {
  const Workload w = workload_();
  return zero_fill_.ZeroFill(w.sync_batches, w.frame_bytes);
}

IOStatus SegmentPreparer::ExtendOneMayUnlock(std::unique_lock<std::mutex>& lock,
                                             Segment* segment, uint64_t end) {
  const uint64_t from = segment->prepared_end.load(std::memory_order_acquire);
  const uint64_t window =
      std::max(segment->next_window, InitialWindow(segment->size));
  const uint64_t to =
      std::min(segment->size, std::max(end, from + window));
  if (to <= from) return IOStatus::OK();
  bool zero_fill = ChooseZeroFillLocked();
  extending_ = true;
  lock.unlock();
  IOStatus s = AllocateRange(segment->file.get(), from, to, &zero_fill);
  // Written zeros go to the disk now, not in the writer's next fdatasync
  // (which then commits only the allocation).
  if (s.ok() && zero_fill) segment->file->StartWriteback(from, to - from);
  lock.lock();
  extending_ = false;
  if (s.ok()) {
    segment->prepared_end.store(to, std::memory_order_release);
    segment->extend_at.store(ExtendAt(*segment, to, to - from),
                             std::memory_order_release);
    segment->next_window = std::min(window * 2, MaxWindow(segment->size));
    ++extensions_;
    bytes_prepared_ += to - from;
  }
  cv_.notify_all();
  return s;
}

IOStatus SegmentPreparer::AllocateRange(StorageFile* file, uint64_t from,
                                        uint64_t to, bool* zero_fill) {
  IOStatus s = file->Allocate(from, to - from);
  if (s.IsNotSupported()) {
    *zero_fill = true;  // the zeros make the file its size
    s = IOStatus::OK();
  }
  const std::string zeros(*zero_fill ? kZeroFillChunk : 0, '\0');
  for (uint64_t pos = from; s.ok() && *zero_fill && pos < to;
       pos += zeros.size()) {
    s = file->Write(pos, zeros.data(),
                    std::min<uint64_t>(zeros.size(), to - pos));
  }
  return s;
}

IOStatus SegmentPreparer::PrepareOrWait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (prepared_ != nullptr) return IOStatus::OK();
  if (preparing_) {
    // The caller asks again for what it needs; a failed preparation here
    // leaves nothing, and the caller's next call prepares inline.
    cv_.wait(lock, [&] { return prepared_ != nullptr || !preparing_; });
    return IOStatus::OK();
  }
  return PrepareOne(lock);
}

void SegmentPreparer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (extend_ != nullptr && !extending_) {
      // Extending the head comes first: the writer is about to need it.
      std::shared_ptr<Segment> segment = std::move(extend_);
      if (!error_->ok()) continue;  // the log writes no more
      // A failed extension is not retried here: the writer extends inline
      // when it needs the space, and sees the error then.
      ExtendOneMayUnlock(lock, segment.get(), 0).PermitUncheckedError();
      continue;
    }
    if (prefault_ != nullptr) {
      std::shared_ptr<Segment> segment = std::move(prefault_);
      if (error_->ok()) PrefaultMayUnlock(lock, segment.get());
      continue;
    }
    if (requested_ && prepared_ == nullptr && !preparing_ && error_->ok()) {
      if (PrepareOne(lock).ok()) {
        requested_ = false;
        continue;
      }
      context_.clock->WaitUntil(lock, cv_,
                                context_.clock->NowMicros() + kRetryMicros,
                                [&] { return stop_; });
      continue;
    }
    requested_ = false;
    cv_.wait(lock, [&] {
      return stop_ || requested_ || prefault_ != nullptr ||
             (extend_ != nullptr && !extending_);
    });
  }
}

IOStatus SegmentPreparer::PrepareOne(std::unique_lock<std::mutex>& lock) {
  preparing_ = true;
  const uint64_t id = next_id_++;
  uint64_t recycle = 0;
  if (!free_.empty()) {
    recycle = free_.front();
    free_.erase(free_.begin());
  }
  std::shared_ptr<Segment> segment;
  lock.unlock();
  IOStatus s = PrepareFile(id, recycle, &segment);
  lock.lock();
  preparing_ = false;
  if (s.ok()) prepared_ = std::move(segment);
  cv_.notify_all();
  return s;
}

IOStatus SegmentPreparer::PrepareFile(uint64_t id, uint64_t recycle_from,
                                      std::shared_ptr<Segment>* segment) {
  Storage* const storage = context_.storage;
  const uint64_t size = context_.options.segment_size;
  const std::string path = context_.PathOf(SegmentFileName(id));
  std::unique_ptr<StorageFile> file;
  IOStatus s;
  uint64_t ready = 0;  // bytes of the file ready for frames
  bool recycled = false;
  bool zero_fill = false;
  if (recycle_from != 0) {
    const std::string free_path =
        context_.PathOf(FreeSegmentFileName(recycle_from));
    uint64_t found_size = 0;
    s = storage->Rename(free_path, path);
    const bool renamed = s.ok();
    if (s.ok()) s = storage->OpenFile(path, /*create=*/false, &file);
    if (s.ok()) s = file->Size(&found_size);
    // Every byte of a reclaimed file was written before (frames, or the
    // zeros or allocation of its windows). One larger than segments are
    // now is not reused.
    recycled = s.ok() && found_size >= kSegmentHeaderBlock &&
               found_size <= size;
    if (recycled) {
      ready = found_size;
    } else {
      file.reset();
      storage->Remove(renamed ? path : free_path).PermitUncheckedError();
    }
  }
  if (ready == 0) {
    {
      std::lock_guard<std::mutex> guard(mu_);
      zero_fill = ChooseZeroFillLocked();
    }
    ready = std::min(size, InitialWindow(size));
    s = storage->OpenFile(path, /*create=*/true, &file);
    if (s.ok()) s = AllocateRange(file.get(), 0, ready, &zero_fill);
    if (s.ok()) s = file->Sync();
    if (!s.ok()) {
      file.reset();
      storage->Remove(path).PermitUncheckedError();
      return s;
    }
  }
  s = storage->SyncDir(context_.dir);
  if (!s.ok()) {
    // Left behind, the file would lie between active segments once later
    // ones exist, and recovery would take it for a lost one.
    file.reset();
    storage->Remove(path).PermitUncheckedError();
    return s;
  }
  auto prepared = std::make_shared<Segment>();
  prepared->id = id;
  prepared->size = size;
  prepared->seed = SegmentSeed(context_.log_uid, id);
  prepared->file = std::move(file);
  prepared->prepared_end.store(ready, std::memory_order_relaxed);
  prepared->extend_at.store(ExtendAt(*prepared, ready, ready),
                            std::memory_order_relaxed);
  prepared->next_window = InitialWindow(size);
  prepared->recycled = recycled;
  prepared->zero_filled = zero_fill;
  *segment = std::move(prepared);
  return IOStatus::OK();
}

IOStatus SegmentPreparer::ReleaseSpare() {
  std::vector<std::string> spare;
  {
    std::lock_guard<std::mutex> guard(mu_);
    for (uint64_t id : free_) {
      spare.push_back(context_.PathOf(FreeSegmentFileName(id)));
    }
    free_.clear();
    if (prepared_ != nullptr) {
      spare.push_back(context_.PathOf(SegmentFileName(prepared_->id)));
      prepared_.reset();
    }
  }
  // Not made durable: a file that comes back after a power loss is only a
  // spare again (recovery frees an unused segment).
  for (const std::string& path : spare) {
    IOStatus s = context_.storage->Remove(path);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> guard(mu_);
    ++segments_removed_;
  }
  return IOStatus::OK();
}

IOStatus SegmentPreparer::Recycle(uint64_t id) {
  std::vector<uint64_t> extra;
  {
    std::lock_guard<std::mutex> guard(mu_);
    free_.push_back(id);
    while (free_.size() > context_.options.recycle_segments) {
      extra.push_back(free_.back());
      free_.pop_back();
    }
  }
  for (uint64_t remove : extra) {
    IOStatus s =
        context_.storage->Remove(context_.PathOf(FreeSegmentFileName(remove)));
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> guard(mu_);
    ++segments_removed_;
  }
  return IOStatus::OK();
}

void SegmentPreparer::AddStatsTo(LogStats* stats) {
  std::lock_guard<std::mutex> guard(mu_);
  stats->segments_removed = segments_removed_;
  stats->prepare_requests = requests_;
  stats->segment_extensions = extensions_;
  stats->prefaults = prefaults_;
  stats->bytes_prepared = bytes_prepared_;
}

}  // namespace segwal
