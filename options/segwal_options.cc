#include "options/segwal_options.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/format/format.h"

namespace segwal {
namespace {

using rocksdb::ConfigOptions;
using rocksdb::OptionType;
using rocksdb::OptionTypeFlags;
using rocksdb::OptionTypeInfo;
using rocksdb::OptionVerificationType;
using rocksdb::Status;


Status BadValue(const std::string& name, const std::string& value,
                const std::string& allowed) {
  return Status::InvalidArgument("segwal option " + name + "=" + value + ": " +
                                 allowed);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Decimal digits only; with `sizes`, one trailing K, M, G or T (any case)
// multiplies by 2^10, 2^20, 2^30 or 2^40, as RocksDB's size options do.
// RocksDB's own uint64 parser (std::stoull) also takes "-1", "12abc" and
// overflowing suffixes; these are rejected here.
bool ParseUnsigned(const std::string& text, bool sizes, uint64_t* out) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (v > (kMax - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (i == 0) return false;
  if (i < text.size()) {
    if (!sizes || i + 1 != text.size()) return false;
    int shift = 0;
    switch (text[i]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: return false;
    }
    if (v > (kMax >> shift)) return false;
    v <<= shift;
  }
  *out = v;
  return true;
}

bool ParseSignedInt(const std::string& text, int* out) {
  size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
  const bool negative = i == 1;
  if (i == text.size()) return false;
  // Accumulate the magnitude in 64 bits; int's range is checked at the end.
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
    if (v > static_cast<int64_t>(std::numeric_limits<int>::max()) + 1) {
      return false;
    }
  }
  if (negative) v = -v;
  if (v < std::numeric_limits<int>::min() ||
      v > std::numeric_limits<int>::max()) {
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

OptionTypeInfo UnsignedOption(size_t offset, bool sizes) {
  OptionTypeInfo info(static_cast<int>(offset), OptionType::kUInt64T,
                      OptionVerificationType::kNormal, OptionTypeFlags::kNone);
  info.SetParseFunc([sizes](const ConfigOptions&, const std::string& name,
                            const std::string& value, void* addr) {
    uint64_t v = 0;
    if (!ParseUnsigned(value, sizes, &v)) {
      return BadValue(name, value,
                      sizes ? "not a byte count (decimal digits with an "
                              "optional K, M, G or T suffix)"
                            : "not a non-negative decimal integer");
    }
    *static_cast<uint64_t*>(addr) = v;
    return Status::OK();
  });
  return info;
}

OptionTypeInfo IntOption(size_t offset) {
  OptionTypeInfo info(static_cast<int>(offset), OptionType::kInt,
                      OptionVerificationType::kNormal, OptionTypeFlags::kNone);
  info.SetParseFunc([](const ConfigOptions&, const std::string& name,
                       const std::string& value, void* addr) {
    int v = 0;
    if (!ParseSignedInt(value, &v)) {
      return BadValue(name, value, "not a decimal integer");
    }
    *static_cast<int*>(addr) = v;
    return Status::OK();
  });
  return info;
}

// The names of an enum's values, in declaration order for messages, and the
// name -> value map that OptionTypeInfo::Enum serializes with.
template <typename T>
struct EnumNames {
  template <typename NameFn>
  EnumNames(std::initializer_list<T> values, NameFn name_of) {
    for (T v : values) {
      ordered.push_back(name_of(v));
      map.emplace(ordered.back(), v);
    }
  }
  std::vector<std::string> ordered;
  std::unordered_map<std::string, T> map;
};

// RocksDB's Enum parser says only "No mapping for enum : sync_mode"; this one
// names the value and the allowed names.
template <typename T>
OptionTypeInfo EnumOption(size_t offset, const EnumNames<T>* names) {
  OptionTypeInfo info =
      OptionTypeInfo::Enum<T>(static_cast<int>(offset), &names->map);
  info.SetParseFunc([names](const ConfigOptions&, const std::string& name,
                            const std::string& value, void* addr) {
    auto it = names->map.find(value);
    if (it == names->map.end()) {
      return BadValue(name, value, "must be one of " + Join(names->ordered));
    }
    *static_cast<T*>(addr) = it->second;
    return Status::OK();
  });
  return info;
}

const EnumNames<SyncMode>& SyncModeNames() {
  static const auto* const names = new EnumNames<SyncMode>(
      {SyncMode::kAlways, SyncMode::kGroup, SyncMode::kInterval,
       SyncMode::kNone},
      SyncModeName);
  return *names;
}

const EnumNames<Codec>& CodecNames() {
  static const auto* const names = new EnumNames<Codec>(
      {Codec::kNone, Codec::kLz4Group, Codec::kZstdGroup}, CodecName);
  return *names;
}

const EnumNames<Preallocation>& PreallocationNames() {
  static const auto* const names = new EnumNames<Preallocation>(
      {Preallocation::kAuto, Preallocation::kZero, Preallocation::kFallocate},
      PreallocationName);
  return *names;
}

const EnumNames<RecoveryMode>& RecoveryModeNames() {
  static const auto* const names = new EnumNames<RecoveryMode>(
      {RecoveryMode::kTolerateCorruptedTailRecords,
       RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
       RecoveryMode::kSkipAnyCorruptedRecords},
      RecoveryModeName);
  return *names;
}

// Offset of a LogOptions field inside SegWalOptions.
#define SEGWAL_LOG_FIELD(field) \
  (offsetof(SegWalOptions, log) + offsetof(LogOptions, field))

std::unordered_map<std::string, OptionTypeInfo>* NewOptionTypeInfo() {
  return new std::unordered_map<std::string, OptionTypeInfo>{
      {"log_dir",
       OptionTypeInfo(static_cast<int>(offsetof(SegWalOptions, log_dir)),
                      OptionType::kString, OptionVerificationType::kNormal,
                      OptionTypeFlags::kNone)},
      {"segment_size", UnsignedOption(SEGWAL_LOG_FIELD(segment_size), true)},
      {"sync_mode",
       EnumOption(SEGWAL_LOG_FIELD(sync_mode), &SyncModeNames())},
      {"sync_interval_ms",
       UnsignedOption(SEGWAL_LOG_FIELD(sync_interval_ms), false)},
      {"group_commit_window_us",
       UnsignedOption(SEGWAL_LOG_FIELD(group_commit_window_us), false)},
      {"group_commit_max_batch",
       UnsignedOption(SEGWAL_LOG_FIELD(group_commit_max_batch), false)},
      {"compression", EnumOption(SEGWAL_LOG_FIELD(compression), &CodecNames())},
      {"compression_level", IntOption(SEGWAL_LOG_FIELD(compression_level))},
      {"compression_min_bytes",
       UnsignedOption(SEGWAL_LOG_FIELD(compression_min_bytes), true)},
      {"compression_group_bytes",
       UnsignedOption(SEGWAL_LOG_FIELD(compression_group_bytes), true)},
      {"recovery_mode",
       EnumOption(SEGWAL_LOG_FIELD(recovery_mode), &RecoveryModeNames())},
      {"recycle_segments",
       UnsignedOption(SEGWAL_LOG_FIELD(recycle_segments), false)},
      {"preallocate",
       EnumOption(SEGWAL_LOG_FIELD(preallocate), &PreallocationNames())},
      {"stats_dump_period_sec",
       UnsignedOption(SEGWAL_LOG_FIELD(stats_dump_period_sec), false)},
      {"append_timing_interval",
       UnsignedOption(SEGWAL_LOG_FIELD(append_timing_interval), false)},
      {"metrics_file",
       OptionTypeInfo(static_cast<int>(SEGWAL_LOG_FIELD(metrics_file)),
                      OptionType::kString, OptionVerificationType::kNormal,
                      OptionTypeFlags::kNone)},
      {"metrics_period_sec",
       UnsignedOption(SEGWAL_LOG_FIELD(metrics_period_sec), false)},
  };
}

#undef SEGWAL_LOG_FIELD

std::string OptionNames() {
  std::vector<std::string> names;
  for (const auto& entry : SegWalOptionTypeInfo()) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  return Join(names);
}

}  // namespace

const std::unordered_map<std::string, OptionTypeInfo>& SegWalOptionTypeInfo() {
  // Never destroyed: Envs made from options strings live for the process.
  static const auto* const info = NewOptionTypeInfo();
  return *info;
}

Status ValidateSegWalOptions(const SegWalOptions& options) {
  if (!options.log_dir.empty() && options.log_dir[0] != '/') {
    return BadValue("log_dir", options.log_dir,
                    "must be an absolute path, or empty for a \"segwal\" "
                    "directory beside each WAL directory");
  }
  return ValidateLogOptions(options.log);
}

Status ExplainUnknownOption(const Status& status) {
  static const std::string kPrefix = "Could not find option";
  if (!status.IsNotFound() || status.getState() == nullptr) return status;
  std::string state = status.getState();
  if (state.compare(0, kPrefix.size(), kPrefix) != 0) return status;
  // RocksDB builds the message as NotFound("Could not find option: ", name),
  // which Status joins into "Could not find option: : name".
  std::string name = state.substr(kPrefix.size());
  name.erase(0, name.find_first_not_of(": "));
  return Status::InvalidArgument("unknown segwal option '" + name +
                                 "'; segwal options are " + OptionNames());
}

}  // namespace segwal
