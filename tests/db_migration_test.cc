// Whole-DB tests of moving a DB in and out of segwal: stock RocksDB's plain
// WALs read through segwal, logical WALs exported for stock RocksDB, and
// what stock RocksDB does with a segwal DB it cannot see the WALs of.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "env/fs/export.h"
#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "tests/segwal_test_util.h"
#include "tests/support/db_fixture.h"

namespace segwal {
namespace {

using namespace db_test;  // NOLINT: the fixture's names

// A DB written by stock RocksDB (plain WALs with unflushed data) opens
// through segwal and recovers them.
TEST_F(SegWalDbTest, StockDbOpensThroughSegWal) {
  const std::string db = tmp_ / "db";
  {
    Options stock;
    stock.create_if_missing = true;
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(stock, db, &raw).ok());
    std::unique_ptr<DB> sdb(raw);
    Put(0, 100, "s", false, sdb.get());
    Put(100, 200, "s", true, sdb.get());
    ASSERT_TRUE(sdb->Close().ok());
  }
  ASSERT_EQ(1u, PlainWalsWithData(db).size());
  EXPECT_EQ(1u, WalsSeen(db).size());  // the plain WAL is listed

  OpenDb(DbOptions(), db);
  ExpectPresent(0, 200, "s");
  Put(200, 300, "s", false);
  CloseDb();
  // The plain WAL was recovered and retired; new WALs are logical.
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  OpenDb(DbOptions(), db);
  ExpectPresent(0, 300, "s");
}

// ExportLogicalWals turns the logical WALs back into plain files: stock
// RocksDB then recovers the unflushed writes.
TEST_F(SegWalDbTest, ExportThenStockOpen) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.WAL_ttl_seconds = 3600;
  OpenDb(options, db);
  Put(0, 100, "e", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "e", false);
  CloseDb();
  env_.reset();
  fs_.reset();

  std::vector<std::string> exported;
  IOStatus s = ExportLogicalWals(db, test::SmallSegments(), &exported);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(exported.size(), 2u);  // the live WAL and the archived one
  EXPECT_FALSE(PathExists(db + "/segwal"));
  EXPECT_FALSE(PlainWalsWithData(db).empty());

  Options stock;
  stock.WAL_ttl_seconds = 3600;
  DB* raw = nullptr;
  Status st = DB::Open(stock, db, &raw);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<DB> sdb(raw);
  ExpectPresent(0, 200, "e", sdb.get());
  rocksdb::VectorLogPtr wals;
  ASSERT_TRUE(sdb->GetSortedWalFiles(wals).ok());
  EXPECT_FALSE(wals.empty());
  ASSERT_TRUE(sdb->Close().ok());
}

// The risk of opening a segwal DB with stock RocksDB, pinned: stock
// RocksDB sees no WAL files.
//  - track_and_verify_wals_in_manifest=true: RocksDB 7.8.3 records a WAL's
//    synced size in the MANIFEST only once the WAL is closed (a newer WAL
//    exists) and synced. Such a WAL still holding unflushed data (another
//    column family was flushed) makes stock RocksDB refuse to open
//    ("Missing WAL"). Unflushed data only in the active WAL is not
//    protected: stock RocksDB opens and it is gone.
//  - without it: stock RocksDB opens and every unflushed write is gone.
// Through segwal the same DBs recover everything, even after a stock open
// that wrote nothing.
class StockRiskTest : public SegWalDbTest {
 protected:
  // Writes flushed keys [0, 100) and unflushed synced keys [100, 200) to
  // the default family; with `closed_wal`, another family is then flushed
  // so that the unflushed keys sit in a closed, synced, tracked WAL.
  void Prepare(const std::string& db, bool track, bool closed_wal) {
    Options options = DbOptions();
    options.track_and_verify_wals_in_manifest = track;
    options.create_missing_column_families = true;
    std::vector<ColumnFamilyHandle*> handles;
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(options, db, Families(options), &handles, &raw).ok());
    Put(0, 100, "f", true, raw);
    ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[0]).ok());
    Put(100, 200, "u", /*sync=*/true, raw);
    if (closed_wal) {
      ASSERT_TRUE(raw->Put(WriteOptions(), handles[1], "x", "y").ok());
      ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[1]).ok());
    }
    for (ColumnFamilyHandle* h : handles) {
      ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    }
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
    EXPECT_TRUE(PlainWalsWithData(db).empty());
  }

  static std::vector<ColumnFamilyDescriptor> Families(const Options& o) {
    return {{rocksdb::kDefaultColumnFamilyName, o}, {"other", o}};
  }

  // Opens `db` with `options`; on success returns how many of the
  // unflushed keys are missing, and checks the flushed ones are there.
  Status OpenAndCountLost(const std::string& db, Options options, int* lost) {
    std::vector<ColumnFamilyHandle*> handles;
    DB* raw = nullptr;
    Status s = DB::Open(options, db, Families(options), &handles, &raw);
    if (!s.ok()) return s;
    ExpectPresent(0, 100, "f", raw);
    *lost = 0;
    for (int i = 100; i < 200; ++i) {
      std::string v;
      if (!raw->Get(ReadOptions(), Key(i), &v).ok() || v != Value("u", i)) {
        ++*lost;
      }
    }
    for (ColumnFamilyHandle* h : handles) {
      EXPECT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    }
    EXPECT_TRUE(raw->Close().ok());
    delete raw;
    return s;
  }

  static Options Stock(bool track) {
    Options o;
    o.track_and_verify_wals_in_manifest = track;
    return o;
  }
};

TEST_F(StockRiskTest, TrackedClosedWalMakesStockRocksDbRefuse) {
  const std::string db = tmp_ / "db";
  Prepare(db, /*track=*/true, /*closed_wal=*/true);
  int lost = -1;
  Status s = OpenAndCountLost(db, Stock(true), &lost);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("Missing WAL")) << s.ToString();
  // Refusing changed nothing: segwal recovers everything, and RocksDB's
  // own check (sizes in the MANIFEST) passes on the logical WALs.
  Options options = DbOptions();
  options.track_and_verify_wals_in_manifest = true;
  s = OpenAndCountLost(db, options, &lost);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(0, lost);
}

TEST_F(StockRiskTest, TrackedActiveWalIsLostSilently) {
  const std::string db = tmp_ / "db";
  Prepare(db, /*track=*/true, /*closed_wal=*/false);
  int lost = -1;
  Status s = OpenAndCountLost(db, Stock(true), &lost);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(100, lost);
}

TEST_F(StockRiskTest, UntrackedWalsAreLostSilently) {
  for (bool closed_wal : {false, true}) {
    SCOPED_TRACE(closed_wal);
    const std::string db = tmp_ / (closed_wal ? "closed" : "active");
    const std::string control = db + "-control";
    Prepare(db, /*track=*/false, closed_wal);
    Prepare(control, /*track=*/false, closed_wal);
    // The same DB opened through segwal loses nothing.
    int lost = -1;
    Status s = OpenAndCountLost(control, DbOptions(), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(0, lost);
    s = OpenAndCountLost(db, Stock(false), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(100, lost);
    // Stock RocksDB wrote nothing here, so it did not move the DB past
    // those WALs: opened through segwal again, the writes come back. (Had
    // it written, its new writes would reuse their sequence numbers.)
    s = OpenAndCountLost(db, DbOptions(), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(0, lost);
  }
}

}  // namespace
}  // namespace segwal
