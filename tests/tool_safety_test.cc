// The segwal tool with a log as hostile input, and a log a live process
// holds:
//  - crafted logical file names ("../..", absolute, very long, control
//    bytes, random) and sizes never make dump, export or repair write
//    outside the directory they were given;
//  - repair, export and import refuse a log (or DB) another process
//    holds, naming the process; the read-only commands still work.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

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
using tool_test::Tree;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Paths in `after` but not in `before` that are not beneath `allowed`.
std::vector<std::string> Escaped(const std::set<std::string>& before,
                                 const std::set<std::string>& after,
                                 const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  for (const std::string& p : after) {
    if (before.count(p) > 0) continue;
    bool ok = false;
    for (const std::string& a : allowed) {
      ok = ok || p == a || p.compare(0, a.size() + 1, a + "/") == 0;
    }
    if (!ok) out.push_back(p);
  }
  return out;
}

// Names a crafted or damaged log might hold; `root` is where the test
// lives, so that an escape is seen.
std::vector<std::string> HostileNames(const std::string& root) {
  std::vector<std::string> names = {
      "../../../escaped.log",
      "../escaped2.log",
      "/etc/segwal-never.log",
      root + "/absolute.log",
      "a/../../../x.log",
      "./000001.log",
      "archive/../../000002.log",
      "a//b.log",
      "a/./b.log",
      "..",
      ".",
      "/",
      "x/..",
      "line\nbreak.log",
      "tab\tand\x01ctl.log",
      "\xff\xfe.log",
      std::string(300, 'n') + ".log",               // a component too long
      std::string(4000, 'd').replace(100, 1, "/"),  // very long name
      "000003.log",                                 // a legitimate one
  };
  // Random names from pieces that matter to paths.
  const std::vector<std::string> pieces = {
      "..", ".", "/", "a", "000004.log", "archive", "%s", "\n", "~", "-"};
  std::mt19937 rng(20240611);
  for (int i = 0; i < 200; ++i) {
    std::string name;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) name += pieces[rng() % pieces.size()];
    names.push_back(name);
  }
  return names;
}

class ToolSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PathExists(tool_test::ToolPath())) << tool_test::ToolPath();
  }

  // A log in `dir` holding every name (the engine refuses none but the
  // empty one), each with a few bytes, and `huge` claiming 3 GiB.
  void WriteHostileLog(const std::string& dir,
                       const std::vector<std::string>& names,
                       const std::string& huge) {
    LogOptions options;
    options.segment_size = 1 << 20;
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(PosixStorage(), dir, options, &log, nullptr).ok());
    std::set<std::string> seen;
    for (const std::string& name : names) {
      if (!seen.insert(name).second) continue;
      uint64_t id = 0;
      IOStatus s = log->Create(name, &id);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_TRUE(log->Append(id, Bytes(100, 5)).ok());
    }
    uint64_t huge_id = 0;
    if (!huge.empty()) {
      ASSERT_TRUE(log->Create(huge, &huge_id).ok());
    }
    ASSERT_TRUE(log->SyncAll().ok());
    log.reset();
    if (!huge.empty()) tool_test::CraftHugeSize(dir, huge_id, kHuge);
  }

  static constexpr uint64_t kHuge = 3ull << 30;

  TempDir tmp_;
};

TEST_F(ToolSafetyTest, CraftedNamesNeverWriteOutside) {
  const std::string root = tmp_.path();
  const std::string sandbox = root + "/a/b/c";
  ASSERT_EQ(0, system(("mkdir -p " + sandbox).c_str()));
  const std::string log = sandbox + "/log";
  WriteHostileLog(log, HostileNames(root), "huge.log");

  // dump --output_dir: the legitimate names are written, the rest skipped.
  auto before = Tree(root);
  const std::string out = sandbox + "/out";
  Outcome r = Tool({"dump", log, "--output_dir=" + out});
  EXPECT_EQ(1, r.code) << r.All();  // skipped names are reported
  EXPECT_TRUE(Has(r.out, "skipped ../../../escaped.log")) << r.out;
  EXPECT_TRUE(Has(r.out, "skipped huge.log: claims 3221225472 bytes")) << r.out;
  EXPECT_TRUE(ReadFileToString(out + "/000003.log") == Bytes(100, 5));
  EXPECT_TRUE(ReadFileToString(out + "/etc/segwal-never.log") ==
              Bytes(100, 5));  // absolute names land beneath --output_dir
  EXPECT_FALSE(PathExists("/etc/segwal-never.log"));
  EXPECT_EQ(std::vector<std::string>{},
            Escaped(before, Tree(root), {"a/b/c/out"}));
  // --output_dir that is a symbolic link (to an empty directory) is not
  // followed.
  const std::string target = root + "/target";
  ASSERT_EQ(0, mkdir(target.c_str(), 0755));
  ASSERT_EQ(0, symlink(target.c_str(), (sandbox + "/out2").c_str()));
  r = Tool({"dump", log, "--output_dir=" + sandbox + "/out2"});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(test::ListDir(target).empty());

  // info, verify and dump print the names escaped.
  r = Tool({"info", log});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "line\\x0abreak.log")) << r.out;
  EXPECT_FALSE(Has(r.out, "line\nbreak.log"));
  EXPECT_TRUE(tool_test::ValidJson(Tool({"info", "--json", log}).out));
  EXPECT_TRUE(tool_test::ValidJson(Tool({"dump", "--json", log}).out));

  // repair of the same log, damaged: only the log directory changes.
  tool_test::Overwrite(tool_test::SegmentPath(log, 1), 8000, "\xee\xee\xee");
  before = Tree(root);
  r = Tool({"repair", "--yes", log});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_EQ(std::vector<std::string>{},
            Escaped(before, Tree(root), {"a/b/c/log"}));
}

// Export's names come from the DB's log: only WALs of the DB's own
// directory (and archive/) are written, never through a symbolic link.
TEST_F(ToolSafetyTest, ExportWritesOnlyIntoTheWalDirectory) {
  const std::string root = tmp_.path();
  const std::string db = root + "/x/db";
  ASSERT_EQ(0, system(("mkdir -p " + db + " " + root + "/elsewhere").c_str()));
  std::vector<std::string> names = HostileNames(root);
  for (const char* n : {"../000001.log", "archive/../../000002.log",
                        "/abs/000003.log", "000004.log", "archive/000005.log",
                        "archive/x/000006.log", "000007.log\n"}) {
    names.push_back(n);
  }
  WriteHostileLog(db + "/segwal", names, "");
  // archive/ is a link leading out of the DB: refused, nothing written.
  ASSERT_EQ(0,
            symlink((root + "/elsewhere").c_str(), (db + "/archive").c_str()));
  auto before = Tree(root);
  const auto log_before = DirContents(db + "/segwal");
  Outcome r = Tool({"export", "--db=" + db});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, "is a symbolic link")) << r.err;
  EXPECT_TRUE(before == Tree(root));
  EXPECT_TRUE(log_before == DirContents(db + "/segwal"));

  // A real archive directory: the two WALs of the DB come out.
  ASSERT_EQ(0, unlink((db + "/archive").c_str()));
  ASSERT_EQ(0, mkdir((db + "/archive").c_str(), 0755));
  before = Tree(root);
  r = Tool({"export", "--db=" + db});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_EQ(std::vector<std::string>{}, Escaped(before, Tree(root), {"x/db"}))
      << r.All();
  EXPECT_TRUE(ReadFileToString(db + "/000004.log") == Bytes(100, 5));
  EXPECT_TRUE(ReadFileToString(db + "/archive/000005.log") == Bytes(100, 5));
  EXPECT_TRUE(Has(Tool({"info", db + "/segwal"}).out, "../000001.log"));

  // A WAL claiming far more bytes than its frames hold is not exported.
  {
    LogOptions options;
    options.segment_size = 1 << 20;
    std::unique_ptr<Log> log;
    ASSERT_TRUE(
        Log::Open(PosixStorage(), db + "/segwal", options, &log, nullptr).ok());
    uint64_t id = 0;
    ASSERT_TRUE(log->Create("000008.log", &id).ok());
    ASSERT_TRUE(log->SyncAll().ok());
    log.reset();
    tool_test::CraftHugeSize(db + "/segwal", id, kHuge);
  }
  before = Tree(root);
  r = Tool({"export", "--db=" + db});
  EXPECT_EQ(1, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, "claims 3221225472 bytes")) << r.err;
  EXPECT_FALSE(PathExists(db + "/000008.log"));
}

// A child process holds the log (the engine's flock on LOCK), as a running
// DB does.
class HeldLogTest : public ToolSafetyTest {
 protected:
  void Hold(const std::string& log_dir) {
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      close(ready[0]);
      LogOptions options;  // the log may be damaged: opening only scans
      options.recovery_mode = RecoveryMode::kSkipAnyCorruptedRecords;
      std::unique_ptr<Log> log;
      if (!Log::Open(PosixStorage(), log_dir, options, &log, nullptr).ok() ||
          !log->EnsureWritable().ok()) {
        _exit(3);
      }
      char c = 'x';
      if (write(ready[1], &c, 1) != 1) _exit(4);
      pause();
      _exit(0);
    }
    close(ready[1]);
    char c = 0;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    close(ready[0]);
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
  }
  pid_t child_ = -1;
};

TEST_F(HeldLogTest, ChangingCommandsRefuseAndNameTheHolder) {
  const std::string db = tmp_ / "db";
  const std::string log = db + "/segwal";
  ASSERT_EQ(0, mkdir(db.c_str(), 0755));
  tool_test::WriteLog(log, LogOptions(), {{"000004.log", Bytes(5000, 1)}});
  tool_test::Overwrite(tool_test::SegmentPath(log, 1), 4096 + 60, "\x01");
  Hold(log);
  const std::string holder = "held by pid " + std::to_string(child_);
  const auto before = DirContents(log);

  Outcome r = Tool({"repair", "--yes", log});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, holder)) << r.err;
  EXPECT_TRUE(Has(r.err, "tool_safety_test")) << r.err;  // its command line
  r = Tool({"export", "--db=" + db});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, holder)) << r.err;
  ASSERT_EQ(0, mkdir((db + "/archive").c_str(), 0755));
  std::ofstream(db + "/000009.log") << "a plain WAL";
  r = Tool({"import", "--db=" + db});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, holder)) << r.err;
  EXPECT_TRUE(before == DirContents(log));

  // Reading still works, and says who holds the log.
  r = Tool({"info", log});
  EXPECT_TRUE(Has(r.out, "lock: " + holder)) << r.All();
  r = Tool({"stats", log});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "no metrics_file of pid " + std::to_string(child_)))
      << r.out;
  r = Tool({"stats", "--pid=" + std::to_string(child_)});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "segwal_live_bytes{log_dir=\"" + log + "\"}"))
      << r.out;
  EXPECT_TRUE(before == DirContents(log));
}

}  // namespace
}  // namespace segwal
