// What several subcommands say about a scan: damage, the recovery a reopen
// would perform, the logical files; as text lines and as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tool/json.h"
#include "tool/log_scan.h"

namespace segwal {
namespace tool {

// "segment S offset O: <kind>: <reason> (N bytes not replayed)".
std::string DamageLine(const Damage& damage);
Json DamageJson(const Damage& damage);

// Scan throughput of `info` in GiB/s (0 when too fast to time).
double ScanGibPerSecond(const RecoveryInfo& info);
Json ScanStatsJson(const RecoveryInfo& info);
std::string ScanStatsLine(const RecoveryInfo& info);

// What a reopen in `mode` would do, from a scan under that mode's policy
// (`status` its outcome): the torn tail cut, segments set aside, unused
// segments freed, files repaired; or the failure.
Json ReopenJson(RecoveryMode mode, const rocksdb::IOStatus& status,
                ToolScan* scan);
void PrintReopen(RecoveryMode mode, const rocksdb::IOStatus& status,
                 ToolScan* scan);

// A logical file as a scan found it.
struct FileSummary {
  uint64_t id = 0;
  std::string name;
  uint64_t size = 0;
  uint64_t extents = 0;
  uint64_t covered_bytes = 0;  // bytes of the file that frames hold
};
std::vector<FileSummary> SummarizeFiles(FileTable* table);

// A file may claim more bytes than its frames hold (zeros after a growing
// truncate, holes zero-filled by recovery); past kMaxUncoveredBytes it is a
// damaged or crafted size, not worth writing zeros for. Why `f` is not
// written out, or empty.
constexpr uint64_t kMaxUncoveredBytes = 128ull << 20;
std::string SizeProblem(const FileSummary& f);

}  // namespace tool
}  // namespace segwal
