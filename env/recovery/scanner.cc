#include "env/recovery/scanner.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "env/format/file_names.h"
#include "env/recovery/frame_check.h"
#include "env/recovery/segment_window.h"

namespace segwal {
namespace {

// A slide of the window onto a segment carries over at most one largest
// data frame (a larger frame, a snapshot, is read anew where it starts).
constexpr size_t kScanCarry = kMaxDataFramePayload + 2 * kMaxFrameHeaderSize;
constexpr size_t kLargestHeader =
    std::max<size_t>(kFrameHeaderSizeV1, kMaxFrameHeaderSize);

class Scanner {
 public:
  Scanner(Storage* storage, std::string dir, DamageReporter* reporter,
          ScanResult* result, RecoveryInfo* info, size_t read_chunk)
      : storage_(storage),
        dir_(std::move(dir)),
        reporter_(reporter),
        result_(result),
        info_(info),
        window_(read_chunk, kScanCarry) {}

  IOStatus Run();

 private:
  struct Candidate {
    uint64_t id = 0;
    HeaderCheck check = HeaderCheck::kZero;
    SegmentHeader header;
    std::shared_ptr<StorageFile> file;
    bool chained = false;  // its header names the previous active segment
  };

  IOStatus LoadCandidates(std::vector<Candidate>* candidates);
  IOStatus ClassifyHeaders(std::vector<Candidate>* candidates,
                           std::vector<Candidate>* active);
  // What the scan of one segment reads, decided before it is read: where
  // its frames must end when it is sealed (0: the newest segment, tail
  // rules apply), the file's size, and how many bytes stand for the file
  // (0: none are read).
  struct Plan {
    uint64_t bound = 0;
    uint64_t file_size = 0;
    uint64_t held = 0;
  };
  // The bytes ScanSegment needs of a segment whose frames end by `limit`:
  // the file's, then zeros up to one largest frame past its end.
  static uint64_t HeldBytes(uint64_t file_size, uint64_t limit);
  // Scans one segment through window_. Sets *stopped when the reporter
  // ends recovery inside it.
  IOStatus ScanSegment(ScannedSegment* seg, const Plan& plan, bool* stopped);
  // ScanSegment's walk over the frames before `limit`, window_ on the
  // segment.
  IOStatus ScanFrames(ScannedSegment* seg, uint64_t limit, bool sealed,
                      bool* stopped);
  // CheckFrame of the frame at segment offset `pos` (frames ending by
  // `limit`), window_ made to hold all of it first. *valid tells.
  IOStatus CheckAt(uint32_t version, uint64_t pos, uint64_t limit,
                   uint32_t seed, FrameHeader* h, FrameFault* fault,
                   bool* valid);
  // PastZeros from segment offset `pos`, through window_.
  IOStatus PastZerosAt(uint64_t pos, uint64_t step, uint64_t min_header,
                       uint64_t* past);
  // Where segment i's frames must end (0: the newest), by its successor.
  static uint64_t BoundOf(const std::vector<Candidate>& active, size_t i);
  static uint64_t LimitOf(const Candidate& c, uint64_t bound);
  // The newest segment's frames stop at `pos` (for `fault`): a clean end,
  // a torn tail, or damage (*action then says what the reporter decided).
  // *later_frames tells whether any frame past `pos` checks out.
  IOStatus ExamineTail(const ScannedSegment& seg, uint64_t pos,
                       uint32_t seed, const FrameFault& fault,
                       const FrameHeader& h, bool* damaged,
                       bool* later_frames, DamageAction* action);
  // Tells the reporter; returns the failure if it says kFail, else records
  // the damage as passed and sets *action.
  IOStatus Report(Damage damage, DamageAction* action);
  // Whether a version-2 header whose own check passed (but whose frame did
  // not) could be the frame the writer was writing when it stopped: one
  // that follows the table as it is. A 16-bit check alone would take one
  // stale frame in 65,536 (a recycled segment's old life) for a torn one.
  bool PlausibleAtTheTail(const FrameHeader& h);
  IOStatus Failure(const Damage& damage) const;
  IOStatus CheckFiles();
  std::string SegmentPath(uint64_t id) const {
    return dir_ + "/" + SegmentFileName(id);
  }

  Storage* const storage_;
  const std::string dir_;
  DamageReporter* const reporter_;
  ScanResult* const result_;
  RecoveryInfo* const info_;
  SegmentWindow window_;  // the segment being scanned
  bool need_snapshot_ = false;
  // Damage was skipped: data frames may now lie past their file's end (the
  // skipped frames held the bytes between).
  bool skipped_any_ = false;
};

IOStatus Scanner::Failure(const Damage& damage) const {
  IOStatus s = IOStatus::Corruption("segwal log " + dir_ + ": " +
                                    damage.ToString() + " (" +
                                    reporter_->Advice(damage) + ")");
  s.SetDataLoss(true);
  return s;
}

IOStatus Scanner::Report(Damage damage, DamageAction* action) {
  *action = reporter_->OnDamage(damage);
  if (*action == DamageAction::kFail) return Failure(damage);
  if (*action == DamageAction::kSkip) skipped_any_ = true;
  info_->damages.push_back(std::move(damage));
  return IOStatus::OK();
}

bool Scanner::PlausibleAtTheTail(const FrameHeader& h) {
  const FileTable& table = result_->table;
  const LogicalFile* file = result_->table.FindById(h.file_id);
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::kData:
    case FrameType::kRelocatedData:
      return file != nullptr && h.has_offset && h.offset <= file->size;
    case FrameType::kCreate:
    case FrameType::kLink:
      return h.file_id >= table.next_file_id();
    case FrameType::kRename:
    case FrameType::kDelete:
    case FrameType::kTruncate:
      return file != nullptr;
    case FrameType::kSnapshot:
      return false;  // only ever the first frame, written with the header
  }
  return false;
}

IOStatus Scanner::LoadCandidates(std::vector<Candidate>* candidates) {
  std::vector<std::string> names;
  IOStatus s = storage_->ListDir(dir_, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    uint64_t id = 0;
    switch (ClassifyLogFile(name, &id)) {
      case LogFileKind::kSegment: {
        Candidate c;
        c.id = id;
        candidates->push_back(std::move(c));
        break;
      }
      case LogFileKind::kFreeSegment:
        result_->free_segments.push_back(id);
        break;
      case LogFileKind::kQuarantined: break;
      default: continue;
    }
    result_->max_segment_id = std::max(result_->max_segment_id, id);
  }
  std::sort(candidates->begin(), candidates->end(),
            [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
  std::sort(result_->free_segments.begin(), result_->free_segments.end());

  std::string block(kSegmentHeaderBlock, '\0');
  for (Candidate& c : *candidates) {
    std::unique_ptr<StorageFile> file;
    s = storage_->OpenFile(SegmentPath(c.id), /*create=*/false, &file);
    if (!s.ok()) return s;
    size_t got = 0;
    s = file->Read(0, kSegmentHeaderSize, &block[0], &got);
    if (!s.ok()) return s;
    uint32_t version = 0;
    c.check = DecodeSegmentHeader(block.data(), got, &c.header, &version);
    if (c.check == HeaderCheck::kBadVersion) {
      return IOStatus::NotSupported(
          "segment " + SegmentPath(c.id) + " has format version " +
          std::to_string(version) + "; this segwal reads versions " +
          std::to_string(kOldestFormatVersion) + " to " +
          std::to_string(kFormatVersion) +
          ": open the log with a segwal release that reads version " +
          std::to_string(version));
    }
    c.file = std::move(file);
  }
  return IOStatus::OK();
}

// Sorts candidates into active segments (a valid header naming the file's
// own id), unused ones past the newest active segment (never written, or a
// recycled segment still carrying its old header) and damage.
IOStatus Scanner::ClassifyHeaders(std::vector<Candidate>* candidates,
                                  std::vector<Candidate>* active) {
  auto is_active = [](const Candidate& c) {
    return c.check == HeaderCheck::kValid && c.header.segment_id == c.id;
  };
  // Never written in this life: zero (or cut short by a process that died
  // while preparing it), or recycled and still naming its old id.
  auto is_unused = [](const Candidate& c) {
    return c.check == HeaderCheck::kZero ||
           c.check == HeaderCheck::kTooShort ||
           (c.check == HeaderCheck::kValid && c.header.segment_id < c.id);
  };
  const auto header_damage = [](const Candidate& c, std::string reason) {
    return Damage{DamageKind::kSegmentHeader, c.id, 0, 0, std::move(reason)};
  };
  DamageAction action = DamageAction::kSkip;
  size_t newest = candidates->size();
  for (size_t i = 0; i < candidates->size(); ++i) {
    if (is_active((*candidates)[i])) newest = i;
  }
  if (newest == candidates->size()) {
    for (const Candidate& c : *candidates) {
      if (is_unused(c) || c.check == HeaderCheck::kValid) {
        result_->unused_segments.push_back(c.id);
        continue;
      }
      IOStatus s = Report(header_damage(c, std::string("segment header: ") +
                                               HeaderCheckName(c.check)),
                          &action);
      if (!s.ok()) return s;
      result_->quarantine.push_back(c.id);
    }
    return IOStatus::OK();
  }
  result_->log_uid = (*candidates)[newest].header.log_uid;

  bool stopped = false;
  for (size_t i = 0; i < candidates->size(); ++i) {
    Candidate& c = (*candidates)[i];
    if (stopped) {
      if ((i > newest || !is_active(c)) && is_unused(c)) {
        result_->unused_segments.push_back(c.id);
        continue;
      }
      result_->quarantine.push_back(c.id);
      continue;
    }
    if (i > newest && is_unused(c)) {
      result_->unused_segments.push_back(c.id);
      continue;
    }
    Damage damage;
    if (!is_active(c)) {
      damage = header_damage(
          c, c.check == HeaderCheck::kZero
                 ? "segment header never written, yet later segments exist"
             : c.check == HeaderCheck::kValid
                 ? "segment header names segment " +
                       std::to_string(c.header.segment_id)
                 : std::string("segment header: ") + HeaderCheckName(c.check));
    } else if (c.header.log_uid != result_->log_uid) {
      damage = Damage{DamageKind::kForeignSegment, c.id, 0, 0,
                      "segment belongs to another log (uid " +
                          std::to_string(c.header.log_uid) + ", this log " +
                          std::to_string(result_->log_uid) + ")"};
    } else if (c.header.segment_size < kMinSegmentSize ||
               c.header.segment_size > kMaxSegmentSize) {
      damage = header_damage(c, "segment header has an impossible size " +
                                    std::to_string(c.header.segment_size));
    }
    if (damage.reason.empty()) {
      if (!active->empty()) {
        const Candidate& prev = active->back();
        c.chained = c.header.prev_segment_id == prev.id;
        if (!c.chained) {
          const bool missing = c.header.prev_segment_id > prev.id;
          Damage broken{
              missing ? DamageKind::kMissingSegment : DamageKind::kBrokenChain,
              c.id, 0, 0,
              missing ? "segment " + std::to_string(c.header.prev_segment_id) +
                            " is missing (named as predecessor by segment " +
                            std::to_string(c.id) + ")"
                      : "segment header names predecessor " +
                            std::to_string(c.header.prev_segment_id) +
                            " but segment " + std::to_string(prev.id) +
                            " precedes it"};
          IOStatus s = Report(std::move(broken), &action);
          if (!s.ok()) return s;
          if (action == DamageAction::kStop) {
            stopped = true;
            result_->quarantine.push_back(c.id);
            continue;
          }
        }
      }
      active->push_back(c);
      continue;
    }
    IOStatus s = Report(std::move(damage), &action);
    if (!s.ok()) return s;
    result_->quarantine.push_back(c.id);
    if (action == DamageAction::kStop) stopped = true;
  }
  return IOStatus::OK();
}

uint64_t Scanner::HeldBytes(uint64_t file_size, uint64_t limit) {
  // A short file reads as zeros past its end. Hold the file's bytes and one
  // largest frame of those zeros, not the whole segment the header claims
  // (up to kMaxSegmentSize: a damaged header must not cost 4 GiB).
  return std::min<uint64_t>(
      limit, std::max<uint64_t>(file_size, kSegmentHeaderBlock) +
                 kMaxDataFramePayload + 2 * kMaxFrameHeaderSize);
}

IOStatus Scanner::CheckAt(uint32_t version, uint64_t pos, uint64_t limit,
                          uint32_t seed, FrameHeader* h, FrameFault* fault,
                          bool* valid) {
  // CheckFrame reads what lies past the bytes it is given as zeros, which
  // holds past window_.held() only: the window must hold the whole frame.
  // Its header first; then, for a frame running past the window, the rest.
  IOStatus s = window_.Hold(pos, kLargestHeader);
  if (!s.ok()) return s;
  const auto check = [&] {
    return CheckFrame(version, window_.bytes(), window_.start(),
                      pos - window_.start(), limit - window_.start(), seed, h,
                      fault);
  };
  *valid = check();
  if (*valid || !fault->header_ok || window_.end() >= window_.held()) {
    return IOStatus::OK();
  }
  const uint64_t frame_end = pos + h->header_len + h->stored_len;
  if (frame_end > window_.end()) {
    s = window_.Hold(pos, frame_end - pos);
    if (!s.ok()) return s;
    *valid = check();
  }
  return IOStatus::OK();
}

IOStatus Scanner::PastZerosAt(uint64_t pos, uint64_t step,
                              uint64_t min_header, uint64_t* past) {
  // A window ending inside a run of zeros stops PastZeros short of the
  // run's end, never past it; the caller comes back from there.
  IOStatus s = window_.Hold(pos, min_header);
  if (!s.ok()) return s;
  *past = window_.start() + PastZeros(window_.bytes(), pos - window_.start(),
                                      step, min_header);
  return IOStatus::OK();
}

uint64_t Scanner::BoundOf(const std::vector<Candidate>& active, size_t i) {
  const bool has_next = i + 1 < active.size() && active[i + 1].chained;
  return has_next ? active[i + 1].header.prev_segment_end : 0;
}

uint64_t Scanner::LimitOf(const Candidate& c, uint64_t bound) {
  const uint64_t size = c.header.segment_size;
  if (bound == 0) return size;
  // A sealed end outside the segment is damage (ScanSegment reads nothing).
  return bound < kSegmentHeaderBlock || bound > size ? 0 : bound;
}

IOStatus Scanner::ScanSegment(ScannedSegment* seg, const Plan& plan,
                              bool* stopped) {
  const uint64_t bound = plan.bound;
  const bool sealed = bound != 0;
  const uint64_t size = seg->header.segment_size;
  const uint64_t limit = sealed ? bound : size;
  if (sealed && (bound < kSegmentHeaderBlock || bound > size)) {
    DamageAction action = DamageAction::kSkip;
    IOStatus s = Report(Damage{DamageKind::kBadSealedEnd, seg->id, 0, 0,
                               "sealed end " + std::to_string(bound) +
                                   " lies outside the segment"},
                        &action);
    if (!s.ok()) return s;
    *stopped = action == DamageAction::kStop;
    seg->end = kSegmentHeaderBlock;
    return IOStatus::OK();
  }
  seg->file_size = plan.file_size;
  info_->bytes_scanned += std::min(plan.file_size, plan.held);
  ++info_->segments_scanned;
  window_.Reset(seg->file.get(), plan.file_size, plan.held,
                kSegmentHeaderBlock);
  IOStatus s = ScanFrames(seg, limit, sealed, stopped);
  window_.Release();  // no read of the file may outlive the scan of it
  return s;
}

IOStatus Scanner::ScanFrames(ScannedSegment* seg, uint64_t limit, bool sealed,
                             bool* stopped) {
  const uint32_t seed = SegmentSeed(seg->header.log_uid, seg->id);
  DamageAction action = DamageAction::kSkip;
  IOStatus s;
  const uint32_t version = seg->header.version;
  const uint64_t step = FrameAlignment(version);
  const uint64_t min_header = MinFrameHeaderSize(version);
  const FrameLocation where{seg->id, 0, seg->header.created_unix_time};
  GroupTails groups;  // a group never leaves its segment
  uint64_t pos = kSegmentHeaderBlock;
  while (pos < limit) {
    FrameHeader h;
    FrameFault fault;
    bool valid = false;
    s = CheckAt(version, pos, limit, seed, &h, &fault, &valid);
    if (!s.ok()) return s;
    if (valid && need_snapshot_ &&
        h.type != static_cast<uint8_t>(FrameType::kSnapshot)) {
      valid = false;
      fault = FrameFault{DamageKind::kMissingSnapshot,
                         "frames precede the first file-table snapshot: the "
                         "start of the log is missing",
                         true};
    }
    // A frame of a group is only decodable after the group's earlier
    // frames; one whose group is broken is damage of its own, never a torn
    // write (it checks out), and dropping it costs at most the rest of
    // its group.
    GroupTails::iterator kept_tail = groups.end();
    if (valid && IsGroupCodec(h.codec)) {
      valid = FollowsGroup(h, pos, FrameFootprint(version, h), &groups, &fault);
      if (valid) kept_tail = groups.find(pos);
    }
    if (valid && skipped_any_ && IsDataFrame(h.type)) {
      // A skipped frame of this file left a gap before this one: the file
      // lacks those bytes (CheckFiles reports them) but keeps this one.
      const LogicalFile* file = result_->table.FindById(h.file_id);
      if (file != nullptr && h.has_offset && h.offset > file->size &&
          h.offset <= kMaxLogicalFileSize - h.raw_len) {
        result_->table.Grow(h.file_id, h.offset);
      }
    }
    if (valid) {
      FrameLocation at = where;
      at.frame_offset = static_cast<uint32_t>(pos);
      const char* frame = window_.bytes().data() + (pos - window_.start());
      s = result_->table.Apply(h, Slice(frame + h.header_len, h.stored_len),
                               at);
      if (!s.ok() && s.IsNotSupported()) return s;
      if (!s.ok()) {
        valid = false;
        fault = FrameFault{DamageKind::kRejectedFrame, s.ToString(), true};
        if (kept_tail != groups.end()) groups.erase(kept_tail);
      }
    }
    if (valid) {
      if (h.type == static_cast<uint8_t>(FrameType::kSnapshot)) {
        need_snapshot_ = false;
        if (pos == kSegmentHeaderBlock) seg->opens_with_snapshot = true;
      }
      ++info_->frames;
      info_->valid_bytes += FrameFootprint(version, h);
      pos += FrameFootprint(version, h);
      continue;
    }
    if (!sealed && fault.kind != DamageKind::kBrokenGroup) {
      bool damaged = false;
      bool later_frames = false;
      const uint64_t cut_before = info_->bytes_cut;
      s = ExamineTail(*seg, pos, seed, fault, h, &damaged, &later_frames,
                      &action);
      if (!s.ok()) return s;
      if (!damaged) {
        // A torn or clean tail: the log ends here.
        seg->clean_tail = !later_frames && info_->bytes_cut == cut_before;
        break;
      }
    } else {
      const uint64_t lost = fault.kind == DamageKind::kBrokenGroup
                                ? FrameFootprint(version, h)
                                : limit - pos;
      s = Report(Damage{fault.kind, seg->id, pos, lost, fault.reason},
                 &action);
      if (!s.ok()) return s;
    }
    if (action == DamageAction::kStop) {
      *stopped = true;
      break;
    }
    // Skipped: step over the frame if its length is trustworthy (a
    // version-1 header has a checksum of its own), else look for the next
    // frame that checks out.
    uint64_t next = (fault.header_ok && version == 1) ||
                            fault.kind == DamageKind::kBrokenGroup
                        ? pos + FrameFootprint(version, h)
                        : pos + step;
    while (next + min_header <= limit) {
      if (next + min_header > window_.held()) {
        next = limit;  // only zeros beyond the held bytes: no frame there
        break;
      }
      uint64_t past = next;
      s = PastZerosAt(next, step, min_header, &past);
      if (!s.ok()) return s;
      if (past != next) {
        next = past;
        continue;
      }
      FrameHeader probe;
      FrameFault unused;
      bool found = false;
      s = CheckAt(version, next, limit, seed, &probe, &unused, &found);
      if (!s.ok()) return s;
      if (found) break;
      next += step;
    }
    pos = std::min(next, limit);
  }
  seg->end = std::min(pos, limit);
  return IOStatus::OK();
}

// It is a torn tail unless a later frame that checks out records that
// `pos` had already been durable when it was written: then durable bytes
// were damaged.
IOStatus Scanner::ExamineTail(const ScannedSegment& seg, uint64_t pos,
                              uint32_t seed, const FrameFault& fault,
                              const FrameHeader& h, bool* damaged,
                              bool* later_frames, DamageAction* action) {
  const uint64_t limit = window_.held();
  const uint32_t version = seg.header.version;
  const uint64_t step = FrameAlignment(version);
  const uint64_t min_header = MinFrameHeaderSize(version);
  uint64_t probe = pos + step;
  while (probe + min_header <= limit) {
    uint64_t past = probe;
    IOStatus s = PastZerosAt(probe, step, min_header, &past);
    if (!s.ok()) return s;
    if (past != probe) {
      probe = past;
      continue;
    }
    FrameHeader later;
    FrameFault unused;
    bool found = false;
    s = CheckAt(version, probe, limit, seed, &later, &unused, &found);
    if (!s.ok()) return s;
    if (found) {
      *later_frames = true;
      if (later.durable_mark > pos) {
        *damaged = true;
        return Report(
            Damage{DamageKind::kDamagedDurable, seg.id, pos,
                   later.durable_mark - pos,
                   fault.reason +
                       " inside the durable part of the segment (the frame "
                       "at offset " +
                       std::to_string(probe) + " was written after offset " +
                       std::to_string(later.durable_mark) + " was durable)"},
            action);
      }
      probe += FrameFootprint(version, later);
      continue;
    }
    probe += step;
  }
  if (fault.header_ok && (version == 1 || PlausibleAtTheTail(h))) {
    // One of our own frames, cut short or with a damaged payload.
    const uint64_t torn = std::min<uint64_t>(FrameFootprint(version, h),
                                             seg.header.segment_size - pos);
    const Damage tail{DamageKind::kTornTail, seg.id, pos, torn,
                      "torn frame at the tail (" + fault.reason + ")"};
    if (!reporter_->CutTornTail(tail)) {
      *damaged = true;
      return Failure(tail);
    }
    info_->torn_tail = true;
    info_->bytes_cut += torn;
  }
  return IOStatus::OK();
}

// A logical file whose bytes are not all covered lost the frames that held
// them: a missing segment, or frames skipped as damaged. A reporter that
// stops cuts the file there; one that skips gets zeros.
//
// Zero-filling writes the zeros as frames, so it is bounded: at most as many
// bytes as recovery scanned (raw frames hold no more than they occupy) and
// at most kMaxZeroFill. A larger hole (a damaged size, a highly compressed
// frame, whole segments missing) is cut as a reporter that stops would.
IOStatus Scanner::CheckFiles() {
  constexpr uint64_t kMaxZeroFill = 64ull << 20;
  uint64_t fill_budget = std::min(info_->bytes_scanned, kMaxZeroFill);
  uint64_t id, start, end;
  while (result_->table.FindHole(&id, &start, &end)) {
    const LogicalFile* file = result_->table.FindById(id);
    DamageAction action = DamageAction::kStop;
    IOStatus s = Report(
        Damage{DamageKind::kMissingBytes, 0, 0, end - start,
               "logical file " + file->name + " lacks bytes [" +
                   std::to_string(start) + ", " + std::to_string(end) +
                   ") (the frames that held them are missing or damaged)"},
        &action);
    if (!s.ok()) return s;
    const bool zero_fill =
        action == DamageAction::kSkip && end - start <= fill_budget;
    if (zero_fill) fill_budget -= end - start;
    result_->repairs.push_back({id, start, end, zero_fill});
    if (zero_fill) {
      result_->table.FillHole(id, start, end);
      continue;
    }
    FrameHeader cut;
    cut.type = static_cast<uint8_t>(FrameType::kTruncate);
    cut.file_id = id;
    cut.offset = start;
    s = result_->table.Apply(cut, Slice(), FrameLocation{});
    if (!s.ok()) return s;
  }
  return IOStatus::OK();
}

IOStatus Scanner::Run() {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Candidate> candidates, active;
  IOStatus s = LoadCandidates(&candidates);
  if (s.ok()) s = ClassifyHeaders(&candidates, &active);
  if (!s.ok()) return s;

  need_snapshot_ =
      !active.empty() && active.front().header.prev_segment_id != 0;
  for (size_t i = 0; i < active.size(); ++i) {
    Plan plan;
    plan.bound = BoundOf(active, i);
    s = active[i].file->Size(&plan.file_size);
    if (!s.ok()) return s;
    const uint64_t limit = LimitOf(active[i], plan.bound);
    plan.held = limit == 0 ? 0 : HeldBytes(plan.file_size, limit);
    ScannedSegment seg;
    seg.id = active[i].id;
    seg.header = active[i].header;
    seg.file = active[i].file;
    bool stopped = false;
    s = ScanSegment(&seg, plan, &stopped);
    if (!s.ok()) return s;
    result_->segments.push_back(std::move(seg));
    if (stopped) {
      for (size_t j = i + 1; j < active.size(); ++j) {
        result_->quarantine.push_back(active[j].id);
      }
      break;
    }
  }
  s = CheckFiles();
  if (!s.ok()) return s;
  info_->files = result_->table.List().size();
  info_->elapsed_micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started)
          .count());
  return IOStatus::OK();
}

}  // namespace

IOStatus ScanLog(Storage* storage, const std::string& dir,
                 DamageReporter* reporter, ScanResult* result,
                 RecoveryInfo* info, size_t read_chunk) {
  return Scanner(storage, dir, reporter, result, info, read_chunk).Run();
}

IOStatus ScanLog(Storage* storage, const std::string& dir, RecoveryMode mode,
                 ScanResult* result, RecoveryInfo* info) {
  RecoveryModePolicy policy(mode);
  return ScanLog(storage, dir, &policy, result, info);
}

}  // namespace segwal
