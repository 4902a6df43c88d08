// Moving WAL data out of segwal, so that a DB opens with stock RocksDB.
#pragma once

#include <string>
#include <vector>

#include "options/segwal_options.h"
#include "rocksdb/io_status.h"

namespace segwal {

// Appended to a WAL's path for the temporary file an export writes first.
constexpr char kExportTempSuffix[] = ".segwal-export";

// Writes every logical WAL of `wal_dir` (and of its "archive/") back to a
// plain file at its path, synced, then deletes it from the log. `options`
// must name the log as the DB's FileSystem did (log_dir set or not). When
// the per-directory log ("<wal_dir>/segwal") ends up empty, it is removed.
// The DB must be closed: if another process holds the log, nothing is
// written (IOError). *exported (optional) receives the paths written.
//
// Each file is written to a temporary name, synced and renamed into place
// before its logical copy is deleted: a crash leaves either the logical
// file, or both with the same bytes (segwal reads the logical one).
rocksdb::IOStatus ExportLogicalWals(const std::string& wal_dir,
                                    const SegWalOptions& options,
                                    std::vector<std::string>* exported);

}  // namespace segwal
