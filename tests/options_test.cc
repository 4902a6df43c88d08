// segwal's options through RocksDB's option machinery: every option parses,
// serializes and round-trips; every bad name, value or range is an
// InvalidArgument that names the option.
#include "options/segwal_options.h"

#include <zstd.h>

#include <set>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/format/format.h"
#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/configurable.h"
#include "rocksdb/convenience.h"

namespace segwal {
namespace {

using rocksdb::ConfigOptions;
using rocksdb::Status;

// The smallest object that carries segwal's options the way
// SegWalFileSystem and the segwal Env do, without a FileSystem under it.
class OptionsHolder : public rocksdb::Configurable {
 public:
  OptionsHolder() { RegisterOptions(&options_, &SegWalOptionTypeInfo()); }

  Status PrepareOptions(const ConfigOptions& config) override {
    Status s = ValidateSegWalOptions(options_);
    return s.ok() ? rocksdb::Configurable::PrepareOptions(config) : s;
  }

  const SegWalOptions& options() const { return options_; }

 protected:
  Status ConfigureOptions(
      const ConfigOptions& config,
      const std::unordered_map<std::string, std::string>& opts,
      std::unordered_map<std::string, std::string>* unused) override {
    return ConfigureOrRestore(&options_, [&] {
      return rocksdb::Configurable::ConfigureOptions(config, opts, unused);
    });
  }

 private:
  SegWalOptions options_;
};

void ExpectSameOptions(const SegWalOptions& a, const SegWalOptions& b) {
  EXPECT_EQ(a.log_dir, b.log_dir);
  EXPECT_EQ(a.log.segment_size, b.log.segment_size);
  EXPECT_EQ(a.log.sync_mode, b.log.sync_mode);
  EXPECT_EQ(a.log.sync_interval_ms, b.log.sync_interval_ms);
  EXPECT_EQ(a.log.group_commit_window_us, b.log.group_commit_window_us);
  EXPECT_EQ(a.log.group_commit_max_batch, b.log.group_commit_max_batch);
  EXPECT_EQ(a.log.compression, b.log.compression);
  EXPECT_EQ(a.log.compression_level, b.log.compression_level);
  EXPECT_EQ(a.log.compression_min_bytes, b.log.compression_min_bytes);
  EXPECT_EQ(a.log.recovery_mode, b.log.recovery_mode);
  EXPECT_EQ(a.log.recycle_segments, b.log.recycle_segments);
  EXPECT_EQ(a.log.preallocate, b.log.preallocate);
  EXPECT_EQ(a.log.stats_dump_period_sec, b.log.stats_dump_period_sec);
  EXPECT_EQ(a.log.append_timing_interval, b.log.append_timing_interval);
  EXPECT_EQ(a.log.metrics_file, b.log.metrics_file);
  EXPECT_EQ(a.log.metrics_period_sec, b.log.metrics_period_sec);
}

// Every option set to a value other than its default.
constexpr char kEveryOption[] =
    "log_dir=/fast/wal;segment_size=1M;sync_mode=interval;"
    "sync_interval_ms=250;group_commit_window_us=500;"
    "group_commit_max_batch=16;compression=zstd;compression_level=7;"
    "compression_min_bytes=4K;recovery_mode=kPointInTimeRecovery;"
    "recycle_segments=9;preallocate=zero;stats_dump_period_sec=5;"
    "append_timing_interval=4;metrics_file=/m/segwal-%s.prom;"
    "metrics_period_sec=30";

TEST(OptionsTest, TableHasEveryOption) {
  std::set<std::string> names;
  for (const auto& e : SegWalOptionTypeInfo()) names.insert(e.first);
  EXPECT_EQ(names, (std::set<std::string>{
                       "log_dir", "segment_size", "sync_mode",
                       "sync_interval_ms", "group_commit_window_us",
                       "group_commit_max_batch", "compression",
                       "compression_level", "compression_min_bytes",
                       "compression_group_bytes", "recovery_mode", "recycle_segments",
                       "preallocate", "stats_dump_period_sec",
                       "append_timing_interval", "metrics_file",
                       "metrics_period_sec"}));
}

TEST(OptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateSegWalOptions(SegWalOptions()).ok());
  OptionsHolder holder;
  EXPECT_TRUE(holder.PrepareOptions(ConfigOptions()).ok());
}

TEST(OptionsTest, ParsesEveryOption) {
  OptionsHolder holder;
  Status s = holder.ConfigureFromString(ConfigOptions(), kEveryOption);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const SegWalOptions& o = holder.options();
  EXPECT_EQ(o.log_dir, "/fast/wal");
  EXPECT_EQ(o.log.segment_size, 1u << 20);
  EXPECT_EQ(o.log.sync_mode, SyncMode::kInterval);
  EXPECT_EQ(o.log.sync_interval_ms, 250u);
  EXPECT_EQ(o.log.group_commit_window_us, 500u);
  EXPECT_EQ(o.log.group_commit_max_batch, 16u);
  EXPECT_EQ(o.log.compression, Codec::kZstdGroup);
  EXPECT_EQ(o.log.compression_level, 7);
  EXPECT_EQ(o.log.compression_min_bytes, 4096u);
  EXPECT_EQ(o.log.recovery_mode, RecoveryMode::kPointInTimeRecovery);
  EXPECT_EQ(o.log.recycle_segments, 9u);
  EXPECT_EQ(o.log.preallocate, Preallocation::kZero);
  EXPECT_EQ(o.log.stats_dump_period_sec, 5u);
  EXPECT_EQ(o.log.append_timing_interval, 4u);
}

TEST(OptionsTest, SizeSuffixes) {
  struct Case {
    const char* text;
    uint64_t value;
  } cases[] = {{"65536", 65536},      {"64k", 64 << 10}, {"64K", 64 << 10},
               {"3m", 3ull << 20},    {"2M", 2ull << 20}, {"1g", 1ull << 30},
               {"4G", 4ull << 30},    {"0t", 0}};
  for (const Case& c : cases) {
    OptionsHolder holder;
    ConfigOptions config;
    config.invoke_prepare_options = false;  // ranges are checked elsewhere
    Status s = holder.ConfigureOption(config, "segment_size", c.text);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.ToString();
    EXPECT_EQ(holder.options().log.segment_size, c.value) << c.text;
    s = holder.ConfigureOption(config, "compression_min_bytes", c.text);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.ToString();
    EXPECT_EQ(holder.options().log.compression_min_bytes, c.value) << c.text;
  }
}

TEST(OptionsTest, RoundTripsThroughGetOptionString) {
  for (const std::string& input :
       {std::string(), std::string(kEveryOption),
        std::string("sync_mode=none;compression=lz4;compression_level=65537;"
                    "recovery_mode=kSkipAnyCorruptedRecords;"
                    "recycle_segments=0;segment_size=4G"),
        std::string("sync_mode=always;compression=zstd;compression_level=-5;"
                    "recovery_mode=kAbsoluteConsistency;segment_size=64K")}) {
    ConfigOptions config;
    OptionsHolder first;
    Status s = first.ConfigureFromString(config, input);
    ASSERT_TRUE(s.ok()) << input << ": " << s.ToString();
    std::string serialized;
    s = first.GetOptionString(config, &serialized);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // Every option is in the string, so nothing depends on the defaults
    // (RocksDB leaves out empty values: an unset log_dir or metrics_file).
    for (const auto& e : SegWalOptionTypeInfo()) {
      if (e.first == "log_dir" && first.options().log_dir.empty()) continue;
      if (e.first == "metrics_file" && first.options().log.metrics_file.empty()) {
        continue;
      }
      EXPECT_NE(serialized.find(e.first + "="), std::string::npos)
          << e.first << " missing from " << serialized;
    }
    OptionsHolder second;
    s = second.ConfigureFromString(config, serialized);
    ASSERT_TRUE(s.ok()) << serialized << ": " << s.ToString();
    ExpectSameOptions(first.options(), second.options());
    std::string mismatch;
    EXPECT_TRUE(first.AreEquivalent(config, &second, &mismatch))
        << serialized << ": " << mismatch;
    std::string again;
    ASSERT_TRUE(second.GetOptionString(config, &again).ok());
    EXPECT_EQ(again, serialized);
  }
}

TEST(OptionsTest, AreEquivalentNamesTheDifference) {
  ConfigOptions config;
  OptionsHolder a;
  OptionsHolder b;
  ASSERT_TRUE(a.ConfigureFromString(config, "sync_mode=group").ok());
  ASSERT_TRUE(b.ConfigureFromString(config, "sync_mode=always").ok());
  std::string mismatch;
  EXPECT_FALSE(a.AreEquivalent(config, &b, &mismatch));
  EXPECT_EQ(mismatch, "sync_mode");
}

TEST(OptionsTest, EnumNames) {
  ConfigOptions config;
  struct Case {
    const char* option;
    std::vector<std::string> names;
  } cases[] = {
      {"sync_mode", {"always", "group", "interval", "none"}},
      {"compression", {"none", "lz4", "zstd"}},
      {"recovery_mode",
       {"kTolerateCorruptedTailRecords", "kAbsoluteConsistency",
        "kPointInTimeRecovery", "kSkipAnyCorruptedRecords"}},
  };
  for (const Case& c : cases) {
    for (const std::string& name : c.names) {
      OptionsHolder holder;
      Status s = holder.ConfigureOption(config, c.option, name);
      ASSERT_TRUE(s.ok()) << c.option << "=" << name << ": " << s.ToString();
      std::string value;
      ASSERT_TRUE(holder.GetOption(config, c.option, &value).ok());
      EXPECT_EQ(value, name);
    }
  }
  // The names are the engine's own.
  SyncMode mode;
  EXPECT_TRUE(ParseSyncMode("interval", &mode));
  EXPECT_EQ(mode, SyncMode::kInterval);
  Codec codec;
  EXPECT_TRUE(ParseCodec("lz4", &codec));
  EXPECT_EQ(codec, Codec::kLz4Group);
  RecoveryMode recovery;
  EXPECT_TRUE(ParseRecoveryMode("kAbsoluteConsistency", &recovery));
  EXPECT_EQ(recovery, RecoveryMode::kAbsoluteConsistency);
}

struct BadCase {
  std::string options;  // an options string
  std::string option;   // the option the message must name
  std::string detail;   // and this text (the value, the allowed range, ...)
};

void ExpectInvalid(const BadCase& c) {
  OptionsHolder holder;
  Status s = holder.ConfigureFromString(ConfigOptions(), c.options);
  EXPECT_TRUE(s.IsInvalidArgument()) << c.options << ": " << s.ToString();
  EXPECT_NE(s.ToString().find(c.option), std::string::npos)
      << c.options << ": " << s.ToString();
  EXPECT_NE(s.ToString().find(c.detail), std::string::npos)
      << c.options << ": " << s.ToString() << " (expected '" << c.detail
      << "')";
}

TEST(OptionsTest, BadValuesNameTheOption) {
  const BadCase cases[] = {
      {"sync_mode=fast", "sync_mode=fast",
       "must be one of always, group, interval, none"},
      {"sync_mode=", "sync_mode=", "must be one of"},
      {"compression=snappy", "compression=snappy",
       "must be one of none, lz4, zstd"},
      {"preallocate=ones", "preallocate=ones",
       "must be one of auto, zero, fallocate"},
      {"recovery_mode=kFoo", "recovery_mode=kFoo",
       "must be one of kTolerateCorruptedTailRecords, kAbsoluteConsistency, "
       "kPointInTimeRecovery, kSkipAnyCorruptedRecords"},
      {"segment_size=abc", "segment_size=abc", "not a byte count"},
      {"segment_size=-1", "segment_size=-1", "not a byte count"},
      {"segment_size=1Mx", "segment_size=1Mx", "not a byte count"},
      {"segment_size=1X", "segment_size=1X", "not a byte count"},
      {"segment_size=99999999999T", "segment_size=99999999999T",
       "not a byte count"},
      {"segment_size=99999999999999999999", "segment_size", "not a byte count"},
      {"compression_min_bytes=12B", "compression_min_bytes=12B",
       "not a byte count"},
      {"sync_interval_ms=1K", "sync_interval_ms=1K",
       "not a non-negative decimal integer"},
      {"group_commit_window_us=0x10", "group_commit_window_us=0x10",
       "not a non-negative decimal integer"},
      {"group_commit_max_batch=many", "group_commit_max_batch=many",
       "not a non-negative decimal integer"},
      {"recycle_segments=-2", "recycle_segments=-2",
       "not a non-negative decimal integer"},
      {"stats_dump_period_sec=1m", "stats_dump_period_sec=1m",
       "not a non-negative decimal integer"},
      {"compression_level=x", "compression_level=x", "not a decimal integer"},
      {"compression_level=99999999999", "compression_level",
       "not a decimal integer"},
      {"compression_level=-", "compression_level", "not a decimal integer"},
  };
  for (const BadCase& c : cases) ExpectInvalid(c);
}

TEST(OptionsTest, OutOfRangeNamesTheOptionAndTheRange) {
  const std::string zstd_max = std::to_string(ZSTD_maxCLevel());
  const std::string zstd_min = std::to_string(ZSTD_minCLevel());
  const BadCase cases[] = {
      {"segment_size=32K", "segment_size=32768",
       "multiple of 4096 from 65536 (64K) to 4294967296 (4G)"},
      {"segment_size=8G", "segment_size=8589934592", "multiple of 4096"},
      {"segment_size=100000", "segment_size=100000", "multiple of 4096"},
      {"segment_size=0", "segment_size=0", "multiple of 4096"},
      {"sync_interval_ms=0", "sync_interval_ms=0", "from 1 to 60000"},
      {"sync_interval_ms=60001", "sync_interval_ms=60001", "from 1 to 60000"},
      {"group_commit_window_us=100001", "group_commit_window_us=100001",
       "at most 100000"},
      {"compression_level=1", "compression_level=1",
       "with compression=none the level must be 0"},
      {"compression=lz4;compression_level=-1", "compression_level=-1",
       "LZ4's acceleration, from 0"},
      {"compression=lz4;compression_level=65538", "compression_level=65538",
       "to 65537"},
      {"compression=zstd;compression_level=" +
           std::to_string(ZSTD_maxCLevel() + 1),
       "compression_level", "from " + zstd_min + " to " + zstd_max},
      {"compression=zstd;compression_level=" +
           std::to_string(ZSTD_minCLevel() - 1),
       "compression_level", "from " + zstd_min + " to " + zstd_max},
      {"recycle_segments=1025", "recycle_segments=1025", "at most 1024"},
      {"compression_group_bytes=1048577", "compression_group_bytes=1048577",
       "at most 1048576 (1M; 0 = every frame compressed alone)"},
      {"stats_dump_period_sec=604801", "stats_dump_period_sec=604801",
       "at most 604800"},
      {"append_timing_interval=0", "append_timing_interval=0",
       "from 1 (time every Append) to 65536"},
      {"append_timing_interval=65537", "append_timing_interval=65537",
       "from 1 (time every Append) to 65536"},
      {"log_dir=relative/wal", "log_dir=relative/wal",
       "must be an absolute path"},
      {"metrics_file=m.prom", "metrics_file=m.prom",
       "an absolute path ending in .prom"},
      {"metrics_file=/m/x.txt", "metrics_file=/m/x.txt", "ending in .prom"},
      {"metrics_file=/m/%d.prom", "metrics_file=/m/%d.prom", "only once, as %s"},
      {"metrics_period_sec=0", "metrics_period_sec=0", "from 1 to 86400"},
      {"metrics_period_sec=86401", "metrics_period_sec=86401",
       "from 1 to 86400"},
  };
  for (const BadCase& c : cases) ExpectInvalid(c);
}

TEST(OptionsTest, BoundsAreAccepted) {
  const std::string zstd_max = std::to_string(ZSTD_maxCLevel());
  const std::string zstd_min = std::to_string(ZSTD_minCLevel());
  for (const std::string& input :
       {std::string("segment_size=64K"), std::string("segment_size=4G"),
        std::string("segment_size=69632"),  // 68K
        std::string("sync_interval_ms=1"), std::string("sync_interval_ms=60000"),
        std::string("group_commit_window_us=100000"),
        std::string("group_commit_window_us=0"),
        std::string("recycle_segments=1024"), std::string("compression_level=0"),
        std::string("compression_group_bytes=0"),
        std::string("compression_group_bytes=1M"),
        std::string("stats_dump_period_sec=0"),
        std::string("stats_dump_period_sec=604800"),
        std::string("compression=lz4;compression_level=0"),
        std::string("compression=lz4;compression_level=65537"),
        "compression=zstd;compression_level=" + zstd_max,
        "compression=zstd;compression_level=" + zstd_min,
        std::string("log_dir=/"), std::string("log_dir=")}) {
    OptionsHolder holder;
    Status s = holder.ConfigureFromString(ConfigOptions(), input);
    EXPECT_TRUE(s.ok()) << input << ": " << s.ToString();
  }
}

TEST(OptionsTest, FailedConfigureLeavesOptionsUnchanged) {
  OptionsHolder holder;
  ASSERT_TRUE(holder.ConfigureFromString(ConfigOptions(), kEveryOption).ok());
  SegWalOptions before = holder.options();
  EXPECT_FALSE(holder
                   .ConfigureFromString(ConfigOptions(),
                                        "sync_mode=always;segment_size=1000")
                   .ok());
  ExpectSameOptions(before, holder.options());
}

// RocksDB's rollback alone cannot restore an empty log_dir (it re-applies
// the old options as a string, without empty values).
TEST(OptionsTest, FailedConfigureRestoresAnEmptyLogDir) {
  OptionsHolder holder;
  Status s = holder.ConfigureFromString(
      ConfigOptions(), "log_dir=/fast/wal;sync_mode=always;segment_size=5");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ExpectSameOptions(SegWalOptions(), holder.options());
  s = holder.ConfigureFromString(ConfigOptions(), "log_dir=relative");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(holder.options().log_dir, "");
}

TEST(OptionsTest, UnknownOption) {
  // RocksDB alone says NotFound, which reads like a missing file...
  rocksdb::Status raw =
      rocksdb::Status::NotFound("Could not find option: ", "segmentsize");
  // ...segwal says what is wrong and what would be right.
  Status s = ExplainUnknownOption(raw);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("unknown segwal option 'segmentsize'"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find("segment_size"), std::string::npos)
      << s.ToString();
  // Other statuses pass through.
  EXPECT_TRUE(ExplainUnknownOption(Status::OK()).ok());
  EXPECT_TRUE(ExplainUnknownOption(Status::NotFound("some file")).IsNotFound());
  EXPECT_TRUE(
      ExplainUnknownOption(Status::InvalidArgument("x")).IsInvalidArgument());

  OptionsHolder holder;
  s = holder.ConfigureFromString(ConfigOptions(), "sync_mode=always;bogus=1");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("'bogus'"), std::string::npos) << s.ToString();
  EXPECT_EQ(holder.options().log.sync_mode, SyncMode::kGroup);  // unchanged

  // ignore_unknown_options keeps RocksDB's meaning.
  ConfigOptions lenient;
  lenient.ignore_unknown_options = true;
  s = holder.ConfigureFromString(lenient, "sync_mode=always;bogus=1");
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(holder.options().log.sync_mode, SyncMode::kAlways);
}

TEST(OptionsTest, ValidateRejectsBadEnumValues) {
  SegWalOptions o;
  o.log.sync_mode = static_cast<SyncMode>(42);
  Status s = ValidateSegWalOptions(o);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.ToString().find("sync_mode=42"), std::string::npos)
      << s.ToString();
  o = SegWalOptions();
  o.log.compression = static_cast<Codec>(9);
  EXPECT_TRUE(ValidateSegWalOptions(o).IsInvalidArgument());
  o = SegWalOptions();
  o.log.recovery_mode = static_cast<RecoveryMode>(9);
  EXPECT_TRUE(ValidateSegWalOptions(o).IsInvalidArgument());
}

// The same table on the real FileSystem: options go in through
// ConfigureFromString and are validated by its PrepareOptions.
TEST(OptionsTest, SegWalFileSystemCarriesTheOptions) {
  ConfigOptions config;
  SegWalFileSystem fs;
  Status s = fs.ConfigureFromString(config, kEveryOption);
  ASSERT_TRUE(s.ok()) << s.ToString();
  OptionsHolder holder;
  ASSERT_TRUE(holder.ConfigureFromString(config, kEveryOption).ok());
  ExpectSameOptions(fs.options(), holder.options());
  EXPECT_EQ(fs.GetOptions<SegWalOptions>(), &fs.options());

  std::string serialized;
  ASSERT_TRUE(fs.GetOptionString(config, &serialized).ok());
  SegWalFileSystem copy;
  s = copy.ConfigureFromString(config, serialized);
  ASSERT_TRUE(s.ok()) << serialized << ": " << s.ToString();
  ExpectSameOptions(fs.options(), copy.options());
  std::string mismatch;
  EXPECT_TRUE(fs.AreEquivalent(config, &copy, &mismatch)) << mismatch;

  SegWalFileSystem bad;
  s = bad.ConfigureFromString(config, "segment_size=1000");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("segment_size=1000"), std::string::npos);
  s = bad.ConfigureFromString(config, "sync_mode=fast");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("sync_mode=fast"), std::string::npos);
  s = bad.ConfigureFromString(config, "bogus=1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("bogus"), std::string::npos) << s.ToString();

  // Options given to the constructor are checked by PrepareOptions too.
  SegWalOptions o;
  o.log.recycle_segments = 5000;
  SegWalFileSystem from_struct(rocksdb::FileSystem::Default(), o);
  s = from_struct.PrepareOptions(config);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("recycle_segments=5000"), std::string::npos);
}

}  // namespace
}  // namespace segwal
