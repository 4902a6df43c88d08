"""Parsers: db_bench's output, its latency histogram and statistics, and
the lines segwal writes to the LOG file of its log directory
(env/log_metrics.cc: FormatStatsDump, FormatRecoverySummary)."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# "fillrandom   :    1361.571 micros/op 734 ops/sec 2.723 seconds 2000 operations;"
RESULT_RE = re.compile(
    r"^(\w+)\s*:\s*([\d.]+) micros/op (\d+) ops/sec(?: ([\d.]+) seconds (\d+) operations)?",
    re.MULTILINE)
HIST_MINMAX_RE = re.compile(r"^Min: ([\d.]+)\s+Median: ([\d.]+)\s+Max: ([\d.]+)", re.MULTILINE)
HIST_COUNT_RE = re.compile(r"^Count: (\d+) Average: ([\d.]+)", re.MULTILINE)
HIST_PCT_RE = re.compile(r"^Percentiles: (.*)$", re.MULTILINE)
HIST_BUCKET_RE = re.compile(r"^[\[(]\s*([\d.]+),\s*([\d.]+)\s*[\])]\s+(\d+)\s", re.MULTILINE)
TICKER_RE = re.compile(r"^(rocksdb\.[\w.]+) COUNT : (\d+)$", re.MULTILINE)


@dataclass
class Histogram:
    """db_bench's latency histogram of one run, in microseconds."""
    count: int = 0
    mean: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    max: float = 0.0
    # (upper bound of a bucket, count); ascending.
    buckets: List[Tuple[float, int]] = field(default_factory=list)

    def to_json(self):
        return self.__dict__


@dataclass
class DbBenchOutput:
    benchmark: str
    micros_per_op: float
    ops_per_sec: float
    seconds: Optional[float]
    operations: Optional[int]
    histogram: Optional[Histogram]
    tickers: Dict[str, int]


def parse_db_bench(stdout: str) -> Optional[DbBenchOutput]:
    """The first benchmark result line of db_bench's stdout, with the
    histogram and tickers that follow it; None if there is none."""
    m = RESULT_RE.search(stdout)
    if not m:
        return None
    rest = stdout[m.end():]
    return DbBenchOutput(
        benchmark=m.group(1),
        micros_per_op=float(m.group(2)),
        ops_per_sec=float(m.group(3)),
        seconds=float(m.group(4)) if m.group(4) else None,
        operations=int(m.group(5)) if m.group(5) else None,
        histogram=parse_histogram(rest),
        tickers={k: int(v) for k, v in TICKER_RE.findall(rest)},
    )


def parse_histogram(text: str) -> Optional[Histogram]:
    """The first "Microseconds per write:" block of db_bench --histogram=1."""
    start = text.find("Microseconds per ")
    if start < 0:
        return None
    block = text[start:]
    end = block.find("\n\n")
    if end > 0:
        block = block[:end]
    h = Histogram()
    m = HIST_COUNT_RE.search(block)
    if m:
        h.count, h.mean = int(m.group(1)), float(m.group(2))
    m = HIST_MINMAX_RE.search(block)
    if m:
        h.max = float(m.group(3))
    m = HIST_PCT_RE.search(block)
    if m:
        pct = dict(re.findall(r"(P[\d.]+): ([\d.]+)", m.group(1)))
        h.p50 = float(pct.get("P50", 0))
        h.p99 = float(pct.get("P99", 0))
        h.p999 = float(pct.get("P99.9", 0))
    h.buckets = [(float(hi), int(n)) for _lo, hi, n in HIST_BUCKET_RE.findall(block)]
    return h


def merge_buckets(hists: List[Histogram]) -> List[Tuple[float, int]]:
    """Bucket counts of several runs added up (db_bench's bucket bounds are
    fixed, so the same bound is the same bucket)."""
    total: Dict[float, int] = {}
    for h in hists:
        for hi, n in h.buckets:
            total[hi] = total.get(hi, 0) + n
    return sorted(total.items())


# ---------------------------------------------------------------------------
# segwal's LOG file
# ---------------------------------------------------------------------------

STATS_KEYS = ("writes", "write_bytes", "frames", "frame_bytes", "sync_requests",
              "batches", "sync_batches", "sync_avg_us", "sync_max_us",
              "segments_created", "segments_zero_filled", "segments_recycled",
              "log_bytes")
# Counters that add up across the logs of one run.
STATS_SUMMED = ("writes", "write_bytes", "frames", "frame_bytes", "sync_requests",
                "batches", "sync_batches", "segments_created",
                "segments_zero_filled", "segments_recycled", "log_bytes")
KV_RE = re.compile(r"\b([\w/.]+)=([\w.]+)")


def _kv(line: str) -> Dict[str, str]:
    return dict(KV_RE.findall(line))


def segwal_log_files(db_dir: Path, log_dir: Optional[Path]) -> List[Path]:
    """The LOG files of the segwal logs a run used: <log_dir>/LOG when the
    log is shared, else every <wal dir>/segwal/LOG under the DB directory."""
    if log_dir is not None:
        p = log_dir / "LOG"
        return [p] if p.is_file() else []
    return sorted(p for p in db_dir.rglob("LOG") if p.parent.name == "segwal")


def parse_segwal_stats(text: str) -> Dict[str, float]:
    """The last value of each counter in the "segwal stats:" lines (the last
    dump is the one written when the log closed: the whole session)."""
    out: Dict[str, float] = {}
    for line in text.splitlines():
        if "segwal stats:" not in line:
            continue
        for k, v in _kv(line.split("segwal stats:", 1)[1]).items():
            if k in STATS_KEYS:
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
    return out


def sum_segwal_stats(files: List[Path]) -> Dict[str, float]:
    """The counters of several logs (one per DB) added up; sync_max_us is
    the largest, sync_avg_us weighted by sync batches."""
    total: Dict[str, float] = {}
    weighted_sync_us = 0.0
    for f in files:
        s = parse_segwal_stats(f.read_text(errors="replace"))
        for k in STATS_SUMMED:
            if k in s:
                total[k] = total.get(k, 0.0) + s[k]
        if "sync_max_us" in s:
            total["sync_max_us"] = max(total.get("sync_max_us", 0.0), s["sync_max_us"])
        weighted_sync_us += s.get("sync_avg_us", 0.0) * s.get("sync_batches", 0.0)
    if total.get("sync_batches"):
        total["sync_avg_us"] = weighted_sync_us / total["sync_batches"]
    if files:
        total["logs"] = float(len(files))
    return total


@dataclass
class RecoveryLine:
    segments_scanned: int
    bytes_scanned: int
    valid_bytes: int
    elapsed_ms: float
    gib_per_s: float


def parse_recovery_lines(text: str) -> List[RecoveryLine]:
    """Every "segwal recovery:" summary line, in order (one per log open)."""
    out = []
    for line in text.splitlines():
        if "segwal recovery:" not in line or "damage:" in line:
            continue
        kv = _kv(line.split("segwal recovery:", 1)[1])
        try:
            out.append(RecoveryLine(
                segments_scanned=int(kv["segments_scanned"]),
                bytes_scanned=int(kv["bytes_scanned"]),
                valid_bytes=int(kv["valid_bytes"]),
                elapsed_ms=float(kv["elapsed_ms"]),
                gib_per_s=float(kv["throughput"])))
        except (KeyError, ValueError):
            continue
    return out


def parse_json_lines(text: str) -> List[dict]:
    """The JSON objects a db_bench_ext program printed, one per line."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def count_rocksdb_log_lines(db_dir: Path, needle: str) -> int:
    """How many lines of RocksDB's own LOG files under db_dir contain needle
    (e.g. "reusing log" for recycled WALs)."""
    n = 0
    for p in db_dir.rglob("LOG"):
        if p.parent.name == "segwal":
            continue
        n += sum(1 for line in p.read_text(errors="replace").splitlines() if needle in line)
    return n
