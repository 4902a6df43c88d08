// The table of logical files: names, sizes and the extents that map each
// file's bytes to frames in segments.
//
// Every change goes through Apply(), with a frame exactly as it is written to
// the log, both when the engine writes it and when recovery replays it: the
// table after recovery is by construction the table before the crash, cut at
// the last recovered frame.
//
// Not thread-safe: the Log serialises access under its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "env/table/extent_map.h"
#include "env/format/format.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace segwal {

using rocksdb::IOStatus;
using rocksdb::Slice;

struct LogicalFile {
  uint64_t id = 0;
  std::string name;          // empty once unlinked
  uint64_t size = 0;
  uint64_t mtime = 0;        // unix seconds
  ExtentMap extents;         // keyed by logical start offset
  int open_handles = 0;      // keeps an unlinked file's bytes alive
  uint64_t last_lsn = 0;     // log position just past its last frame
};

// Where a frame lies, for the extents a data frame creates.
struct FrameLocation {
  uint64_t segment_id = 0;
  uint32_t frame_offset = 0;
  uint64_t unix_time = 0;
};

struct FileInfo {
  uint64_t id;
  std::string name;
  uint64_t size;
  uint64_t mtime;
};

class FileTable {
 public:
  FileTable() = default;
  // A move keeps the map's nodes, and so live_counter_, valid in the new
  // table (the old one forgets it); a copy would point into the original.
  FileTable(FileTable&& other) noexcept { *this = std::move(other); }
  FileTable& operator=(FileTable&& other) noexcept;
  FileTable(const FileTable&) = delete;
  FileTable& operator=(const FileTable&) = delete;

  // Applies one frame. An error means the frame cannot follow the table's
  // state (e.g. data for an unknown file); the table is unchanged then.
  IOStatus Apply(const FrameHeader& frame, const Slice& payload,
                 const FrameLocation& where);

  // The snapshot payload written as the first frame of every segment.
  std::string EncodeSnapshot() const;

  // Lookups. Unlinked files are invisible by name but findable by id.
  LogicalFile* FindByName(const std::string& name);
  LogicalFile* FindById(uint64_t id);
  std::vector<FileInfo> List() const;
  uint64_t next_file_id() const { return next_file_id_; }
  uint64_t AllocateFileId() { return next_file_id_++; }

  // Handles keep an unlinked file's extents alive until the last is closed.
  void AddHandle(uint64_t id);
  void ReleaseHandle(uint64_t id);
  // For a table rebuilt by a rescan of the log while files of `old` (the
  // table it replaces) are open: a file open in `old` stays open here (the
  // same id is the same file: ids are never reused within a log), and one
  // this table lacks (deleted meanwhile) is kept, unlinked, with its bytes
  // as `old` had them. With `same_log` false (the log was created anew: its
  // ids name other files) nothing changes, and false is returned if any
  // file of `old` is open. Takes the files it keeps from `old`.
  bool CarryHandlesFrom(FileTable* old, bool same_log);

  // Stored bytes each segment holds for live files (absent: none).
  uint64_t LiveBytes(uint64_t segment_id) const;
  uint64_t TotalLiveBytes() const { return total_live_; }
  // Extents (file id, logical offset) stored in one segment.
  std::vector<std::pair<uint64_t, uint64_t>> ExtentsIn(
      uint64_t segment_id) const;

  // After recovery: the first range of a file that no extent covers, as
  // (file, start, end); false if every file is complete.
  bool FindHole(uint64_t* file_id, uint64_t* start, uint64_t* end) const;
  // Makes [start, end) of a file read as zeros (kSkipAnyCorruptedRecords).
  void FillHole(uint64_t file_id, uint64_t start, uint64_t end);
  // Grows a file to `size` with no bytes behind the growth, which FindHole
  // then reports (recovery, where skipped frames left a gap).
  void Grow(uint64_t file_id, uint64_t size);

 private:
  IOStatus ApplyData(const FrameHeader& frame, const FrameLocation& where);
  IOStatus ApplySnapshot(const Slice& payload, const FrameLocation& where);
  void Unlink(LogicalFile* file);
  void Drop(uint64_t id);
  void RemoveRange(LogicalFile* file, uint64_t start, uint64_t end);
  void InsertExtent(LogicalFile* file, uint64_t start, const Extent& extent);
  void Account(const Extent& extent, bool add);

  std::unordered_map<uint64_t, std::unique_ptr<LogicalFile>> files_;
  std::map<std::string, uint64_t> names_;
  std::unordered_map<uint64_t, uint64_t> live_by_segment_;
  uint64_t live_segment_ = 0;          // whose counter live_counter_ is
  uint64_t* live_counter_ = nullptr;   // into live_by_segment_, or null
  uint64_t total_live_ = 0;
  uint64_t next_file_id_ = 1;
};

}  // namespace segwal
