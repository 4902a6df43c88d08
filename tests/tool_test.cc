// The segwal tool (build/segwal) through its real binary: info, verify,
// dump and repair on healthy, torn, damaged, compressed and shared
// (several DBs) logs written by the engine on the real file system; usage
// errors and exit codes (0 healthy, 1 damage, 2 usage or I/O error).
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "gtest/gtest.h"
#include "tests/segwal_test_util.h"
#include "tests/support/tool_runner.h"

namespace segwal {
namespace {

using test::DirContents;
using test::PathExists;
using test::ReadFileToString;
using test::TempDir;
using tool_test::Bytes;
using tool_test::Outcome;
using tool_test::Tool;
using tool_test::ValidJson;
using tool_test::WriteLog;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tool_test::ToolPath().empty())
        << "set SEGWAL_TOOL to build/segwal; this test does not skip";
    ASSERT_TRUE(PathExists(tool_test::ToolPath())) << tool_test::ToolPath();
  }

  static LogOptions Small() {
    LogOptions o;
    o.segment_size = 64 << 10;
    return o;
  }

  // Three files, the first spanning several 64 KiB segments.
  void WriteHealthy(const LogOptions& options = Small()) {
    files_ = {{"000003.log", Bytes(200000, 1)},
              {"000005.log", Bytes(3000, 2)},
              {"archive/000001.log", Bytes(777, 3)}};
    WriteLog(log_, options, files_);
  }

  std::string Dumped(const std::string& name,
                     const std::vector<std::string>& extra = {}) {
    const std::string out = tmp_ / "dumped";
    std::vector<std::string> args = {"dump", log_, "--file=" + name,
                                     "--output=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome r = Tool(args);
    EXPECT_EQ(0, r.code) << r.All();
    return ReadFileToString(out);
  }

  TempDir tmp_;
  const std::string log_ = tmp_ / "log";
  std::vector<std::pair<std::string, std::string>> files_;
};

TEST_F(ToolTest, UsageErrorsExitTwo) {
  EXPECT_EQ(2, Tool({}).code);
  Outcome r = Tool({"help"});
  EXPECT_EQ(0, r.code);
  for (const char* c :
       {"info", "verify", "dump", "export", "import", "repair", "stats"}) {
    EXPECT_TRUE(Has(r.out, std::string("  ") + c + " ")) << c;
    const Outcome help = Tool({"help", c});
    EXPECT_EQ(0, help.code);
    EXPECT_TRUE(Has(help.out, std::string("usage: segwal ") + c)) << help.out;
    EXPECT_TRUE(Has(help.out, "Exit status")) << c;
    EXPECT_EQ(help.out, Tool({c, "--help"}).out);
  }
  EXPECT_EQ(2, Tool({"frobnicate"}).code);
  EXPECT_EQ(2, Tool({"help", "frobnicate"}).code);
  EXPECT_EQ(2, Tool({"info"}).code);  // LOG_DIR missing
  r = Tool({"info", "--yes", log_});  // repair's flag
  EXPECT_EQ(2, r.code);
  EXPECT_TRUE(Has(r.err, "has no flag --yes")) << r.err;
  EXPECT_EQ(2, Tool({"info", "--nosuch=1", log_}).code);
  EXPECT_EQ(2, Tool({"stats"}).code);  // LOG_DIR or --pid
  EXPECT_EQ(2, Tool({"stats", "--pid=abc"}).code);
  EXPECT_EQ(2, Tool({"info", tmp_ / "nowhere"}).code);
  EXPECT_EQ(2, Tool({"verify", tmp_.path()}).code);  // not a log
  r = Tool({"verify", "--json", tmp_.path()});
  EXPECT_EQ(2, r.code);
  EXPECT_TRUE(ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"exit_code\":2")) << r.out;
  WriteHealthy();
  EXPECT_EQ(2, Tool({"verify", "--recovery_mode=kNope", log_}).code);
}

TEST_F(ToolTest, HealthyLog) {
  WriteHealthy();
  const auto before = DirContents(log_);
  Outcome r = Tool({"info", log_});
  ASSERT_EQ(0, r.code) << r.All();
  for (const auto& [name, bytes] : files_) {
    EXPECT_TRUE(tool_test::HasRow(r.out, {name, std::to_string(bytes.size())}))
        << name << "\n"
        << r.out;
  }
  EXPECT_TRUE(Has(r.out, "sealed")) << r.out;
  EXPECT_TRUE(Has(r.out, "head")) << r.out;
  EXPECT_TRUE(Has(r.out, "lock: free")) << r.out;
  EXPECT_TRUE(Has(r.out, "torn tail: none")) << r.out;
  EXPECT_TRUE(Has(r.out, "GiB/s")) << r.out;
  EXPECT_TRUE(Has(r.out, "\nhealthy\n")) << r.out;

  r = Tool({"info", "--json", log_});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"healthy\":true")) << r.out;
  EXPECT_TRUE(Has(r.out, "\"name\":\"000003.log\",\"id\":1,\"size\":200000"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "\"codec\":\"none\"")) << r.out;
  EXPECT_TRUE(Has(r.out, "\"throughput_gib_per_s\":")) << r.out;
  EXPECT_TRUE(Has(r.out, "\"opens\":true")) << r.out;

  r = Tool({"verify", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "OK: no damage, 3 logical files")) << r.out;
  r = Tool({"verify", "--json", "--recovery_mode=kAbsoluteConsistency", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(ValidJson(r.out));
  EXPECT_TRUE(Has(r.out, "\"problems\":[]")) << r.out;

  r = Tool({"dump", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "create    file 1 offset 0 stored 10 raw 10 none"))
      << r.out.substr(0, 800);
  EXPECT_TRUE(Has(r.out, "name archive/000001.log"));
  EXPECT_TRUE(ValidJson(Tool({"dump", "--json", log_}).out));

  for (const auto& [name, bytes] : files_) {
    EXPECT_TRUE(Dumped(name) == bytes) << name;
  }
  r = Tool({"dump", log_, "--file=000005.log"});  // to stdout
  EXPECT_EQ(0, r.code);
  EXPECT_TRUE(r.out == files_[1].second);
  EXPECT_EQ(2, Tool({"dump", log_, "--file=nope.log"}).code);

  const std::string out = tmp_ / "all";
  r = Tool({"dump", log_, "--output_dir=" + out});
  ASSERT_EQ(0, r.code) << r.All();
  for (const auto& [name, bytes] : files_) {
    EXPECT_TRUE(ReadFileToString(out + "/" + name) == bytes) << name;
  }
  EXPECT_EQ(2, Tool({"dump", log_, "--output_dir=" + out}).code);  // not empty
  // Nothing of the above wrote to the log.
  EXPECT_TRUE(before == DirContents(log_));
}

// The newest segment ends in a frame cut short: a torn tail, which every
// mode but kAbsoluteConsistency cuts.
TEST_F(ToolTest, TornTail) {
  const std::string head = Bytes(5000, 7);
  const std::string last = Bytes(20000, 8);
  WriteLog(log_, Small(), {{"000009.log", head + last}}, 5000);
  const ScanResult scan = tool_test::Scan(log_);
  const ScannedSegment& seg = scan.segments.back();
  tool_test::Overwrite(tool_test::SegmentPath(log_, seg.id), seg.end - 64,
                       "garbage!");
  const auto before = DirContents(log_);

  Outcome r = Tool({"verify", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "torn tail: segment " + std::to_string(seg.id)))
      << r.out;
  r = Tool({"verify", "--recovery_mode=kAbsoluteConsistency", log_});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "torn_tail")) << r.out;

  r = Tool({"info", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "torn tail: cut")) << r.out;
  r = Tool({"info", "--json", log_});
  EXPECT_TRUE(ValidJson(r.out));
  EXPECT_TRUE(Has(r.out, "\"torn_tail\":{\"kind\":\"torn_tail\"")) << r.out;
  EXPECT_EQ(1,
            Tool({"info", "--recovery_mode=kAbsoluteConsistency", log_}).code);

  // Reading cuts the last frame: 5000 appends of 5000 bytes, the torn one
  // of them the last.
  const std::string read = Dumped("000009.log");
  EXPECT_EQ(head.size() + last.size() - 5000, read.size());
  EXPECT_TRUE((head + last).compare(0, read.size(), read) == 0);
  EXPECT_TRUE(before == DirContents(log_));

  // Cutting a torn tail drops nothing that was acknowledged: no --yes.
  r = Tool({"repair", log_});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "repaired")) << r.out;
  EXPECT_EQ(
      0, Tool({"verify", "--recovery_mode=kAbsoluteConsistency", log_}).code);
  EXPECT_TRUE(Dumped("000009.log") == read);
}

// Bytes of a sealed segment flipped: damage, listed with segment and
// offset; repair needs --yes and keeps the prefix.
TEST_F(ToolTest, DamagedLog) {
  const std::string bytes = Bytes(300000, 11);
  WriteLog(log_, Small(), {{"000012.log", bytes}});
  ASSERT_GE(tool_test::Scan(log_).segments.size(), 3u);
  tool_test::Overwrite(tool_test::SegmentPath(log_, 1), 20000, "\xff\xff\xff");
  const auto before = DirContents(log_);

  Outcome r = Tool({"verify", log_});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "problem: segment 1 offset ")) << r.out;
  EXPECT_TRUE(Has(r.out, "DAMAGED")) << r.out;
  r = Tool({"verify", "--json", log_});
  EXPECT_EQ(1, r.code);
  EXPECT_TRUE(ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"problems\":[{\"kind\":\"bad_")) << r.out;
  EXPECT_TRUE(Has(r.out, "\"segment\":1,")) << r.out;
  EXPECT_TRUE(Has(r.out, "\"reopen_fails\":true")) << r.out;

  r = Tool({"info", log_});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "the open fails: Corruption")) << r.out;
  EXPECT_TRUE(Has(r.out, "000012.log")) << r.out;  // shown whole anyway
  r = Tool({"info", "--recovery_mode=kPointInTimeRecovery", log_});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "segments set aside")) << r.out;

  r = Tool({"dump", log_});
  EXPECT_EQ(1, r.code);
  EXPECT_TRUE(Has(r.out, "DAMAGED")) << r.out.substr(0, 400);
  EXPECT_EQ(1, Tool({"dump", log_, "--file=000012.log"}).code);
  const std::string skipped =
      Dumped("000012.log", {"--recovery_mode=kSkipAnyCorruptedRecords"});
  EXPECT_EQ(bytes.size(), skipped.size());  // the damaged frame as zeros

  r = Tool({"repair", log_});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "refusing")) << r.out;
  EXPECT_TRUE(Has(r.out, "keeps")) << r.out;
  EXPECT_EQ(1, Tool({"repair", "--dry_run", log_}).code);
  r = Tool({"repair", "--json", log_});
  EXPECT_TRUE(ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"applied\":false")) << r.out;
  EXPECT_TRUE(before == DirContents(log_));  // refused: nothing changed

  r = Tool({"repair", "--yes", log_});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "repaired")) << r.out;
  EXPECT_TRUE(PathExists(log_ + "/00000000000000000002.seg.quarantined"));
  EXPECT_EQ(0, Tool({"verify", log_}).code);
  const std::string kept = Dumped("000012.log");
  EXPECT_LT(kept.size(), bytes.size());
  EXPECT_GT(kept.size(), 0u);
  EXPECT_TRUE(bytes.compare(0, kept.size(), kept) == 0);
  r = Tool({"repair", log_});
  EXPECT_EQ(0, r.code);
  EXPECT_TRUE(Has(r.out, "nothing to repair")) << r.out;
}

class ToolCodecTest : public ToolTest,
                      public ::testing::WithParamInterface<Codec> {};

TEST_P(ToolCodecTest, CompressedLog) {
  LogOptions options = Small();
  options.compression = GetParam();
  WriteHealthy(options);
  const std::string codec = CodecName(GetParam());
  Outcome r = Tool({"info", log_});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "\n  " + codec + " ")) << r.out;
  r = Tool({"info", "--json", log_});
  EXPECT_TRUE(Has(r.out, "{\"codec\":\"" + codec + "\",\"data_frames\":"))
      << r.out;
  EXPECT_EQ(0, Tool({"verify", log_}).code);
  r = Tool({"dump", log_});
  EXPECT_TRUE(Has(r.out, " " + codec + " mark ")) << r.out.substr(0, 600);
  for (const auto& [name, bytes] : files_) {
    EXPECT_TRUE(Dumped(name) == bytes) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, ToolCodecTest,
                         ::testing::Values(Codec::kLz4Group, Codec::kZstdGroup));

// A shared log_dir: the WALs of several DBs, named by absolute path.
TEST_F(ToolTest, SharedLogOfSeveralDbs) {
  files_ = {{"/srv/db1/000003.log", Bytes(4000, 1)},
            {"/srv/db1/archive/000001.log", Bytes(100, 2)},
            {"/srv/db2/000007.log", Bytes(9000, 3)}};
  WriteLog(log_, Small(), files_);
  Outcome r = Tool({"info", log_});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "directories (a shared log)")) << r.out;
  EXPECT_TRUE(tool_test::HasRow(r.out, {"/srv/db1", "2", "4100"})) << r.out;
  EXPECT_TRUE(tool_test::HasRow(r.out, {"/srv/db2", "1", "9000"})) << r.out;
  r = Tool({"info", "--json", log_});
  EXPECT_TRUE(
      Has(r.out, "{\"directory\":\"/srv/db1\",\"files\":2,\"bytes\":4100}"))
      << r.out;
  EXPECT_EQ(0, Tool({"verify", log_}).code);
  const std::string out = tmp_ / "out";
  r = Tool({"dump", log_, "--output_dir=" + out});
  ASSERT_EQ(0, r.code) << r.All();
  for (const auto& [name, bytes] : files_) {
    EXPECT_TRUE(ReadFileToString(out + name) == bytes) << name;
  }
}

}  // namespace
}  // namespace segwal
