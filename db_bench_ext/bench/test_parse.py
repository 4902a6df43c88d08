"""Unit tests of the parsers and the case selection (no binaries needed).

Run: cd db_bench_ext && python3 -m unittest -v bench.test_parse
"""

import tempfile
import unittest
from pathlib import Path

from . import cases, parse
from .stats import pair_ratios, spread

DB_BENCH_OUT = """\
DB path: [/tmp/db]
fillrandom   :    1361.571 micros/op 734 ops/sec 2.723 seconds 2000 operations;    0.2 MB/s
Microseconds per write:
Count: 2000 Average: 1361.5290  StdDev: 2160.17
Min: 103  Median: 217.0217  Max: 22239
Percentiles: P50: 217.02 P75: 2654.39 P99: 9474.19 P99.9: 20666.67 P99.99: 22239.00
------------------------------------------------------
(      76,     110 ]       84   4.200%   4.200% #
(     110,     170 ]      618  30.900%  35.100% ######
[       0,       1 ]        0   0.000%  35.100%
(   22000,   33000 ]        1   0.050% 100.000%

STATISTICS:
rocksdb.wal.synced COUNT : 2000
rocksdb.wal.bytes COUNT : 576000
rocksdb.write.wal COUNT : 2000
rocksdb.wal.file.sync.micros P50 : 176.864686 P95 : 4347.368421 COUNT : 2000 SUM : 2642970
"""

SEGWAL_LOG = """\
2026/12/03-03:16:46.505915Z segwal log /x opened: sync_mode=group segment_size=67108864
2026/12/03-03:16:46.505915Z segwal recovery: segments_scanned=0 frames=0 valid_bytes=0 bytes_scanned=0 bytes_cut=0 files=0 torn_tail=no damages=0 elapsed_ms=0.018 throughput=0.00 GiB/s
2026/12/03-03:16:47.000000Z segwal stats: writes=10 write_bytes=1000 write_max_us=5 frames=10 frame_bytes=1200 writeback_starts=0
2026/12/03-03:16:47.694456Z segwal recovery: segments_scanned=2 frames=16311 valid_bytes=68249272 bytes_scanned=134215480 bytes_cut=0 files=1 torn_tail=no damages=0 elapsed_ms=340.351 throughput=0.37 GiB/s
2026/12/03-03:16:48.000000Z segwal log /x closed
2026/12/03-03:16:48.000000Z segwal stats: writes=20 write_bytes=3000 write_max_us=5 frames=20 frame_bytes=3300 writeback_starts=0
2026/12/03-03:16:48.000000Z segwal stats: sync_requests=20 batches=5 sync_batches=4 writes/batch=4.00 requests/sync_batch=5.00 batch_size_max=8 sync_avg_us=300.0 sync_max_us=900 batch_max_us=950
"""


class DbBenchOutputTest(unittest.TestCase):
    def test_result_histogram_tickers(self):
        out = parse.parse_db_bench(DB_BENCH_OUT)
        self.assertIsNotNone(out)
        self.assertEqual(out.benchmark, "fillrandom")
        self.assertEqual(out.ops_per_sec, 734)
        self.assertEqual(out.operations, 2000)
        h = out.histogram
        self.assertEqual((h.count, h.p50, h.p99, h.p999, h.max),
                         (2000, 217.02, 9474.19, 20666.67, 22239))
        self.assertEqual(h.buckets, [(110, 84), (170, 618), (1, 0), (33000, 1)])
        self.assertEqual(out.tickers["rocksdb.wal.synced"], 2000)
        self.assertEqual(out.tickers["rocksdb.wal.bytes"], 576000)
        self.assertNotIn("rocksdb.wal.file.sync.micros", out.tickers)

    def test_no_result(self):
        self.assertIsNone(parse.parse_db_bench("Initializing RocksDB Options\n"))

    def test_merge_buckets(self):
        a = parse.Histogram(buckets=[(10, 1), (20, 2)])
        b = parse.Histogram(buckets=[(20, 3), (30, 4)])
        self.assertEqual(parse.merge_buckets([a, b]), [(10, 1), (20, 5), (30, 4)])


class SegwalLogTest(unittest.TestCase):
    def test_last_dump_wins(self):
        s = parse.parse_segwal_stats(SEGWAL_LOG)
        self.assertEqual(s["write_bytes"], 3000)
        self.assertEqual(s["frame_bytes"], 3300)
        self.assertEqual(s["batches"], 5)
        self.assertEqual(s["sync_batches"], 4)

    def test_sum_over_logs(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ("a", "b"):
                (Path(d) / name / "segwal").mkdir(parents=True)
                (Path(d) / name / "segwal" / "LOG").write_text(SEGWAL_LOG)
            files = parse.segwal_log_files(Path(d), None)
            self.assertEqual(len(files), 2)
            total = parse.sum_segwal_stats(files)
            self.assertEqual(total["frame_bytes"], 6600)
            self.assertEqual(total["sync_avg_us"], 300.0)
            self.assertEqual(total["sync_max_us"], 900)
            self.assertEqual(total["logs"], 2)

    def test_recovery_lines(self):
        lines = parse.parse_recovery_lines(SEGWAL_LOG)
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[1].bytes_scanned, 134215480)
        self.assertAlmostEqual(lines[1].gib_per_s, 0.37)
        self.assertAlmostEqual(lines[1].elapsed_ms, 340.351)


class CasesTest(unittest.TestCase):
    def test_profiles_build(self):
        for profile in cases.PROFILES.values():
            built = cases.build_cases(profile)
            names = [c.name for c in built]
            self.assertEqual(len(names), len(set(names)), profile.name)
            self.assertEqual({c.group for c in built}, set(cases.GROUPS), profile.name)
            for c in built:
                if isinstance(c, cases.Case):
                    self.assertEqual(c.baseline.side, "stock")

    def test_select(self):
        built = cases.build_cases(cases.PROFILES["default"])
        sel = cases.select(built, "sync1,recovery,scale_8db")
        self.assertEqual([c.name for c in sel],
                         ["startup_1db", "sync1_1db_1t", "sync1_1db_8t", "sync1_1db_32t",
                          "sync1_1db_1t_100b", "scale_8db", "recovery"])
        self.assertEqual([c.group for c in cases.select(built, "latency")], ["sync1"] * 5)
        with self.assertRaises(ValueError):
            cases.select(built, "nosuchcase")

    def test_scaling_points(self):
        built = cases.build_cases(cases.PROFILES["default"])
        self.assertEqual([c.x for c in built if c.group == "scaling"],
                         [1, 2, 4, 8, 16, 32, 64])


class StatsTest(unittest.TestCase):
    def test_pairs_and_spread(self):
        r = pair_ratios([2.0, 3.0, None], [1.0, 2.0, 1.0])
        self.assertEqual(r, [2.0, 1.5])
        s = spread(r)
        self.assertEqual((s.median, s.min, s.max, s.n), (1.75, 1.5, 2.0, 2))
        self.assertEqual(s.fmt(".2f"), "1.75 (1.50-2.00)")
        self.assertIsNone(spread([None]))


if __name__ == "__main__":
    unittest.main()
