// Stock RocksDB tools that cannot be relinked: LD_PRELOAD=libsegwal.so makes
// `--fs_uri=segwal` / `--env_uri=...` work in /usr/bin/db_bench and
// /usr/bin/ldb, the WAL lives in segwal, and ldb reads it back.
//
// The library comes from $SEGWAL_LIB, else from the SEGWAL_LIB_PATH compile
// definition; with neither the test fails (it never skips silently).
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace {

using test::CountSegmentFiles;
using test::EndsWith;
using test::PathExists;
using test::PlainWalsWithData;
using test::TempDir;

constexpr char kDbBench[] = "/usr/bin/db_bench";
constexpr char kLdb[] = "/usr/bin/ldb";

std::string SegWalLib() {
  const char* lib = getenv("SEGWAL_LIB");
  if (lib != nullptr && *lib != '\0') return lib;
#ifdef SEGWAL_LIB_PATH
  return SEGWAL_LIB_PATH;
#else
  return "";
#endif
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr
};

Result RunShell(const std::string& command) {
  Result r;
  std::string full = "timeout 300 " + command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    r.output = "popen failed";
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// "<name> : ... <N> operations;" from a db_bench report; -1 if absent.
long Operations(const std::string& output, const std::string& benchmark) {
  std::smatch m;
  std::regex re(benchmark + R"(\s*:.*\s(\d+) operations;)");
  return std::regex_search(output, m, re) ? std::stol(m[1]) : -1;
}

class PreloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lib_ = SegWalLib();
    ASSERT_FALSE(lib_.empty())
        << "set SEGWAL_LIB to the path of libsegwal.so (or build with "
           "-DSEGWAL_LIB_PATH=\"...\"); this test does not skip";
    ASSERT_TRUE(PathExists(lib_)) << "SEGWAL_LIB=" << lib_ << " does not exist";
    ASSERT_TRUE(PathExists(kDbBench)) << kDbBench << ": install rocksdb-tools";
    ASSERT_TRUE(PathExists(kLdb)) << kLdb << ": install rocksdb-tools";
  }

  // A stock tool with libsegwal preloaded.
  Result Preloaded(const std::string& tool, const std::string& args) {
    return RunShell("env LD_PRELOAD=" + Quote(lib_) + " " + tool + " " + args);
  }

  std::string lib_;
  TempDir dir_;
};

TEST_F(PreloadTest, DbBenchAndLdbThroughSegWal) {
  const std::string db = dir_ / "db";
  Result r = Preloaded(kDbBench, "--fs_uri=segwal --benchmarks=fillrandom "
                                 "--num=2000 --sync=1 --seed=42 --db=" +
                                     Quote(db));
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(Operations(r.output, "fillrandom"), 2000) << r.output;

  // The WAL is in segwal: no plain WAL with data, segments beside the DB.
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  EXPECT_GT(CountSegmentFiles(db + "/segwal"), 0u);
  // Stock ldb without segwal finds no WAL, hence no data (the memtable was
  // never flushed: everything written is only in the WAL).
  r = RunShell(std::string(kLdb) + " --db=" + Quote(db) + " scan");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "") << r.output;

  // ldb finds the live WAL through segwal...
  r = Preloaded(kLdb, "--db=" + Quote(db) + " --fs_uri=segwal dump_live_files");
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<std::string> wals;
  bool in_wal_section = false;
  for (const std::string& line : Lines(r.output)) {
    if (line == "Write Ahead Log Files") in_wal_section = true;
    if (in_wal_section && EndsWith(line, ".log")) wals.push_back(line);
  }
  ASSERT_FALSE(wals.empty()) << r.output;

  // ...and dump_wal prints every record: 2000 single-Put batches, reading
  // only: the log directory stays as it was.
  const auto log_before = test::DirContents(db + "/segwal");
  size_t records = 0;
  std::set<std::string> keys;
  std::regex put(R"(PUT\(0\) : (0x[0-9A-F]+))");
  for (const std::string& wal : wals) {
    r = Preloaded(kLdb,
                  "--fs_uri=segwal dump_wal --header --walfile=" + Quote(wal));
    ASSERT_EQ(r.code, 0) << r.output;
    std::vector<std::string> lines = Lines(r.output);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].rfind("Sequence,Count,ByteSize", 0), 0u) << lines[0];
    for (const std::string& line : lines) {
      std::smatch m;
      if (std::regex_search(line, m, put)) {
        ++records;
        keys.insert(m[1]);
      }
    }
  }
  EXPECT_EQ(records, 2000u);
  ASSERT_GT(keys.size(), 1000u);  // fillrandom repeats some keys
  EXPECT_TRUE(log_before == test::DirContents(db + "/segwal"))
      << "ldb dump_wal changed the log directory";

  // Reopening replays the WAL from segwal: every distinct key is there.
  r = Preloaded(kDbBench, "--fs_uri=segwal --use_existing_db=1 "
                          "--benchmarks=readseq --num=2000 --db=" +
                              Quote(db));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Operations(r.output, "readseq"), static_cast<long>(keys.size()))
      << r.output;
  r = Preloaded(kLdb, "--db=" + Quote(db) + " --fs_uri=segwal scan");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Lines(r.output).size(), keys.size());
  EXPECT_TRUE(PlainWalsWithData(db).empty());
}

// --env_uri goes through segwal's Env factory, options included.
TEST_F(PreloadTest, DbBenchEnvUriWithOptions) {
  const std::string db = dir_ / "db";
  const std::string log_dir = dir_ / "wal";
  const std::string env_uri =
      "id=segwal;sync_mode=group;segment_size=1M;log_dir=" + log_dir;
  Result r = Preloaded(kDbBench, "--env_uri=" + Quote(env_uri) +
                                     " --benchmarks=fillseq --num=500 "
                                     "--sync=1 --db=" + Quote(db));
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(Operations(r.output, "fillseq"), 500) << r.output;
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  EXPECT_GT(CountSegmentFiles(log_dir), 0u);
  EXPECT_FALSE(PathExists(db + "/segwal"));
  // segment_size was honoured: the segments' headers say 1 MiB, and their
  // files (which grow by windows) are no larger.
  for (const std::string& name : test::ListDir(log_dir)) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(name, &id)) continue;
    const std::string image = test::ReadFileToString(log_dir + "/" + name);
    SegmentHeader header;
    uint32_t version = 0;
    ASSERT_EQ(HeaderCheck::kValid,
              DecodeSegmentHeader(image.data(), image.size(), &header,
                                  &version))
        << name;
    EXPECT_EQ(1u << 20, header.segment_size) << name;
    EXPECT_LE(image.size(), 1u << 20) << name;
  }

  r = Preloaded(kDbBench, "--env_uri=" + Quote(env_uri) +
                              " --use_existing_db=1 --benchmarks=readseq "
                              "--num=500 --db=" + Quote(db));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Operations(r.output, "readseq"), 500) << r.output;
}

// A typo in the options is an error in the stock tool, not a silent default.
TEST_F(PreloadTest, BadOptionFailsTheTool) {
  Result r = Preloaded(kDbBench, "--fs_uri='id=segwal;sync_mode=fast' "
                                 "--benchmarks=fillseq --num=10 --db=" +
                                     Quote(dir_ / "db"));
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sync_mode=fast"), std::string::npos) << r.output;
}

// A read-only ldb, another process, reads a DB that this process has open
// and writes: segwal gives it a read-only view of the log (this process
// holds the log's lock), and it writes nothing to the log directory.
TEST_F(PreloadTest, LdbReadsADbThatThisProcessWrites) {
  const std::string db_path = dir_ / "db";
  const std::string log_dir = db_path + "/segwal";
  auto fs = std::make_shared<SegWalFileSystem>(rocksdb::FileSystem::Default(),
                                               SegWalOptions());
  std::unique_ptr<rocksdb::Env> env = NewSegWalEnv(fs);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, db_path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db->Put(synced, "key" + std::to_string(1000 + i),
                        "v" + std::to_string(i)).ok());
  }
  const auto before = test::DirContents(log_dir);

  // Unflushed: the keys are in the WAL only, which ldb reads through segwal.
  const std::string scan = "--db=" + Quote(db_path) + " --fs_uri=segwal scan";
  Result r = Preloaded(kLdb, scan);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Lines(r.output).size(), 100u) << r.output;
  EXPECT_NE(r.output.find("key1042 : v42\n"), std::string::npos) << r.output;
  EXPECT_TRUE(before == test::DirContents(log_dir))
      << "ldb changed the log directory";

  // The writer is unaffected: it goes on, and a reopen finds everything.
  for (int i = 100; i < 150; ++i) {
    ASSERT_TRUE(db->Put(synced, "key" + std::to_string(1000 + i),
                        "v" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  r = Preloaded(kLdb, scan);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Lines(r.output).size(), 150u) << r.output;
}

}  // namespace
}  // namespace segwal
