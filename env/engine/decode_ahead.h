// Decode-ahead for one sequential reader of a compressed logical file: a
// thread of its own verifies and decodes the file's next frames while the
// reader's caller works on the bytes it already has (RocksDB replaying the
// records it read), so that on two cores decoding overlaps replay.
//
// Contract:
//  - It only ever supplies the decoded payload of a frame that verified and
//    decoded cleanly, named by its segment, offset and checksum. The reader
//    still resolves every read through the catalog itself, at the time of
//    the read, and asks for the frames it resolved; a frame this unit does
//    not have (yet) ready, or failed on, the reader reads and decodes
//    itself. So reads return the same bytes and the same errors, in the same
//    order, as without it: an error met ahead is never delivered, the
//    reader meets it again when it gets there (with its retries after a
//    reclaim, its refresh while following, PathNotFound, ...).
//  - A frame's decoded bytes do not change while its segment id lives
//    (segments are recycled under new ids), so a payload decoded ahead is
//    what the reader would decode, whenever it is asked for.
//  - It caches no end of file: reaching the end it goes idle, and a read
//    past where it stopped (the file grew, the reader skipped, or it read
//    elsewhere) starts it again from there.
//  - Bounded: the entries hold at most kAheadBytes of decoded bytes (and
//    the whole of the two frames a chunk's ends cut), buffers kept for
//    reuse at most as much again, plus one read window and one group's span
//    in its own ReadCache (the bounds on what decoding allocates apply to
//    its decoder as to any reader's).
//  - The thread starts at the first Find (a read that meets a frame of a
//    codec that Pays: a file without any never starts one) and is stopped
//    and joined by the destructor, which the owner runs before it closes
//    its handle on the file.
//
// Find belongs to one reader (one thread at a time); the unit's lock
// guards everything the two threads share, and is a leaf: no other lock
// is taken while it is held, and it is released while the worker reads.
// Functions named ...Locked need that lock held and never release it;
// ...MayUnlock ones release and retake it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "env/engine/catalog.h"
#include "env/engine/reader.h"

namespace segwal {

class DecodeAhead {
 public:
  // Decoded bytes held ahead of the reader, about.
  static constexpr uint64_t kAheadBytes = 4 << 20;
  // The logical bytes resolved through the catalog at a time.
  static constexpr uint64_t kResolveBytes = 256 << 10;
  // The worker resolves more once the entries hold no more than this (so
  // that it wakes once per chunk the reader consumes, not per frame).
  static constexpr uint64_t kResumeBytes = kAheadBytes - kResolveBytes;

  // Whether frames of `codec` are worth decoding ahead: zstd's (~1 us per
  // WAL record, most of it a serial Huffman loop). Not lz4's: it decodes a
  // record in ~0.1 us, less than handing the frame from one thread to the
  // other costs (a DB::Open of an lz4 log took ~10% more CPU with it).
  static bool Pays(Codec codec) {
    return codec == Codec::kZstdGroup || codec == Codec::kZstd;
  }

  // Reads file `file_id` (a handle the owner keeps open while this lives)
  // through `reader` and `catalog`, which outlive it.
  DecodeAhead(Reader* reader, Catalog* catalog, uint64_t file_id);
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  // The decoded payload (extent.raw_len bytes) of the compressed frame
  // behind `piece`, which a read needs from logical offset `at` (where the
  // piece starts) on, waiting for it if it is being decoded; null if the
  // caller must read and decode it itself. Reads are taken to go on from
  // there: what lies before `at` is dropped. The bytes stay valid until the
  // next call.
  const char* Find(const ReadPiece& piece, uint64_t at);

  // Frames Find returned so far (for tests).
  uint64_t served();

 private:
  struct Entry {
    enum class State { kPending, kDone, kFailed };
    ReadPiece piece;     // as resolved; its extent names the frame
    uint64_t start = 0;  // the logical bytes it covers: [start, end)
    uint64_t end = 0;
    State state = State::kPending;
    std::string payload;  // once kDone
  };

  void Run();
  // The worker's two steps, each entered and left with the lock held; each
  // releases it while it reads the catalog or the segment, and checks the
  // generation after retaking it.
  void DecodeNextMayUnlock(std::unique_lock<std::mutex>& lock);
  void ResolveNextMayUnlock(std::unique_lock<std::mutex>& lock);
  bool HasWorkLocked() const;
  // Drops the entries that end at or before `at`.
  void DropPassedLocked(uint64_t at);
  void PopFrontLocked();
  // Forgets everything ahead and starts over at logical offset `from`.
  void RestartLocked(uint64_t from);

  Reader* const reader_;
  Catalog* const catalog_;
  const uint64_t file_id_;
  // The worker's own: it decodes each next frame of a group from where the
  // last one left its decoder.
  ReadCache cache_;

  std::mutex mu_;
  std::condition_variable worker_cv_;  // work for the worker, or stop
  std::condition_variable reader_cv_;  // an entry settled, or more resolved
  bool started_ = false;
  bool stop_ = false;
  // The worker met a failure (its entry is kFailed, or resolving failed):
  // it decodes nothing more until restarted.
  bool halted_ = false;
  bool at_end_ = false;     // resolving came short of kResolveBytes
  uint64_t generation_ = 0;  // moves at every restart
  uint64_t cursor_ = 0;      // the next logical offset to resolve
  // Entries in logical order; front_seq_ numbers the front one, next_seq_
  // the next to decode (never before the front).
  std::deque<std::unique_ptr<Entry>> entries_;
  uint64_t front_seq_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t bytes_ = 0;  // decoded bytes the entries hold or will
  uint64_t served_ = 0;
  // Dropped entries with their payload buffers, for the worker to reuse:
  // allocating and freeing a buffer per frame on two threads cost more CPU
  // than the decoding it moved (page faults, malloc's arenas). Their
  // buffers' capacity, at most kSpareBytes.
  static constexpr uint64_t kSpareBytes = kAheadBytes;
  std::vector<std::unique_ptr<Entry>> spare_;
  uint64_t spare_bytes_ = 0;
  std::vector<ReadPiece> resolved_;  // the worker's, reused
  std::string file_name_;  // set by the worker only, under the lock
  std::thread thread_;
};

}  // namespace segwal
