// segwal info LOG_DIR: what a log holds and what reopening it would do.
#include <sys/stat.h>

#include <cstdio>
#include <map>

#include "env/format/codec.h"
#include "env/format/file_names.h"
#include "env/fs/wal_path.h"
#include "env/storage/storage.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/frame_walker.h"
#include "tool/lock_holder.h"
#include "tool/output.h"
#include "tool/report.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

struct SegmentRow {
  uint64_t id = 0;
  std::string state;
  uint64_t file_size = 0;
  uint64_t used = 0;
  uint64_t live = 0;
};

struct CodecUse {
  uint64_t frames = 0;
  uint64_t stored = 0;
  uint64_t raw = 0;
};

bool Contains(const std::vector<uint64_t>& ids, uint64_t id) {
  for (uint64_t x : ids) {
    if (x == id) return true;
  }
  return false;
}

// Every segment file of the directory with its state.
std::vector<SegmentRow> Segments(const std::string& dir, ToolScan* scan) {
  std::vector<std::string> names;
  PosixStorage()->ListDir(dir, &names).PermitUncheckedError();
  std::map<uint64_t, SegmentRow> rows;
  const ScanResult& r = scan->result;
  for (const std::string& name : names) {
    uint64_t id = 0;
    const LogFileKind kind = ClassifyLogFile(name, &id);
    SegmentRow row;
    row.id = id;
    switch (kind) {
      case LogFileKind::kSegment:
        row.state = Contains(r.unused_segments, id) ? "unused"
                    : Contains(r.quarantine, id)    ? "damaged"
                                                    : "unscanned";
        break;
      case LogFileKind::kFreeSegment:
        row.state = "free";
        break;
      case LogFileKind::kQuarantined:
        row.state = "quarantined";
        break;
      default:
        continue;
    }
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) == 0) {
      row.file_size = static_cast<uint64_t>(st.st_size);
    }
    if (kind == LogFileKind::kQuarantined && rows.count(id) > 0) continue;
    rows[id] = row;
  }
  for (size_t i = 0; i < r.segments.size(); ++i) {
    SegmentRow& row = rows[r.segments[i].id];
    row.id = r.segments[i].id;
    row.state = i + 1 == r.segments.size() ? "head" : "sealed";
    row.used = r.segments[i].end;
    row.live = r.table.LiveBytes(row.id);
  }
  std::vector<SegmentRow> out;
  for (auto& entry : rows) out.push_back(entry.second);
  return out;
}

IOStatus CodecUses(const ScanResult& r, std::map<Codec, CodecUse>* uses) {
  for (const ScannedSegment& seg : r.segments) {
    FrameWalker walker(seg);
    WalkedFrame f;
    IOStatus s;
    while (walker.Next(&f, &s)) {
      if (f.damaged || !f.payload_ok || !IsDataFrame(f.header.type)) continue;
      CodecUse& u = (*uses)[f.header.codec];
      ++u.frames;
      u.stored += f.header.stored_len;
      u.raw += f.header.raw_len;
    }
    if (!s.ok()) return s;
  }
  return IOStatus::OK();
}

// A 64-bit id as "0x..." (JSON numbers lose precision past 2^53).
std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx",
                static_cast<unsigned long long>(v));
  return buf;
}

// The directory a logical file belongs to in a shared log (names are
// absolute paths there); empty in a log per directory.
std::string OwnerOf(const std::string& name) {
  if (name.empty() || name[0] != '/') return "";
  return IsWalFileName(name) ? WalOwnerDir(name) : DirName(name);
}

int Run(const std::vector<std::string>& args) {
  const std::string dir = NormalizePath(args[0]);
  std::string error;
  if (!IsLogDir(dir, &error)) return Fail("info", kExitError, error);
  RecoveryMode mode;
  if (!RecoveryModeFlag(RecoveryMode::kTolerateCorruptedTailRecords, &mode,
                        &error)) {
    return Fail("info", kExitError, error);
  }
  ToolScan reopen;
  const IOStatus reopen_status =
      ScanForTool(dir, mode, ScanPolicy::kMode, &reopen);
  if (!reopen_status.ok() && !reopen_status.IsCorruption()) {
    return Fail("info", kExitError, reopen_status.ToString());
  }
  // A log the mode refuses to open is still shown whole.
  ToolScan whole;
  ToolScan* shown = &reopen;
  if (!reopen_status.ok()) {
    IOStatus s = ScanForTool(dir, mode, ScanPolicy::kKeepGoing, &whole);
    if (!s.ok()) return Fail("info", kExitError, s.ToString());
    shown = &whole;
  }
  const ScanResult& r = shown->result;
  const std::vector<SegmentRow> segments = Segments(dir, shown);
  const std::vector<FileSummary> files = SummarizeFiles(&shown->result.table);
  std::map<Codec, CodecUse> codecs;
  IOStatus s = CodecUses(r, &codecs);
  if (!s.ok()) return Fail("info", kExitError, s.ToString());
  const LockHolder lock = FindLockHolder(dir + "/" + kLockFileName);

  uint64_t total = 0, used = 0, disk = 0, logical = 0;
  for (const ScannedSegment& seg : r.segments) {
    total += seg.header.segment_size;
    used += seg.end;
  }
  for (const SegmentRow& row : segments) disk += row.file_size;
  std::map<std::string, std::pair<uint64_t, uint64_t>> owners;
  for (const FileSummary& f : files) {
    logical += f.size;
    const std::string owner = OwnerOf(f.name);
    if (!owner.empty()) {
      ++owners[owner].first;
      owners[owner].second += f.size;
    }
  }
  const bool healthy = reopen_status.ok() && shown->damages.empty();

  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("log_dir", dir);
    Json lj = Json::Object();
    lj.Set("held", lock.held);
    if (lock.held) {
      lj.Set("pid", lock.pid);
      lj.Set("cmdline", lock.cmdline);
    }
    j.Set("lock", lj);
    j.Set("log_uid", Hex(r.log_uid));
    j.Set("format_version", kFormatVersion);
    Json sj = Json::Array();
    for (const SegmentRow& row : segments) {
      Json o = Json::Object();
      o.Set("id", row.id);
      o.Set("state", row.state);
      o.Set("size", row.file_size);
      o.Set("used", row.used);
      o.Set("live", row.live);
      sj.Push(o);
    }
    j.Set("segments", sj);
    Json fj = Json::Array();
    for (const FileSummary& f : files) {
      Json o = Json::Object();
      o.Set("name", f.name);
      o.Set("id", f.id);
      o.Set("size", f.size);
      o.Set("extents", f.extents);
      fj.Push(o);
    }
    j.Set("files", fj);
    Json dj = Json::Array();
    for (const auto& [owner, use] : owners) {
      Json o = Json::Object();
      o.Set("directory", owner);
      o.Set("files", use.first);
      o.Set("bytes", use.second);
      dj.Push(o);
    }
    j.Set("directories", dj);
    Json cj = Json::Array();
    for (const auto& [codec, use] : codecs) {
      Json o = Json::Object();
      o.Set("codec", CodecName(codec));
      o.Set("data_frames", use.frames);
      o.Set("stored_bytes", use.stored);
      o.Set("raw_bytes", use.raw);
      cj.Push(o);
    }
    j.Set("codecs", cj);
    Json bj = Json::Object();
    bj.Set("live", r.table.TotalLiveBytes());
    bj.Set("total", total);
    bj.Set("used", used);
    bj.Set("on_disk", disk);
    bj.Set("logical", logical);
    bj.Set("frames", shown->info.valid_bytes);
    j.Set("bytes", bj);
    Json rj = ReopenJson(mode, reopen_status, &reopen);
    rj.Set("scan", ScanStatsJson(shown->info));
    if (!reopen_status.ok()) {
      Json all = Json::Array();
      for (const Damage& d : whole.damages) all.Push(DamageJson(d));
      rj.Set("damages", all);
    }
    j.Set("recovery", rj);
    j.Set("healthy", healthy);
    PrintJson(j);
    return healthy ? kExitHealthy : kExitDamage;
  }

  std::printf("log %s\n", Printable(dir).c_str());
  std::printf("  lock: %s\n", lock.held ? lock.Describe().c_str() : "free");
  std::printf("  uid %s, format version %u\n", Hex(r.log_uid).c_str(),
              kFormatVersion);
  std::printf("segments: %zu\n", segments.size());
  Table st({"ID", "STATE", "SIZE", "USED", "LIVE"});
  for (const SegmentRow& row : segments) {
    st.Row({std::to_string(row.id), row.state, std::to_string(row.file_size),
            std::to_string(row.used), std::to_string(row.live)});
  }
  if (!segments.empty()) st.Print(stdout);
  std::printf("logical files: %zu, %s\n", files.size(),
              HumanBytes(logical).c_str());
  Table ft({"NAME", "SIZE", "EXTENTS"});
  for (const FileSummary& f : files) {
    ft.Row(
        {Printable(f.name), std::to_string(f.size), std::to_string(f.extents)});
  }
  if (!files.empty()) ft.Print(stdout);
  if (!owners.empty()) {
    std::printf("directories (a shared log):\n");
    Table ot({"DIRECTORY", "FILES", "BYTES"});
    for (const auto& [owner, use] : owners) {
      ot.Row({Printable(owner), std::to_string(use.first),
              std::to_string(use.second)});
    }
    ot.Print(stdout);
  }
  std::printf("codecs (data frames):\n");
  Table ct({"CODEC", "FRAMES", "STORED", "RAW"});
  for (const auto& [codec, use] : codecs) {
    ct.Row({CodecName(codec), std::to_string(use.frames),
            std::to_string(use.stored), std::to_string(use.raw)});
  }
  if (!codecs.empty()) ct.Print(stdout);
  std::printf(
      "space: live %llu of %llu bytes in segments (%llu used, %llu "
      "on disk)\n",
      static_cast<unsigned long long>(r.table.TotalLiveBytes()),
      static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(used),
      static_cast<unsigned long long>(disk));
  std::printf("bytes: logical %llu, frames %llu\n",
              static_cast<unsigned long long>(logical),
              static_cast<unsigned long long>(shown->info.valid_bytes));
  PrintReopen(mode, reopen_status, &reopen);
  if (!reopen_status.ok()) {
    for (const Damage& d : whole.damages) {
      std::printf("  damage: %s\n", DamageLine(d).c_str());
    }
  }
  std::printf("  scan: %s\n", ScanStatsLine(shown->info).c_str());
  std::printf("%s\n", healthy ? "healthy" : "DAMAGED");
  return healthy ? kExitHealthy : kExitDamage;
}

}  // namespace

extern const Command kInfoCommand = {
    "info",
    "what a log holds, and what reopening it would do",
    "usage: segwal info LOG_DIR [--recovery_mode=MODE] [--json]\n"
    "\n"
    "Scans the log in LOG_DIR with segwal's own recovery scanner, without\n"
    "changing anything, and prints:\n"
    "  - its segments (id, state, file size, bytes used, live bytes);\n"
    "    states: head (written now), sealed, unused (prepared), free\n"
    "    (reclaimed, kept for reuse), quarantined (set aside), damaged;\n"
    "  - its logical files (name, size, extents), per directory for a log\n"
    "    shared by several DBs;\n"
    "  - the codecs of its data frames, live and total bytes, logical and\n"
    "    frame bytes;\n"
    "  - the recovery a reopen in MODE would perform (torn tail cut,\n"
    "    damage, segments set aside) and the scan's throughput;\n"
    "  - whether a process holds the log (its pid and command line).\n"
    "A log another process is writing is read as it was at the scan.\n"
    "\n"
    "Exit status: 0 healthy (a torn tail is healthy: every open cuts it),\n"
    "1 damage found, 2 usage or I/O error.\n"
    "\n"
    "example: segwal info /data/db/segwal\n",
    {"json", "recovery_mode"},
    1,
    1,
    Run,
};

}  // namespace tool
}  // namespace segwal
