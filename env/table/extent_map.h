// The extents of one logical file, keyed by logical start offset: a sorted
// std::deque rather than a std::map.
//
// Why: every frame a writer appends adds one extent at the end, under the
// log's mutex. A map allocates and rebalances a node per frame (perf: ~2%
// of a sync=0 fillrandom); a deque appends in place, allocating one block
// per few extents, and never copies old ones (a vector's regrowth would
// copy megabytes under the mutex for a large WAL). Inserts and removals in
// the middle (overwrites, truncation, recovery's holes) are rare and cost
// linear time. Lookups are binary searches.
//
// Iterators are invalidated by every change, as with std::deque: callers
// never hold one across a change.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <deque>
#include <utility>

#include "env/format/format.h"

namespace segwal {

// A run of a logical file's bytes stored in one frame's payload.
struct Extent {
  uint64_t segment_id = 0;
  uint32_t frame_offset = 0;  // segment offset of the frame header
  uint32_t stored_len = 0;    // the frame's payload bytes on disk
  uint32_t raw_len = 0;       // the frame's payload bytes once decoded
  Codec codec = Codec::kNone;
  uint32_t crc = 0;           // as in the frame header (FrameHeader::crc)
  uint16_t header_len = 0;    // the frame's header bytes before the payload
  uint32_t skip = 0;          // where this run starts in the decoded payload
  uint32_t length = 0;        // bytes of the file this run covers
  bool hole = false;          // zeros standing in for skipped damage
};

class ExtentMap {
 public:
  using value_type = std::pair<uint64_t, Extent>;
  using Runs = std::deque<value_type>;
  using iterator = Runs::iterator;
  using const_iterator = Runs::const_iterator;

  iterator begin() { return runs_.begin(); }
  iterator end() { return runs_.end(); }
  const_iterator begin() const { return runs_.begin(); }
  const_iterator end() const { return runs_.end(); }
  size_t size() const { return runs_.size(); }
  bool empty() const { return runs_.empty(); }

  // The first run starting after `offset`.
  iterator upper_bound(uint64_t offset) {
    return std::upper_bound(runs_.begin(), runs_.end(), offset, StartsAfter);
  }
  const_iterator upper_bound(uint64_t offset) const {
    return std::upper_bound(runs_.begin(), runs_.end(), offset, StartsAfter);
  }
  // The run starting exactly at `start`, or end().
  const_iterator find(uint64_t start) const {
    auto it = std::lower_bound(runs_.begin(), runs_.end(), start, StartsBefore);
    return it != runs_.end() && it->first == start ? it : runs_.end();
  }

  // Adds a run starting after every other (an append): constant time.
  void Append(uint64_t start, const Extent& extent) {
    assert(runs_.empty() || runs_.back().first < start);
    runs_.emplace_back(start, extent);
  }
  // Adds or replaces the run starting at `start`.
  void Set(uint64_t start, const Extent& extent) {
    if (runs_.empty() || runs_.back().first < start) {
      runs_.emplace_back(start, extent);
      return;
    }
    auto it = std::lower_bound(runs_.begin(), runs_.end(), start, StartsBefore);
    if (it != runs_.end() && it->first == start) {
      it->second = extent;
    } else {
      runs_.emplace(it, start, extent);
    }
  }
  // Removes [first, last); returns the position after them.
  iterator erase(iterator first, iterator last) {
    return runs_.erase(first, last);
  }

 private:
  static bool StartsAfter(uint64_t offset, const value_type& run) {
    return offset < run.first;
  }
  static bool StartsBefore(const value_type& run, uint64_t offset) {
    return run.first < offset;
  }

  Runs runs_;
};

}  // namespace segwal
