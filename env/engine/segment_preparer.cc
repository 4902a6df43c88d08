#include "env/engine/segment_preparer.h"

#include <algorithm>

#include "env/format/file_names.h"
#include "env/format/format.h"

namespace segwal {
namespace {

// Zero-fill in page-sized writes. The page cache sizes a folio by the write
// that creates it (Linux 6.x, ext4 with large folios): large writes make
// large folios, and every later small frame write into one walks all of
// its buffer heads, several times slower than into a page-sized folio.
constexpr size_t kZeroFillChunk = 4096;
// A failed background preparation is retried after this long.
constexpr uint64_t kRetryMicros = 1000000;

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

void SegmentPreparer::RequestAhead() {
  if (!context_.options.background_prepare) return;
  {
    std::lock_guard<std::mutex> guard(mu_);
    requested_ = true;
    ++requests_;
  }
  cv_.notify_all();
}

std::shared_ptr<Segment> SegmentPreparer::TakePrepared() {
  std::lock_guard<std::mutex> guard(mu_);
  return std::move(prepared_);
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
    cv_.wait(lock, [&] { return stop_ || requested_; });
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
  bool zero_fill = false;
  if (recycle == 0) {
    const Workload w = workload_();
    zero_fill = zero_fill_.ZeroFill(w.sync_batches, w.frame_bytes);
  }
  std::shared_ptr<Segment> segment;
  lock.unlock();
  IOStatus s = PrepareFile(id, recycle, zero_fill, &segment);
  lock.lock();
  preparing_ = false;
  if (s.ok()) prepared_ = std::move(segment);
  cv_.notify_all();
  return s;
}

IOStatus SegmentPreparer::PrepareFile(uint64_t id, uint64_t recycle_from,
                                      bool zero_fill,
                                      std::shared_ptr<Segment>* segment) {
  Storage* const storage = context_.storage;
  const uint64_t size = context_.options.segment_size;
  const std::string path = context_.PathOf(SegmentFileName(id));
  std::unique_ptr<StorageFile> file;
  IOStatus s;
  bool recycled = false;
  if (recycle_from != 0) {
    const std::string free_path =
        context_.PathOf(FreeSegmentFileName(recycle_from));
    uint64_t found_size = 0;
    s = storage->Rename(free_path, path);
    const bool renamed = s.ok();
    if (s.ok()) s = storage->OpenFile(path, /*create=*/false, &file);
    if (s.ok()) s = file->Size(&found_size);
    recycled = s.ok() && found_size == size;
    if (!recycled) {
      file.reset();
      storage->Remove(renamed ? path : free_path).PermitUncheckedError();
    }
  }
  if (!recycled) {
    s = storage->OpenFile(path, /*create=*/true, &file);
    if (s.ok()) s = file->Allocate(size);
    if (s.IsNotSupported()) {
      zero_fill = true;  // the zeros make the file its full size
      s = IOStatus::OK();
    }
    const std::string zeros(zero_fill ? kZeroFillChunk : 0, '\0');
    for (uint64_t pos = 0; s.ok() && zero_fill && pos < size;
         pos += zeros.size()) {
      s = file->Write(pos, zeros.data(),
                      std::min<uint64_t>(zeros.size(), size - pos));
    }
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
  prepared->recycled = recycled;
  prepared->zero_filled = !recycled && zero_fill;
  *segment = std::move(prepared);
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
}

}  // namespace segwal
