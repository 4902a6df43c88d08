#include "env/table/file_table.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "env/format/varint.h"

namespace segwal {

FileTable& FileTable::operator=(FileTable&& other) noexcept {
  files_ = std::move(other.files_);
  names_ = std::move(other.names_);
  live_by_segment_ = std::move(other.live_by_segment_);
  total_live_ = other.total_live_;
  next_file_id_ = other.next_file_id_;
  live_segment_ = other.live_segment_;
  live_counter_ = other.live_counter_;
  other.live_counter_ = nullptr;
  other.total_live_ = 0;
  return *this;
}

IOStatus FileTable::Apply(const FrameHeader& frame, const Slice& payload,
                          const FrameLocation& where) {
  const auto type = static_cast<FrameType>(frame.type);
  if (IsDataFrame(frame.type)) return ApplyData(frame, where);
  if (type == FrameType::kSnapshot) return ApplySnapshot(payload, where);

  LogicalFile* file = FindById(frame.file_id);
  const std::string id_text = "logical file id " + std::to_string(frame.file_id);
  switch (type) {
    case FrameType::kCreate:
    case FrameType::kLink: {
      if (file != nullptr) {
        return IOStatus::Corruption(id_text + " created twice");
      }
      // 0 is never allocated, and the next id must stay representable.
      if (frame.file_id == 0 || frame.file_id == UINT64_MAX) {
        return IOStatus::Corruption("impossible " + id_text);
      }
      LogicalFile* source = nullptr;
      if (type == FrameType::kLink) {
        source = FindById(frame.offset);
        if (source == nullptr) {
          return IOStatus::Corruption("link from unknown logical file id " +
                                      std::to_string(frame.offset));
        }
      }
      if (payload.empty()) return IOStatus::Corruption(id_text + " has no name");
      std::string name = payload.ToString();
      if (LogicalFile* old = FindByName(name)) Unlink(old);
      auto created = std::make_unique<LogicalFile>();
      created->id = frame.file_id;
      created->name = name;
      created->mtime = where.unix_time;
      if (source != nullptr) {
        created->size = source->size;
        for (const auto& [start, extent] : source->extents) {
          InsertExtent(created.get(), start, extent);
        }
      }
      names_[name] = frame.file_id;
      files_[frame.file_id] = std::move(created);
      next_file_id_ = std::max(next_file_id_, frame.file_id + 1);
      return IOStatus::OK();
    }
    case FrameType::kRename: {
      if (file == nullptr || file->name.empty()) {
        return IOStatus::Corruption("rename of unknown " + id_text);
      }
      if (payload.empty()) return IOStatus::Corruption("rename to no name");
      std::string name = payload.ToString();
      LogicalFile* old = FindByName(name);
      if (old == file) return IOStatus::OK();
      if (old != nullptr) Unlink(old);
      names_.erase(file->name);
      file->name = name;
      names_[name] = file->id;
      return IOStatus::OK();
    }
    case FrameType::kDelete:
      if (file == nullptr || file->name.empty()) {
        return IOStatus::Corruption("delete of unknown " + id_text);
      }
      Unlink(file);
      return IOStatus::OK();
    case FrameType::kTruncate:
      if (file == nullptr) {
        return IOStatus::Corruption("truncate of unknown " + id_text);
      }
      if (frame.offset > kMaxLogicalFileSize) {
        return IOStatus::Corruption("truncate of " + id_text +
                                    " beyond the largest logical file size");
      }
      if (frame.offset < file->size) {
        RemoveRange(file, frame.offset, file->size);
      } else if (frame.offset > file->size) {
        Extent zeros;
        zeros.hole = true;
        zeros.length = static_cast<uint32_t>(
            std::min<uint64_t>(frame.offset - file->size, UINT32_MAX));
        if (zeros.length != frame.offset - file->size) {
          return IOStatus::Corruption("truncate of " + id_text +
                                      " extends it by more than 4 GiB");
        }
        InsertExtent(file, file->size, zeros);
      }
      file->size = frame.offset;
      file->mtime = where.unix_time;
      return IOStatus::OK();
    default:
      break;
  }
  if (frame.type & kFrameTypeSafeToIgnore) return IOStatus::OK();
  return IOStatus::NotSupported(
      "frame type " + std::to_string(frame.type) +
      " is unknown: the log was written by a newer segwal");
}

IOStatus FileTable::ApplyData(const FrameHeader& header,
                              const FrameLocation& where) {
  LogicalFile* file = FindById(header.file_id);
  if (file == nullptr) {
    return IOStatus::Corruption("data for unknown logical file id " +
                                std::to_string(header.file_id));
  }
  // A frame that leaves its offset out appends at the file's end.
  FrameHeader frame = header;
  if (!frame.has_offset) frame.offset = file->size;
  if (frame.offset > kMaxLogicalFileSize - frame.raw_len) {
    return IOStatus::Corruption("data at offset " +
                                std::to_string(frame.offset) +
                                " beyond the largest logical file size");
  }
  if (frame.offset > file->size) {
    return IOStatus::Corruption(
        "data at offset " + std::to_string(frame.offset) +
        " beyond the end (" + std::to_string(file->size) +
        ") of logical file " + file->name);
  }
  Extent extent;
  extent.segment_id = where.segment_id;
  extent.frame_offset = where.frame_offset;
  extent.stored_len = frame.stored_len;
  extent.raw_len = frame.raw_len;
  extent.codec = frame.codec;
  extent.crc = frame.crc;
  extent.header_len = static_cast<uint16_t>(frame.header_len);
  extent.length = frame.raw_len;
  if (extent.length == 0) return IOStatus::OK();
  uint64_t end = frame.offset + frame.raw_len;
  if (frame.offset == file->size) {
    // An append (the common case): nothing to replace, and the new extent
    // goes last, in constant time.
    file->extents.Append(frame.offset, extent);
    Account(extent, true);
  } else {
    RemoveRange(file, frame.offset, end);
    InsertExtent(file, frame.offset, extent);
  }
  file->size = std::max(file->size, end);
  // Relocation copies bytes no one wrote: WAL_ttl_seconds judges archived
  // WALs by mtime.
  if (frame.type == static_cast<uint8_t>(FrameType::kData)) {
    file->mtime = where.unix_time;
  }
  return IOStatus::OK();
}

// Snapshot payload: varint next_file_id, varint count, then per file:
// varint id, varint size, varint mtime, varint name length, name bytes.
std::string FileTable::EncodeSnapshot() const {
  std::string out;
  PutVarint64(&out, next_file_id_);
  std::vector<const LogicalFile*> linked;
  for (const auto& entry : names_) linked.push_back(files_.at(entry.second).get());
  PutVarint64(&out, linked.size());
  for (const LogicalFile* file : linked) {
    PutVarint64(&out, file->id);
    PutVarint64(&out, file->size);
    PutVarint64(&out, file->mtime);
    PutVarint64(&out, file->name.size());
    out.append(file->name);
  }
  return out;
}

// The first snapshot seen by an empty table (the oldest surviving segment)
// defines the table; every later one must agree with what replay built,
// since it was written from that very state.
IOStatus FileTable::ApplySnapshot(const Slice& payload,
                                  const FrameLocation& where) {
  Slice in = payload;
  uint64_t next_id = 0, count = 0;
  if (!GetVarint64(&in, &next_id) || !GetVarint64(&in, &count) ||
      count > in.size()) {
    return IOStatus::Corruption("snapshot frame is malformed");
  }
  struct Entry {
    uint64_t id, size, mtime;
    std::string name;
  };
  std::vector<Entry> entries;
  // Each id and each name at most once: the table maps names to ids
  // one-to-one, and a snapshot is written from such a table.
  std::set<uint64_t> ids;
  std::set<std::string> names;
  for (uint64_t i = 0; i < count; ++i) {
    Entry e;
    uint64_t name_len = 0;
    if (!GetVarint64(&in, &e.id) || !GetVarint64(&in, &e.size) ||
        !GetVarint64(&in, &e.mtime) || !GetVarint64(&in, &name_len) ||
        name_len == 0 || name_len > in.size() || e.id >= next_id) {
      return IOStatus::Corruption("snapshot frame is malformed");
    }
    e.name.assign(in.data(), name_len);
    in.remove_prefix(name_len);
    if (e.id == 0 || !ids.insert(e.id).second || !names.insert(e.name).second) {
      return IOStatus::Corruption("snapshot frame is malformed");
    }
    entries.push_back(std::move(e));
  }
  if (!in.empty()) return IOStatus::Corruption("snapshot frame is malformed");

  if (files_.empty()) {
    for (Entry& e : entries) {
      auto file = std::make_unique<LogicalFile>();
      file->id = e.id;
      file->name = e.name;
      file->size = e.size;
      file->mtime = e.mtime;
      names_[e.name] = e.id;
      files_[e.id] = std::move(file);
    }
    next_file_id_ = std::max(next_file_id_, next_id);
    return IOStatus::OK();
  }
  if (entries.size() != names_.size()) {
    return IOStatus::Corruption(
        "snapshot lists " + std::to_string(entries.size()) +
        " files but replay has " + std::to_string(names_.size()));
  }
  for (const Entry& e : entries) {
    const LogicalFile* file = FindByName(e.name);
    if (file == nullptr || file->id != e.id || file->size != e.size) {
      return IOStatus::Corruption("snapshot disagrees with replay about " +
                                  e.name);
    }
  }
  (void)where;
  next_file_id_ = std::max(next_file_id_, next_id);
  return IOStatus::OK();
}

LogicalFile* FileTable::FindByName(const std::string& name) {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : files_.at(it->second).get();
}

LogicalFile* FileTable::FindById(uint64_t id) {
  auto it = files_.find(id);
  return it == files_.end() ? nullptr : it->second.get();
}

std::vector<FileInfo> FileTable::List() const {
  std::vector<FileInfo> out;
  for (const auto& [name, id] : names_) {
    const LogicalFile& file = *files_.at(id);
    out.push_back({id, name, file.size, file.mtime});
  }
  return out;
}

void FileTable::AddHandle(uint64_t id) {
  if (LogicalFile* file = FindById(id)) ++file->open_handles;
}

void FileTable::ReleaseHandle(uint64_t id) {
  LogicalFile* file = FindById(id);
  if (file == nullptr) return;
  if (--file->open_handles <= 0 && file->name.empty()) Drop(id);
}

bool FileTable::CarryHandlesFrom(FileTable* old, bool same_log) {
  if (!same_log) {
    for (const auto& entry : old->files_) {
      if (entry.second->open_handles > 0) return false;
    }
    return true;
  }
  for (auto& [id, file] : old->files_) {
    if (file->open_handles <= 0) continue;
    if (LogicalFile* mine = FindById(id)) {
      mine->open_handles = file->open_handles;
      continue;
    }
    std::unique_ptr<LogicalFile> kept = std::move(file);
    if (!kept->name.empty()) kept->name.clear();
    for (const auto& entry : kept->extents) Account(entry.second, true);
    next_file_id_ = std::max(next_file_id_, id + 1);
    files_[id] = std::move(kept);
  }
  return true;
}

void FileTable::Unlink(LogicalFile* file) {
  names_.erase(file->name);
  file->name.clear();
  if (file->open_handles <= 0) Drop(file->id);
}

void FileTable::Drop(uint64_t id) {
  LogicalFile* file = FindById(id);
  for (const auto& entry : file->extents) Account(entry.second, false);
  files_.erase(id);
}

uint64_t FileTable::LiveBytes(uint64_t segment_id) const {
  auto it = live_by_segment_.find(segment_id);
  return it == live_by_segment_.end() ? 0 : it->second;
}

std::vector<std::pair<uint64_t, uint64_t>> FileTable::ExtentsIn(
    uint64_t segment_id) const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [id, file] : files_) {
    for (const auto& [start, extent] : file->extents) {
      if (!extent.hole && extent.segment_id == segment_id) {
        out.emplace_back(id, start);
      }
    }
  }
  return out;
}

void FileTable::Account(const Extent& extent, bool add) {
  if (extent.hole) return;
  // Frames come segment after segment: the last segment's counter is
  // kept at hand (a map node's address is stable until it is erased).
  if (live_segment_ != extent.segment_id || live_counter_ == nullptr) {
    live_counter_ = &live_by_segment_[extent.segment_id];
    live_segment_ = extent.segment_id;
  }
  uint64_t& live = *live_counter_;
  if (add) {
    live += extent.length;
    total_live_ += extent.length;
  } else {
    live -= extent.length;
    total_live_ -= extent.length;
    if (live == 0) {
      live_by_segment_.erase(extent.segment_id);
      live_counter_ = nullptr;
    }
  }
}

void FileTable::InsertExtent(LogicalFile* file, uint64_t start,
                             const Extent& extent) {
  file->extents.Set(start, extent);
  Account(extent, true);
}

// Removes [start, end) from a file's extents, keeping the parts of runs
// that straddle either edge.
void FileTable::RemoveRange(LogicalFile* file, uint64_t start, uint64_t end) {
  ExtentMap& extents = file->extents;
  auto first = extents.upper_bound(start);
  if (first != extents.begin()) {
    auto before = std::prev(first);
    if (before->first + before->second.length > start) first = before;
  }
  std::vector<ExtentMap::value_type> kept;  // at most a head and a tail
  auto last = first;
  for (; last != extents.end() && last->first < end; ++last) {
    const uint64_t run_start = last->first;
    const Extent& run = last->second;
    const uint64_t run_end = run_start + run.length;
    Account(run, false);
    if (run_start < start) {
      Extent head = run;
      head.length = static_cast<uint32_t>(start - run_start);
      kept.emplace_back(run_start, head);
    }
    if (run_end > end) {
      Extent tail = run;
      tail.skip = run.skip + static_cast<uint32_t>(end - run_start);
      tail.length = static_cast<uint32_t>(run_end - end);
      kept.emplace_back(end, tail);
    }
  }
  extents.erase(first, last);
  for (const auto& [run_start, run] : kept) InsertExtent(file, run_start, run);
}

bool FileTable::FindHole(uint64_t* file_id, uint64_t* start,
                         uint64_t* end) const {
  for (const auto& [id, file] : files_) {
    uint64_t covered = 0;
    for (const auto& [run_start, extent] : file->extents) {
      if (run_start > covered) {
        *file_id = id;
        *start = covered;
        *end = run_start;
        return true;
      }
      covered = run_start + extent.length;
    }
    if (covered < file->size) {
      *file_id = id;
      *start = covered;
      *end = file->size;
      return true;
    }
  }
  return false;
}

void FileTable::Grow(uint64_t file_id, uint64_t size) {
  LogicalFile* file = FindById(file_id);
  if (file != nullptr && size > file->size) file->size = size;
}

void FileTable::FillHole(uint64_t file_id, uint64_t start, uint64_t end) {
  LogicalFile* file = FindById(file_id);
  if (file == nullptr) return;
  RemoveRange(file, start, end);
  while (start < end) {
    Extent zeros;
    zeros.hole = true;
    zeros.length = static_cast<uint32_t>(
        std::min<uint64_t>(end - start, kMaxDataFramePayload));
    InsertExtent(file, start, zeros);
    start += zeros.length;
  }
}

}  // namespace segwal
