#include "tool/report.h"

#include <cstdio>

#include "tool/output.h"

namespace segwal {
namespace tool {

using rocksdb::IOStatus;

std::string DamageLine(const Damage& d) {
  // Damage in no one segment (a logical file's missing bytes) has no place.
  std::string out = d.segment_id == 0
                        ? std::string()
                        : "segment " + std::to_string(d.segment_id) +
                              " offset " + std::to_string(d.offset) + ": ";
  out += std::string(DamageKindName(d.kind)) + ": " + Printable(d.reason, 1024);
  if (d.bytes > 0) out += " (" + std::to_string(d.bytes) + " bytes)";
  return out;
}

Json DamageJson(const Damage& d) {
  Json j = Json::Object();
  j.Set("kind", DamageKindName(d.kind));
  j.Set("segment", d.segment_id);
  j.Set("offset", d.offset);
  j.Set("bytes", d.bytes);
  j.Set("reason", d.reason);
  return j;
}

double ScanGibPerSecond(const RecoveryInfo& info) {
  if (info.elapsed_micros == 0) return 0;
  return static_cast<double>(info.bytes_scanned) / (1ull << 30) /
         (static_cast<double>(info.elapsed_micros) / 1e6);
}

Json ScanStatsJson(const RecoveryInfo& info) {
  Json j = Json::Object();
  j.Set("segments_scanned", info.segments_scanned);
  j.Set("frames", info.frames);
  j.Set("frame_bytes", info.valid_bytes);
  j.Set("bytes_scanned", info.bytes_scanned);
  j.Set("elapsed_us", info.elapsed_micros);
  j.Set("throughput_gib_per_s", ScanGibPerSecond(info));
  return j;
}

std::string ScanStatsLine(const RecoveryInfo& info) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%llu segments, %llu frames, %s read in %.3f ms: %.2f GiB/s",
                static_cast<unsigned long long>(info.segments_scanned),
                static_cast<unsigned long long>(info.frames),
                HumanBytes(info.bytes_scanned).c_str(),
                static_cast<double>(info.elapsed_micros) / 1e3,
                ScanGibPerSecond(info));
  return buf;
}

namespace {

std::string FileName(ToolScan* scan, uint64_t id) {
  const LogicalFile* f = scan->result.table.FindById(id);
  return f != nullptr ? f->name : "#" + std::to_string(id);
}

Json Ids(const std::vector<uint64_t>& ids) {
  Json j = Json::Array();
  for (uint64_t id : ids) j.Push(id);
  return j;
}

std::string IdList(const std::vector<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

}  // namespace

Json ReopenJson(RecoveryMode mode, const IOStatus& status, ToolScan* scan) {
  Json j = Json::Object();
  j.Set("mode", RecoveryModeName(mode));
  j.Set("opens", status.ok());
  if (!status.ok()) {
    j.Set("error", status.ToString());
    return j;
  }
  Json torn = Json::Null();
  if (scan->torn) {
    torn = DamageJson(scan->torn_tail);
    torn.Set("bytes_cut", scan->info.bytes_cut);
  }
  j.Set("torn_tail", torn);
  Json damages = Json::Array();
  for (const Damage& d : scan->damages) damages.Push(DamageJson(d));
  j.Set("damages", damages);
  j.Set("set_aside_segments", Ids(scan->result.quarantine));
  j.Set("unused_segments", Ids(scan->result.unused_segments));
  Json repairs = Json::Array();
  for (const Repair& r : scan->result.repairs) {
    Json rj = Json::Object();
    rj.Set("file", FileName(scan, r.file_id));
    rj.Set("start", r.start);
    rj.Set("end", r.end);
    rj.Set("action", r.zero_fill ? "zero_fill" : "cut");
    repairs.Push(rj);
  }
  j.Set("repairs", repairs);
  return j;
}

void PrintReopen(RecoveryMode mode, const IOStatus& status, ToolScan* scan) {
  std::printf("recovery on reopen (%s):\n", RecoveryModeName(mode));
  if (!status.ok()) {
    std::printf("  the open fails: %s\n", status.ToString().c_str());
    return;
  }
  if (scan->torn) {
    std::printf("  torn tail: cut %llu bytes at segment %llu offset %llu\n",
                static_cast<unsigned long long>(scan->info.bytes_cut),
                static_cast<unsigned long long>(scan->torn_tail.segment_id),
                static_cast<unsigned long long>(scan->torn_tail.offset));
  } else {
    std::printf("  torn tail: none\n");
  }
  if (scan->damages.empty()) std::printf("  damage: none\n");
  for (const Damage& d : scan->damages) {
    std::printf("  damage: %s\n", DamageLine(d).c_str());
  }
  if (!scan->result.quarantine.empty()) {
    std::printf("  segments set aside (*.seg.quarantined): %s\n",
                IdList(scan->result.quarantine).c_str());
  }
  if (!scan->result.unused_segments.empty()) {
    std::printf("  unused segments kept for reuse: %s\n",
                IdList(scan->result.unused_segments).c_str());
  }
  for (const Repair& r : scan->result.repairs) {
    std::printf("  file %s: %s [%llu, %llu)\n",
                Printable(FileName(scan, r.file_id)).c_str(),
                r.zero_fill ? "zero-fills" : "cut at the hole",
                static_cast<unsigned long long>(r.start),
                static_cast<unsigned long long>(r.end));
  }
}

std::vector<FileSummary> SummarizeFiles(FileTable* table) {
  std::vector<FileSummary> out;
  for (const FileInfo& info : table->List()) {
    FileSummary f;
    f.id = info.id;
    f.name = info.name;
    f.size = info.size;
    if (const LogicalFile* file = table->FindById(info.id)) {
      f.extents = file->extents.size();
      for (const auto& run : file->extents) {
        if (!run.second.hole) f.covered_bytes += run.second.length;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string SizeProblem(const FileSummary& f) {
  if (f.size <= f.covered_bytes + kMaxUncoveredBytes) return "";
  return "claims " + std::to_string(f.size) + " bytes but its frames hold " +
         std::to_string(f.covered_bytes) + ": a damaged or crafted size";
}

}  // namespace tool
}  // namespace segwal
