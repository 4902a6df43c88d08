// `segwal export` and `segwal import` through the real binary, with DBs
// written by RocksDB 7.8.3 through segwal in this process: after export,
// stock /usr/bin/ldb (no segwal loaded) reads every acknowledged key;
// import moves plain WALs into a log and back.
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/segwal_test_util.h"
#include "tests/support/db_fixture.h"
#include "tests/support/tool_runner.h"

namespace segwal {
namespace {

using namespace db_test;  // NOLINT: the fixture's names
using tool_test::Outcome;
using tool_test::Quote;
using tool_test::Shell;
using tool_test::Tool;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ToolMigrationTest : public SegWalDbTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PathExists(tool_test::ToolPath())) << tool_test::ToolPath();
  }

  // Writes keys [from, to) with sync=true, each acknowledged.
  void Write(const std::string& db, int from, int to, const std::string& tag,
             bool flush_midway) {
    OpenDb(DbOptions(), db);
    const int mid = flush_midway ? (from + to) / 2 : to;
    Put(from, mid, tag, /*sync=*/true);
    if (flush_midway) {
      ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
    }
    Put(mid, to, tag, /*sync=*/true);
    CloseDb();
  }

  // Drops this process's FileSystem (and with it the logs it held).
  void Release() {
    CloseDb();
    env_.reset();
    fs_.reset();
  }

  // Keys stock ldb (no segwal) reads from `db`: key -> value.
  static std::map<std::string, std::string> StockScan(const std::string& db) {
    const Outcome r = Shell("/usr/bin/ldb --db=" + Quote(db) + " scan");
    EXPECT_EQ(0, r.code) << r.All();
    std::map<std::string, std::string> out;
    std::istringstream in(r.out);
    std::string line;
    const std::string sep = " : ";  // "key : value"
    while (std::getline(in, line)) {
      const size_t at = line.find(sep);
      if (at != std::string::npos) {
        out[line.substr(0, at)] = line.substr(at + sep.size());
      }
    }
    return out;
  }

  static void ExpectKeys(const std::map<std::string, std::string>& got,
                         int from, int to, const std::string& tag) {
    int missing = 0;
    for (int i = from; i < to; ++i) {
      auto it = got.find(Key(i));
      if (it == got.end() || it->second != Value(tag, i)) ++missing;
    }
    EXPECT_EQ(0, missing) << "of keys [" << from << ", " << to << "); read "
                          << got.size() << " keys, first "
                          << (got.empty() ? ""
                                          : got.begin()->first + " ==> " +
                                                got.begin()->second);
  }
};

TEST_F(ToolMigrationTest, ExportThenStockLdbReadsEveryKey) {
  const std::string db = tmp_ / "db";
  Write(db, 0, 400, "x", /*flush_midway=*/true);
  Release();
  EXPECT_TRUE(StockScan(db).size() < 400u);  // the WAL is invisible to it

  Outcome r = Tool({"export", "--db=" + db, "--dry_run"});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "would export")) << r.out;
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  r = Tool({"export", "--db=" + db, "--json"});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(tool_test::ValidJson(r.out)) << r.out;
  EXPECT_TRUE(Has(r.out, "\"exported\":[\"" + db + "/")) << r.out;
  EXPECT_FALSE(PathExists(db + "/segwal"));  // the emptied log is removed
  EXPECT_FALSE(PlainWalsWithData(db).empty());
  ExpectKeys(StockScan(db), 0, 400, "x");
  r = Tool({"export", "--db=" + db});  // again: nothing left
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(Has(r.out, "nothing to export")) << r.out;
}

// Two DBs in one shared log: exporting one leaves the other's WALs.
TEST_F(ToolMigrationTest, SharedLogExportsOneDb) {
  const std::string wal = tmp_ / "wal";
  NewFs(test::SmallSegments(wal));
  const std::string db1 = tmp_ / "db1";
  const std::string db2 = tmp_ / "db2";
  Write(db1, 0, 150, "one", false);
  Write(db2, 0, 250, "two", false);
  Release();
  Outcome r = Tool({"info", wal});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(tool_test::HasRow(r.out, {db1, "1"})) << r.out;
  EXPECT_TRUE(tool_test::HasRow(r.out, {db2, "1"})) << r.out;

  r = Tool({"export", "--db=" + db1, "--log_dir=" + wal});
  ASSERT_EQ(0, r.code) << r.All();
  ExpectKeys(StockScan(db1), 0, 150, "one");
  r = Tool({"info", wal});
  EXPECT_FALSE(Has(r.out, db1 + "/")) << r.out;
  EXPECT_TRUE(Has(r.out, db2 + "/")) << r.out;
  // db2 still opens through segwal with every write.
  NewFs(test::SmallSegments(wal));
  OpenDb(DbOptions(), db2);
  ExpectPresent(0, 250, "two");
}

// A separate wal_dir: the WALs land there.
TEST_F(ToolMigrationTest, ExportToWalDir) {
  const std::string db = tmp_ / "db";
  const std::string wals = tmp_ / "wals";
  Options options = DbOptions();
  options.wal_dir = wals;
  OpenDb(options, db);
  Put(0, 100, "w", true);
  Release();
  Outcome r = Tool({"export", "--db=" + db, "--wal_dir=" + wals});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_FALSE(PlainWalsWithData(wals).empty());
  Options stock;
  stock.wal_dir = wals;
  DB* raw = nullptr;
  ASSERT_TRUE(DB::Open(stock, db, &raw).ok());
  std::unique_ptr<DB> sdb(raw);
  ExpectPresent(0, 100, "w", sdb.get());
}

TEST_F(ToolMigrationTest, RefusesAnOpenDb) {
  const std::string db = tmp_ / "db";
  OpenDb(DbOptions(), db);
  Put(0, 10, "o", true);
  const auto before = test::DirContents(db + "/segwal");
  Outcome r = Tool({"export", "--db=" + db});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, "is open")) << r.err;
  EXPECT_TRUE(Has(r.err, "held by pid " + std::to_string(getpid()))) << r.err;
  r = Tool({"import", "--db=" + db});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  EXPECT_TRUE(before == test::DirContents(db + "/segwal"));
}

// Plain WALs (stock RocksDB) into a log and out again.
TEST_F(ToolMigrationTest, ImportRoundTrip) {
  const std::string db = tmp_ / "db";
  {
    Options stock;
    stock.create_if_missing = true;
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(stock, db, &raw).ok());
    std::unique_ptr<DB> sdb(raw);
    Put(0, 300, "p", true, sdb.get());
    ASSERT_TRUE(sdb->Close().ok());
  }
  const std::vector<std::string> plain = PlainWalsWithData(db);
  ASSERT_EQ(1u, plain.size());
  const std::string bytes = test::ReadFileToString(db + "/" + plain[0]);
  Release();

  Outcome r = Tool({"import", "--db=" + db, "--dry_run"});
  EXPECT_EQ(0, r.code) << r.All();
  EXPECT_FALSE(PlainWalsWithData(db).empty());
  r = Tool({"import", "--db=" + db, "--segment_size=1M", "--compression=zstd"});
  ASSERT_EQ(0, r.code) << r.All();
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  EXPECT_EQ(0, Tool({"verify", db + "/segwal"}).code);
  r = Tool({"info", db + "/segwal"});
  EXPECT_TRUE(tool_test::HasRow(r.out, {"zstd"})) << r.out;
  EXPECT_TRUE(
      tool_test::HasRow(r.out, {plain[0], std::to_string(bytes.size())}))
      << r.out;
  r = Tool({"dump", db + "/segwal", "--file=" + plain[0]});
  EXPECT_TRUE(r.out == bytes);  // byte for byte
  EXPECT_TRUE(Has(Tool({"import", "--db=" + db}).out, "nothing to import"));

  NewFs(test::SmallSegments());
  OpenDb(DbOptions(), db);
  ExpectPresent(0, 300, "p");
  Put(300, 350, "p", true);
  Release();
  ASSERT_EQ(0, Tool({"export", "--db=" + db}).code);
  ExpectKeys(StockScan(db), 0, 350, "p");
}

// A plain WAL and a logical one of the same name with other bytes: the
// import refuses and changes nothing.
TEST_F(ToolMigrationTest, ImportRefusesConflictingCopies) {
  const std::string db = tmp_ / "db";
  ASSERT_EQ(0, mkdir(db.c_str(), 0755));
  LogOptions options;
  options.segment_size = 1 << 20;
  tool_test::WriteLog(db + "/segwal", options,
                      {{"000004.log", "logical bytes"}});
  std::ofstream(db + "/000004.log") << "plain bytes";
  const auto before = test::DirContents(db + "/segwal");
  Outcome r = Tool({"import", "--db=" + db});
  EXPECT_EQ(2, r.code) << r.All();
  EXPECT_TRUE(Has(r.err, "different bytes")) << r.err;
  EXPECT_TRUE(before == test::DirContents(db + "/segwal"));
  EXPECT_EQ("plain bytes", test::ReadFileToString(db + "/000004.log"));
}

}  // namespace
}  // namespace segwal
