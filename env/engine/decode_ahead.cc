#include "env/engine/decode_ahead.h"

#include <system_error>
#include <utility>
#include <vector>

namespace segwal {
namespace {

// The same frame: its segment, offset and checksum (a segment id is never
// reused), and what decoding it yields.
bool SameFrame(const Extent& a, const Extent& b) {
  return a.segment_id == b.segment_id && a.frame_offset == b.frame_offset &&
         a.crc == b.crc && a.stored_len == b.stored_len &&
         a.raw_len == b.raw_len && a.codec == b.codec &&
         a.header_len == b.header_len;
}

}  // namespace

DecodeAhead::DecodeAhead(Reader* reader, Catalog* catalog, uint64_t file_id)
    : reader_(reader), catalog_(catalog), file_id_(file_id) {}

DecodeAhead::~DecodeAhead() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  worker_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

const char* DecodeAhead::Find(const ReadPiece& piece, uint64_t at) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return nullptr;
  if (!started_) {
    started_ = true;
    RestartLocked(at);
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      stop_ = true;  // no thread: the reader decodes everything itself
      return nullptr;
    }
  }
  for (;;) {
    DropPassedLocked(at);
    Entry* found = nullptr;
    size_t index = 0;
    for (; index < entries_.size() && entries_[index]->start <= at; ++index) {
      Entry* e = entries_[index].get();
      if (at < e->end && SameFrame(e->piece.extent, piece.extent)) {
        found = e;
        break;
      }
    }
    if (found != nullptr) {
      if (found->state == Entry::State::kDone) {
        // Everything before it was passed.
        while (index-- > 0) PopFrontLocked();
        ++served_;
        return found->payload.data();
      }
      if (found->state == Entry::State::kFailed || halted_) {
        // The reader meets the failure itself; the worker goes on after it.
        RestartLocked(at + piece.len);
        return nullptr;
      }
      reader_cv_.wait(lock);
      continue;
    }
    // Not in the window. Still to be resolved, right ahead: wait for it.
    if (!halted_ && !at_end_ && entries_.empty() && at >= cursor_ &&
        at - cursor_ < kResolveBytes) {
      reader_cv_.wait(lock);
      continue;
    }
    // Elsewhere (a skip, a rewritten range, the file grew past where the
    // worker stopped): decode this one here, and go on after it.
    RestartLocked(at + piece.len);
    return nullptr;
  }
}

uint64_t DecodeAhead::served() {
  std::lock_guard<std::mutex> guard(mu_);
  return served_;
}

void DecodeAhead::DropPassedLocked(uint64_t at) {
  while (!entries_.empty() && entries_.front()->end <= at) PopFrontLocked();
}

void DecodeAhead::PopFrontLocked() {
  const uint64_t before = bytes_;
  std::unique_ptr<Entry>& front = entries_.front();
  bytes_ -= front->piece.extent.raw_len;
  if (spare_bytes_ + front->payload.capacity() <= kSpareBytes) {
    spare_bytes_ += front->payload.capacity();
    front->piece = ReadPiece();  // holds no segment meanwhile
    spare_.push_back(std::move(front));
  }
  entries_.pop_front();
  ++front_seq_;
  if (next_seq_ < front_seq_) next_seq_ = front_seq_;
  // Wake the worker once a chunk fits again, not for every frame.
  if (before > kResumeBytes && bytes_ <= kResumeBytes) {
    worker_cv_.notify_one();
  }
}

void DecodeAhead::RestartLocked(uint64_t from) {
  entries_.clear();
  front_seq_ = next_seq_ = 0;
  bytes_ = 0;
  ++generation_;
  cursor_ = from;
  halted_ = false;
  at_end_ = false;
  worker_cv_.notify_one();
}

bool DecodeAhead::HasWorkLocked() const {
  if (halted_) return false;
  if (next_seq_ < front_seq_ + entries_.size()) return true;
  return !at_end_ && bytes_ <= kResumeBytes;
}

void DecodeAhead::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    worker_cv_.wait(lock, [this] { return stop_ || HasWorkLocked(); });
    if (stop_) return;
    if (next_seq_ < front_seq_ + entries_.size()) {
      DecodeNextMayUnlock(lock);
    } else {
      ResolveNextMayUnlock(lock);
    }
  }
}

void DecodeAhead::DecodeNextMayUnlock(
    std::unique_lock<std::mutex>& lock) {
  const uint64_t seq = next_seq_;
  const uint64_t generation = generation_;
  const ReadPiece piece = entries_[seq - front_seq_]->piece;
  const std::string& file_name = file_name_;  // only this thread sets it
  // The entry's buffer (kept from an earlier entry's use), for the
  // payload: nobody reads a pending entry's.
  std::string payload = std::move(entries_[seq - front_seq_]->payload);
  lock.unlock();
  IOStatus s = reader_->ReadFramePayload(piece.extent, *piece.segment,
                                         piece.valid_end, &cache_, file_name);
  if (s.ok()) {
    // A compressed frame's payload is decoded into cache_.decoded: take
    // it (the cache keeps a spare buffer) rather than copy it.
    payload.swap(cache_.decoded);
    cache_.has_frame = false;
  } else {
    cache_.ForgetAfterFailure();
  }
  lock.lock();
  if (generation != generation_ || seq < front_seq_) return;  // dropped
  Entry* e = entries_[seq - front_seq_].get();
  if (s.ok()) {
    e->payload = std::move(payload);
    e->state = Entry::State::kDone;
  } else {
    e->state = Entry::State::kFailed;
    halted_ = true;
  }
  if (next_seq_ == seq) next_seq_ = seq + 1;
  reader_cv_.notify_one();
}

void DecodeAhead::ResolveNextMayUnlock(
    std::unique_lock<std::mutex>& lock) {
  const uint64_t from = cursor_;
  const uint64_t generation = generation_;
  lock.unlock();
  std::vector<ReadPiece>& pieces = resolved_;
  std::string file_name;
  uint64_t epoch = 0;
  IOStatus s = catalog_->ResolveRead(file_id_, from, kResolveBytes, &pieces,
                                     &file_name, &epoch);
  lock.lock();
  if (generation != generation_) return;
  if (!s.ok()) {
    halted_ = true;
    reader_cv_.notify_one();
    return;
  }
  file_name_ = std::move(file_name);
  uint64_t pos = from;
  for (ReadPiece& piece : pieces) {
    const uint64_t end = pos + piece.len;
    if (!piece.extent.hole && Pays(piece.extent.codec)) {
      Entry* last = entries_.empty() ? nullptr : entries_.back().get();
      if (last != nullptr && last->end == pos &&
          SameFrame(last->piece.extent, piece.extent)) {
        last->end = end;  // one frame, resolved in two pieces
      } else {
        std::unique_ptr<Entry> e;
        if (spare_.empty()) {
          e = std::make_unique<Entry>();
        } else {
          e = std::move(spare_.back());
          spare_.pop_back();
          spare_bytes_ -= e->payload.capacity();
          e->state = Entry::State::kPending;
        }
        e->start = pos;
        e->end = end;
        bytes_ += piece.extent.raw_len;
        e->piece = std::move(piece);
        entries_.push_back(std::move(e));
      }
    }
    pos = end;
  }
  cursor_ = pos;
  if (pos - from < kResolveBytes) at_end_ = true;
  reader_cv_.notify_one();
}

}  // namespace segwal
