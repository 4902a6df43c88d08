#include "env/engine/catalog.h"

namespace segwal {

Catalog::Catalog(std::string dir, FileTable table)
    : dir_(std::move(dir)), table_(std::move(table)) {}

IOStatus Catalog::Apply(const FrameHeader& frame, const Slice& payload,
                        const FrameLocation& where, uint64_t lsn) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  IOStatus s = table_.Apply(frame, payload, where);
  if (!s.ok()) return s;
  if (LogicalFile* file = table_.FindById(frame.file_id)) {
    file->last_lsn = lsn;
  }
  return IOStatus::OK();
}

IOStatus Catalog::WritableSize(uint64_t id, uint64_t* size) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindById(id);
  if (file == nullptr || file->name.empty()) {
    return IOStatus::IOError("segwal log " + dir_ + ": logical file id " +
                             std::to_string(id) + " was deleted");
  }
  *size = file->size;
  return IOStatus::OK();
}

IOStatus Catalog::IdOf(const std::string& name, uint64_t* id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindByName(name);
  if (file == nullptr) {
    return IOStatus::PathNotFound("segwal log " + dir_ + ": no file " + name);
  }
  *id = file->id;
  return IOStatus::OK();
}

bool Catalog::Exists(const std::string& name) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return table_.FindByName(name) != nullptr;
}

std::string Catalog::NameOf(uint64_t id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindById(id);
  return file == nullptr ? std::string() : file->name;
}

uint64_t Catalog::AllocateFileId() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return table_.AllocateFileId();
}

std::string Catalog::EncodeSnapshot() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return table_.EncodeSnapshot();
}

bool Catalog::Lookup(const std::string& name, FileInfo* info) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindByName(name);
  if (file == nullptr) return false;
  *info = FileInfo{file->id, file->name, file->size, file->mtime};
  return true;
}

std::vector<FileInfo> Catalog::List() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return table_.List();
}

IOStatus Catalog::OpenHandle(const std::string& name, uint64_t* id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindByName(name);
  if (file == nullptr) {
    return IOStatus::PathNotFound("segwal log " + dir_ + ": no file " + name);
  }
  *id = file->id;
  table_.AddHandle(file->id);
  return IOStatus::OK();
}

void Catalog::CloseHandle(uint64_t id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  table_.ReleaseHandle(id);
  if (!gone_.empty()) DropUnusedGoneLocked();
}

uint64_t Catalog::Size(uint64_t id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindById(id);
  return file == nullptr ? 0 : file->size;
}

uint64_t Catalog::LastLsn(uint64_t id, uint64_t otherwise) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindById(id);
  return file == nullptr ? otherwise : file->last_lsn;
}

IOStatus Catalog::ResolveRead(uint64_t id, uint64_t offset, size_t n,
                              std::vector<ReadPiece>* pieces,
                              std::string* file_name, uint64_t* epoch) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  *epoch = reclaim_epoch_;
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
      const uint64_t segment_id = piece.extent.segment_id;
      auto seg = segments_.find(segment_id);
      if (seg != segments_.end()) {
        piece.segment = seg->second;
      } else if ((seg = gone_.find(segment_id)) != gone_.end()) {
        piece.segment = seg->second;
      } else {
        return IOStatus::Corruption(
            "segwal log " + dir_ + ": file " + *file_name +
            " refers to reclaimed segment " + std::to_string(segment_id));
      }
      piece.valid_end = piece.segment->end.load(std::memory_order_acquire);
    }
    pos += piece.len;
    pieces->push_back(std::move(piece));
    ++it;
  }
  return IOStatus::OK();
}

uint64_t Catalog::reclaim_epoch() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return reclaim_epoch_;
}

void Catalog::AddSegment(std::shared_ptr<Segment> segment) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const uint64_t id = segment->id;
  segments_[id] = std::move(segment);
}

std::vector<uint64_t> Catalog::DeadSegments(uint64_t head_id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  std::vector<uint64_t> dead;
  for (const auto& [id, segment] : segments_) {
    if (id == head_id || table_.LiveBytes(id) > 0) break;
    dead.push_back(id);
  }
  return dead;
}

std::shared_ptr<Segment> Catalog::TakeOldest(uint64_t id, uint64_t head_id) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  if (segments_.empty() || segments_.begin()->first != id || id == head_id) {
    return nullptr;
  }
  std::shared_ptr<Segment> oldest = std::move(segments_.begin()->second);
  segments_.erase(segments_.begin());
  ++reclaim_epoch_;
  return oldest;
}

void Catalog::PutBack(std::shared_ptr<Segment> segment) {
  AddSegment(std::move(segment));
}

std::shared_ptr<Segment> Catalog::Newest() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return segments_.empty() ? nullptr : segments_.rbegin()->second;
}

void Catalog::NoteFilesChanged() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  ++reclaim_epoch_;
}

bool Catalog::Replace(FileTable table,
                      const std::vector<std::shared_ptr<Segment>>& segments,
                      bool same_log) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  if (!table.CarryHandlesFrom(&table_, same_log)) return false;
  std::map<uint64_t, std::shared_ptr<Segment>> present;
  for (const std::shared_ptr<Segment>& segment : segments) {
    present[segment->id] = segment;
  }
  std::map<uint64_t, std::shared_ptr<Segment>> gone;
  for (auto* old : {&segments_, &gone_}) {
    for (auto& [id, segment] : *old) {
      if (present.count(id) == 0 && table.LiveBytes(id) > 0) {
        segment->gone.store(true, std::memory_order_release);
        gone[id] = std::move(segment);
      }
    }
  }
  table_ = std::move(table);
  segments_ = std::move(present);
  gone_ = std::move(gone);
  ++reclaim_epoch_;
  return true;
}

void Catalog::ForgetSegmentsNotIn(const std::set<uint64_t>& present) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  for (auto it = segments_.begin(); it != segments_.end();) {
    if (present.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (table_.LiveBytes(it->first) > 0) {
      it->second->gone.store(true, std::memory_order_release);
      gone_[it->first] = std::move(it->second);
    }
    it = segments_.erase(it);
  }
  if (!gone_.empty()) DropUnusedGoneLocked();
}

void Catalog::DropUnusedGoneLocked() {
  for (auto it = gone_.begin(); it != gone_.end();) {
    it = table_.LiveBytes(it->first) > 0 ? std::next(it) : gone_.erase(it);
  }
}

bool Catalog::PlanRelocation(uint64_t head_id, uint64_t capacity,
                             RelocationPlan* plan) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  if (segments_.size() < 3) return false;
  const std::shared_ptr<Segment>& oldest = segments_.begin()->second;
  if (oldest->id == head_id) return false;
  const uint64_t live = table_.TotalLiveBytes();
  const uint64_t allowed = 2 * ((live + capacity - 1) / capacity) + 2;
  if (segments_.size() <= allowed) return false;
  plan->segment = oldest;
  plan->runs.clear();
  for (const auto& [file_id, start] : table_.ExtentsIn(oldest->id)) {
    const LogicalFile* file = table_.FindById(file_id);
    if (file == nullptr || file->name.empty()) continue;  // deleted, open
    auto it = file->extents.find(start);
    if (it == file->extents.end() || it->second.segment_id != oldest->id) {
      continue;
    }
    plan->runs.push_back({file_id, file->name, start, it->second});
  }
  return true;
}

bool Catalog::StillBackedBy(uint64_t file_id, uint64_t offset, uint64_t len,
                            const Extent& extent, uint64_t start) {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  const LogicalFile* file = table_.FindById(file_id);
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

Catalog::Usage Catalog::GetUsage() {
  std::lock_guard<AdaptiveMutex> guard(mu_);
  return Usage{table_.TotalLiveBytes(), segments_.size()};
}

}  // namespace segwal
