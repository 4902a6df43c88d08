// Metrics for monitoring: the metrics_file option (a log's Prometheus text
// exposition, rewritten atomically every metrics_period_sec and when the
// log closes) and `segwal stats`. Every file and output is read by a real
// Prometheus text parser (Debian's python3-prometheus-client), not only
// compared as text.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "env/fs/wal_path.h"
#include "env/stats/metrics_file.h"
#include "gtest/gtest.h"
#include "rocksdb/convenience.h"
#include "tests/segwal_test_util.h"
#include "tests/support/db_fixture.h"
#include "tests/support/tool_runner.h"

namespace segwal {
namespace {

using namespace db_test;  // NOLINT: the fixture's names
using tool_test::Outcome;
using tool_test::Parsed;
using tool_test::ParseProm;
using tool_test::Tool;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsFileOptionTest, Validation) {
  LogOptions o;
  for (const char* good : {"", "/m/segwal.prom", "/m/segwal-%s.prom"}) {
    o.metrics_file = good;
    EXPECT_TRUE(ValidateLogOptions(o).ok()) << good;
  }
  for (const char* bad : {"m.prom", "/m/segwal.txt", "/m/%s-%s.prom",
                          "/m/%d.prom", "/m/100%.prom", ".prom"}) {
    o.metrics_file = bad;
    const Status s = ValidateLogOptions(o);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_TRUE(Has(s.ToString(), "segwal option metrics_file="))
        << s.ToString();
  }
  o.metrics_file = "/m/x.prom";
  for (uint64_t bad : {uint64_t{0}, uint64_t{86401}}) {
    o.metrics_period_sec = bad;
    EXPECT_TRUE(ValidateLogOptions(o).IsInvalidArgument()) << bad;
  }

  rocksdb::ConfigOptions config;
  config.ignore_unsupported_options = false;
  config.ignore_unknown_options = false;
  std::shared_ptr<FileSystem> fs;
  Status s = FileSystem::CreateFromString(
      config, "id=segwal;metrics_file=/m/segwal-%s.prom;metrics_period_sec=5",
      &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string text = fs->ToString(config);
  EXPECT_TRUE(Has(text, "metrics_file=/m/segwal-%s.prom")) << text;
  EXPECT_TRUE(Has(text, "metrics_period_sec=5")) << text;
  fs.reset();
  s = FileSystem::CreateFromString(config, "id=segwal;metrics_file=rel.prom",
                                   &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

// The file name part is `systemd-escape --path` of the log directory.
TEST(MetricsFileOptionTest, FileNames) {
  EXPECT_EQ("data-db-segwal", EscapeLogDir("/data/db/segwal"));
  EXPECT_EQ("data-my\\x2ddb-.x-a\\x20b_c:d",
            EscapeLogDir("/data/my-db/.x/a b_c:d/"));
  EXPECT_EQ("\\x2ex-y", EscapeLogDir("/.x/y"));
  EXPECT_EQ("a-b", EscapeLogDir("//a//b/"));
  EXPECT_EQ("-", EscapeLogDir("/"));
  EXPECT_EQ("/m/segwal-data-wal.prom",
            MetricsFilePath("/m/segwal-%s.prom", "/data/wal"));
  EXPECT_EQ("/m/one.prom", MetricsFilePath("/m/one.prom", "/data/wal"));
}

class MetricsFileTest : public SegWalDbTest {
 protected:
  void SetUp() override { ASSERT_EQ(0, mkdir(metrics_dir_.c_str(), 0755)); }

  SegWalOptions MetricsOptions(const std::string& log_dir,
                               const std::string& pattern) {
    SegWalOptions o = test::SmallSegments(log_dir);
    o.log.metrics_file = metrics_dir_ + "/" + pattern;
    o.log.metrics_period_sec = 1;
    return o;
  }

  // Waits (up to 10 s) until `path` parses with `sample` >= `at_least`.
  Parsed WaitFor(const std::string& path, const std::string& sample,
                 double at_least) {
    Parsed p;
    for (int i = 0; i < 100; ++i) {
      if (PathExists(path)) {
        p = ParseProm(path);
        if (p.samples.count(sample) > 0 && p.samples[sample] >= at_least) {
          return p;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << path << " never had " << sample << " >= " << at_least;
    return p;
  }

  // Writes `text` to a file and parses it.
  Parsed ParseText(const std::string& text) {
    const std::string path = tmp_ / "parse.prom";
    std::ofstream(path) << text;
    return ParseProm(path);
  }

  const std::string metrics_dir_ = tmp_ / "metrics";
};

TEST_F(MetricsFileTest, ARunningDbPublishesItsLog) {
  const std::string wal = tmp_ / "wal";
  NewFs(MetricsOptions(wal, "segwal-%s.prom"));
  const std::string file =
      metrics_dir_ + "/segwal-" + EscapeLogDir(NormalizePath(wal)) + ".prom";
  const std::string l = "{log_dir=" + NormalizePath(wal);
  OpenDb(DbOptions(), tmp_ / "db");
  Put(0, 200, "m", /*sync=*/true);

  Parsed p = WaitFor(file, "segwal_write_requests_total" + l + "}", 200);
  EXPECT_EQ("counter", p.families["segwal_write_requests"]);
  EXPECT_EQ("counter", p.families["segwal_sync_requests"]);
  EXPECT_EQ("gauge", p.families["segwal_live_bytes"]);
  EXPECT_EQ("summary", p.families["segwal_sync_duration_seconds"]);
  EXPECT_GE(p.samples["segwal_sync_requests_total" + l + "}"], 200);
  EXPECT_GE(p.samples["segwal_sync_duration_seconds_count" + l + "}"], 200);
  EXPECT_EQ(1u, p.samples.count("segwal_sync_duration_seconds" + l +
                                ",quantile=0.99}"));
  EXPECT_GT(p.samples["segwal_live_bytes" + l + "}"], 0);
  EXPECT_GE(p.samples["segwal_active_segments" + l + "}"], 1);
  // The LOG says where the metrics go, and for which process.
  EXPECT_TRUE(Has(test::ReadFileToString(wal + "/LOG"),
                  "segwal metrics_file: pid=" + std::to_string(getpid()) +
                      " period_sec=1 path=" + file));

  // `segwal stats` finds the file by pid and by log directory.
  const std::string pid = std::to_string(getpid());
  Outcome r = Tool({"stats", "--pid=" + pid});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "metrics_file " + file)) << r.out;
  Parsed s = ParseText(r.out);
  EXPECT_GE(s.samples["segwal_write_requests_total" + l + "}"], 200);
  r = Tool({"stats", wal});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_EQ("summary",
            ParseText(r.out).families["segwal_append_duration_seconds"]);
  r = Tool({"stats", "--json", "--pid=" + pid});
  EXPECT_TRUE(tool_test::ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"source\":\"metrics_file\"")) << r.out;

  // Closing the log writes the file once more, with the final counters.
  Put(200, 300, "m", /*sync=*/true);
  CloseDb();
  env_.reset();
  fs_.reset();
  p = ParseProm(file);
  EXPECT_GE(p.samples["segwal_write_requests_total" + l + "}"], 300);
  for (const std::string& name : test::ListDir(metrics_dir_)) {
    EXPECT_TRUE(test::EndsWith(name, ".prom")) << name;  // no temporary left
  }

  // A log no one holds: the gauges a scan gives.
  r = Tool({"stats", wal});
  ASSERT_EQ(0, r.code) << r.All();
  s = ParseText(r.out);
  EXPECT_EQ("gauge", s.families["segwal_logical_files"]);
  EXPECT_EQ(1, s.samples["segwal_logical_files" + l + "}"]);
  EXPECT_EQ(0, s.samples["segwal_damages" + l + "}"]);
  EXPECT_GT(s.samples["segwal_live_bytes" + l + "}"], 0);
  EXPECT_EQ(0u, s.families.count("segwal_write_requests"));
  r = Tool({"stats", "--pid=" + pid});  // this process holds no log now
  EXPECT_EQ(2, r.code) << r.All();
}

// A log per WAL directory: "%s" gives each its own file; without it the
// second log of the process writes none and says so in its LOG.
TEST_F(MetricsFileTest, OneFilePerLog) {
  NewFs(MetricsOptions("", "segwal-%s.prom"));
  const std::string db1 = tmp_ / "db1";
  const std::string db2 = tmp_ / "db2";
  {
    DB* a = nullptr;
    DB* b = nullptr;
    ASSERT_TRUE(DB::Open(DbOptions(), db1, &a).ok());
    ASSERT_TRUE(DB::Open(DbOptions(), db2, &b).ok());
    Put(0, 10, "a", true, a);
    Put(0, 20, "b", true, b);
    delete a;
    delete b;
  }
  for (const std::string& db : {db1, db2}) {
    const std::string log = NormalizePath(db + "/segwal");
    const Parsed p =
        ParseProm(metrics_dir_ + "/segwal-" + EscapeLogDir(log) + ".prom");
    EXPECT_GE(p.samples.at("segwal_write_requests_total{log_dir=" + log + "}"),
              10);
  }

  NewFs(MetricsOptions("", "one.prom"));
  DB* a = nullptr;
  DB* b = nullptr;
  ASSERT_TRUE(DB::Open(DbOptions(), db1, &a).ok());
  ASSERT_TRUE(DB::Open(DbOptions(), db2, &b).ok());
  delete a;
  delete b;
  const std::string log1 = test::ReadFileToString(db1 + "/segwal/LOG");
  const std::string log2 = test::ReadFileToString(db2 + "/segwal/LOG");
  EXPECT_NE(Has(log1, "is written by another log of this process"),
            Has(log2, "is written by another log of this process"));
  ParseProm(metrics_dir_ + "/one.prom");
}

}  // namespace
}  // namespace segwal
