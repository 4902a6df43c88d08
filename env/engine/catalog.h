// The catalog of a log: its logical files (the FileTable: names, sizes,
// extents) and its active segments, behind one lock.
//
// Every change to the files is a frame the writer has written, applied
// here in log order (Apply); readers resolve byte ranges to frames here;
// the reclaimer finds dead segments and takes them out here. Taking a
// segment out bumps the reclaim epoch, so a reader whose frame failed to
// verify can tell a segment recycled under it (retry) from damage.
//
// In a process that follows a log another process writes
// (env/engine/log_follower.h), the frames that process wrote are applied
// here the same way, or the whole catalog is replaced by a rescan's; either
// bumps the epoch too. Segments that process reclaimed while a file open
// here still has bytes in them are kept apart ("gone"): reads may still
// find those bytes, and the reclaimer never sees them.
//
// Thread-safe. Lock order: SegmentWriter's lock (or LogFollower's), then
// this one (the writer, or the follower, applies frames while holding its
// own); nothing else is taken while this one is held.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "env/engine/adaptive_mutex.h"
#include "env/engine/segment.h"
#include "env/table/file_table.h"

namespace segwal {

// A run of a file's bytes within one frame (or a hole), as a read
// resolved it.
struct ReadPiece {
  Extent extent;
  uint64_t skip_into = 0;  // bytes of the run before the requested start
  size_t len = 0;
  std::shared_ptr<Segment> segment;  // none for a hole
  uint64_t valid_end = 0;            // the segment's end when resolved
};

// Live bytes of the oldest segment, to be copied forward.
struct RelocationPlan {
  struct Run {
    uint64_t file_id = 0;
    std::string file_name;
    uint64_t start = 0;  // logical offset of the run
    Extent extent;
  };
  std::shared_ptr<Segment> segment;
  std::vector<Run> runs;
};

class Catalog {
 public:
  // `dir` names the log in messages.
  Catalog(std::string dir, FileTable table);

  // ---- Files: the writer's side (frames written, in log order).
  // Applies a frame written at `where`; `lsn` is the log position just past
  // it. An error means the table refused it (nothing changed).
  IOStatus Apply(const FrameHeader& frame, const Slice& payload,
                 const FrameLocation& where, uint64_t lsn);
  // The size of file `id` if it is still linked (written to by name);
  // else IOError "logical file id N was deleted".
  IOStatus WritableSize(uint64_t id, uint64_t* size);
  // The id of linked file `name`; PathNotFound naming it if none.
  IOStatus IdOf(const std::string& name, uint64_t* id);
  bool Exists(const std::string& name);
  // The name of file `id` (empty once unlinked or unknown), for messages.
  std::string NameOf(uint64_t id);
  uint64_t AllocateFileId();
  // The snapshot payload that starts every segment.
  std::string EncodeSnapshot();

  // ---- Files: readers.
  bool Lookup(const std::string& name, FileInfo* info);
  std::vector<FileInfo> List();
  // An open handle keeps a deleted file readable until it is closed.
  IOStatus OpenHandle(const std::string& name, uint64_t* id);
  void CloseHandle(uint64_t id);
  uint64_t Size(uint64_t id);
  // The log position just past file `id`'s last frame (`otherwise` if the
  // file is unknown): what a Sync of it must make durable.
  uint64_t LastLsn(uint64_t id, uint64_t otherwise);
  // Resolves [offset, offset + n) of file `id` to the frames holding it;
  // *epoch is the reclaim epoch of the resolution.
  IOStatus ResolveRead(uint64_t id, uint64_t offset, size_t n,
                       std::vector<ReadPiece>* pieces, std::string* file_name,
                       uint64_t* epoch);
  uint64_t reclaim_epoch();

  // ---- Segments.
  // `segment` becomes the newest.
  void AddSegment(std::shared_ptr<Segment> segment);
  // The segments before `head_id` that hold no live bytes, from the oldest
  // up to the first that does.
  std::vector<uint64_t> DeadSegments(uint64_t head_id);
  // Takes segment `id` out if it is still the oldest and not `head_id`,
  // bumping the reclaim epoch; null otherwise.
  std::shared_ptr<Segment> TakeOldest(uint64_t id, uint64_t head_id);
  // Puts back a segment TakeOldest took (its reclaim failed).
  void PutBack(std::shared_ptr<Segment> segment);
  // The newest segment (the head), or null.
  std::shared_ptr<Segment> Newest();

  // ---- Following a log another process writes.
  // The files may have changed under readers (frames applied): bumps the
  // reclaim epoch, so that a read that failed meanwhile is retried.
  void NoteFilesChanged();
  // Replaces the files and segments with a rescan's, keeping every open
  // handle valid (FileTable::CarryHandlesFrom); a segment no longer
  // present that still holds bytes of an open file is kept, gone. False
  // (nothing changed) if `same_log` is false and files are open.
  bool Replace(FileTable table,
               const std::vector<std::shared_ptr<Segment>>& segments,
               bool same_log);
  // Segments not in `present` (the directory's segment ids) were reclaimed
  // by the writing process: dropped, or kept gone while open files still
  // have bytes in them.
  void ForgetSegmentsNotIn(const std::set<uint64_t>& present);
  // When live files pin more segments than 2 * ceil(live / capacity) + 2,
  // the live runs of the oldest one (not `head_id`); false if none is due.
  bool PlanRelocation(uint64_t head_id, uint64_t capacity,
                      RelocationPlan* plan);
  // True if bytes [offset, offset + len) of file `file_id` still come from
  // the frame behind `extent`, at the same place as when that extent
  // started at logical offset `start` (nothing newer replaced them).
  bool StillBackedBy(uint64_t file_id, uint64_t offset, uint64_t len,
                     const Extent& extent, uint64_t start);

  struct Usage {
    uint64_t live_bytes = 0;
    uint64_t active_segments = 0;
  };
  Usage GetUsage();

 private:
  // Drops gone segments no file has bytes in any more.
  void DropUnusedGoneLocked();

  const std::string dir_;
  AdaptiveMutex mu_;
  FileTable table_;
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;  // ascending id
  // Reclaimed by the writing process, still holding bytes of open files.
  std::map<uint64_t, std::shared_ptr<Segment>> gone_;
  uint64_t reclaim_epoch_ = 0;
};

}  // namespace segwal
