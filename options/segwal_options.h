// The options of a segwal FileSystem, as RocksDB's option machinery sees
// them: `id=segwal;log_dir=/fast/wal;sync_mode=group;segment_size=64M`.
//
// Every option, its default, range and meaning is in README "Options".
#pragma once

#include <string>
#include <unordered_map>

#include "env/engine/log_options.h"
#include "rocksdb/status.h"
#include "rocksdb/utilities/options_type.h"

namespace segwal {

struct SegWalOptions {
  static const char* kName() { return "SegWalOptions"; }

  // Where the log lives. Empty: each WAL directory gets its own log in a
  // "segwal" subdirectory. Set: one log, shared by every DB opened through
  // the same FileSystem, so one fdatasync serves them all.
  std::string log_dir;
  // Segment size, sync mode, compression, recovery mode, recycling.
  LogOptions log;
};

// The option table registered by SegWalFileSystem (RegisterOptions), keyed
// by option name with offsets into SegWalOptions.
const std::unordered_map<std::string, rocksdb::OptionTypeInfo>&
SegWalOptionTypeInfo();

// Cross-option checks and ranges. InvalidArgument names the option, the
// value and what is allowed.
rocksdb::Status ValidateSegWalOptions(const SegWalOptions& options);

// RocksDB reports an option name that no registered table knows as
// NotFound("Could not find option: ", name), which reads like a missing file.
// For a segwal object it is a mistake in the options string: returns
// InvalidArgument naming the option and listing segwal's options. Any other
// status is returned unchanged.
rocksdb::Status ExplainUnknownOption(const rocksdb::Status& status);

// For ConfigureOptions overrides of objects that register SegWalOptions:
//
//   return ConfigureOrRestore(&options_, [&] {
//     return Base::ConfigureOptions(config, opts, unused);
//   });
//
// Explains an unknown option (above) and, when configuring fails, puts
// *options back as they were. RocksDB's own rollback re-applies the old
// options as a string, which leaves out empty values: a failed
// "log_dir=/x;segment_size=5" would otherwise keep log_dir=/x.
template <typename Configure>
rocksdb::Status ConfigureOrRestore(SegWalOptions* options,
                                   Configure&& configure) {
  const SegWalOptions before = *options;
  rocksdb::Status s = ExplainUnknownOption(configure());
  if (!s.ok()) *options = before;
  return s;
}

}  // namespace segwal
