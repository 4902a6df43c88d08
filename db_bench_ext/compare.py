#!/usr/bin/env python3
"""Stock RocksDB vs segwal: an interleaved db_bench comparison.

Both sides run the same stock db_bench binary (Debian's rocksdb-tools):

  stock   db_bench <case flags>
  segwal  LD_PRELOAD=<build>/libsegwal.so db_bench <case flags> --fs_uri=<uri>

Runs are interleaved (stock, segwal, segwal, stock, ...) so that drift on a
shared, noisy machine hits both sides alike, and results are reported as
medians and as the median of per-pair ratios. Every run uses a fresh database
directory under --work-dir, deleted afterwards. Segwal runs are checked to
have really used segwal (WAL data in segment files, no plain *.log WALs).

Example:
  python3 db_bench_ext/compare.py --build-dir build --repeats 5
  python3 db_bench_ext/compare.py --cases sync1_1db_1t --fs-uri 'id=segwal;sync_mode=group'
"""

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent

# Flags shared by every case.
COMMON_FLAGS = [
    "--benchmarks=fillrandom",
    "--key_size=16",
    "--value_size=256",
    "--histogram=0",
    "--statistics=0",
]


@dataclass(frozen=True)
class Case:
    name: str
    flags: List[str]
    # Ops per thread (db_bench writes threads * num * max(1, num_multi_db)).
    num: int
    # Segwal side: give all DBs of the process one shared log (log_dir=...).
    shared_log: bool = False


# Sized for roughly 3-5 s per run on a 2-core VM with a virtio disk.
CASES = [
    Case("sync1_1db_1t", ["--sync=1", "--threads=1"], num=20000),
    Case("sync1_1db_8t", ["--sync=1", "--threads=8"], num=6000),
    Case("sync1_1db_32t", ["--sync=1", "--threads=32"], num=1500),
    Case("sync1_8db_8t", ["--sync=1", "--threads=8", "--num_multi_db=8"],
         num=1000, shared_log=True),
    Case("sync1_32db_32t", ["--sync=1", "--threads=32", "--num_multi_db=32"],
         num=150, shared_log=True),
    Case("sync0_1db_1t", ["--sync=0", "--threads=1"], num=400000),
]

SIDES = ("stock", "segwal")
RESULT_RE = re.compile(
    r"^fillrandom\s*:\s*([\d.]+) micros/op (\d+) ops/sec", re.MULTILINE)


class BenchError(RuntimeError):
    pass


@dataclass
class CaseResults:
    case: Case
    ops: Dict[str, List[float]] = field(
        default_factory=lambda: {s: [] for s in SIDES})
    ratios: List[float] = field(default_factory=list)  # segwal/stock, per repeat


# --------------------------------------------------------------------------
# Running db_bench
# --------------------------------------------------------------------------

def segwal_uri(base_uri: str, log_dir: Optional[Path]) -> str:
    """The --fs_uri value for the segwal side, with log_dir added if given."""
    if log_dir is None:
        return base_uri
    uri = base_uri if "=" in base_uri else "id=" + base_uri
    return f"{uri};log_dir={log_dir}"


def db_bench_command(args, case: Case, side: str, run_dir: Path):
    """Returns (argv, env, log_dir) for one run."""
    num = max(1, int(case.num * args.scale))
    argv = [args.db_bench, *COMMON_FLAGS, *case.flags,
            f"--num={num}", f"--db={run_dir / 'db'}"]
    env = dict(os.environ)
    log_dir = None
    if side == "segwal":
        if case.shared_log:
            log_dir = run_dir / "segwal-log"
            log_dir.mkdir()
        # One argv element: the uri may contain ';'.
        argv.append("--fs_uri=" + segwal_uri(args.fs_uri, log_dir))
        preload = env.get("LD_PRELOAD", "")
        env["LD_PRELOAD"] = " ".join(p for p in (str(args.libsegwal), preload) if p)
    return argv, env, log_dir


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def find_segwal_problems(db_dir: Path, log_dir: Optional[Path]) -> List[str]:
    """Checks that a segwal run stored its WAL data in segments.

    No plain *.log file with data may remain in the database directory tree,
    and segment files (*.seg, in a directory named "segwal" inside the WAL
    directory, or anywhere under log_dir when one is given) must exist.
    """
    problems = []
    plain_wals = [p for p in db_dir.rglob("*.log")
                  if p.is_file() and p.stat().st_size > 0
                  and "segwal" not in p.relative_to(db_dir).parts]
    if plain_wals:
        names = ", ".join(str(p.relative_to(db_dir)) for p in plain_wals[:5])
        problems.append(f"plain WAL files with data in {db_dir}: {names}")
    if log_dir is not None:
        segments = list(log_dir.rglob("*.seg"))
        where = str(log_dir)
    else:
        segments = [p for p in db_dir.rglob("*.seg") if "segwal" in p.parent.parts]
        where = f"{db_dir}/**/segwal/"
    if not segments:
        problems.append(f"no segment files (*.seg) under {where}")
    return problems


def run_once(args, case: Case, side: str) -> float:
    """Runs one db_bench process in a fresh directory; returns ops/sec."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{case.name}-{side}-", dir=args.work_dir))
    try:
        argv, env, log_dir = db_bench_command(args, case, side, run_dir)
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, env=env, capture_output=True, text=True,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{case.name}/{side}: timed out after {args.timeout}s\n"
                             f"command: {shlex.join(argv)}")
        elapsed = time.monotonic() - start
        match = RESULT_RE.search(proc.stdout)
        if proc.returncode != 0 or not match:
            raise BenchError(
                f"{case.name}/{side}: db_bench failed (exit {proc.returncode})\n"
                f"command: {shlex.join(argv)}\n"
                + (f"LD_PRELOAD={env['LD_PRELOAD']}\n" if side == "segwal" else "")
                + f"--- stderr (tail) ---\n{tail(proc.stderr)}\n"
                f"--- stdout (tail) ---\n{tail(proc.stdout, 10)}")
        if side == "segwal" and args.verify:
            problems = find_segwal_problems(run_dir / "db", log_dir)
            if problems:
                raise BenchError(
                    f"{case.name}/segwal: the run did not use segwal:\n  "
                    + "\n  ".join(problems)
                    + f"\ncommand: {shlex.join(argv)}\n(--no-verify skips this check)")
        ops = float(match.group(2))
        print(f"  {case.name:<14} {side:<6} {ops:>10.0f} ops/s  ({elapsed:.1f}s)",
              flush=True)
        return ops
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def run_all(args, cases: List[Case]) -> List[CaseResults]:
    results = [CaseResults(c) for c in cases]
    sides = ("stock",) if args.stock_only else SIDES
    for r in range(args.repeats):
        print(f"repeat {r + 1}/{args.repeats}", flush=True)
        order = sides if r % 2 == 0 else tuple(reversed(sides))
        for res in results:
            got = {side: run_once(args, res.case, side) for side in order}
            for side, ops in got.items():
                res.ops[side].append(ops)
            if "segwal" in got and got["stock"] > 0:
                res.ratios.append(got["segwal"] / got["stock"])
    return results


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def median_str(values: List[float], fmt: str) -> str:
    return format(statistics.median(values), fmt) if values else "-"


def results_table(results: List[CaseResults]) -> str:
    header = ["case", "stock ops/s (median)", "segwal ops/s (median)",
              "segwal/stock (median of pairs)", "runs"]
    rows = [[r.case.name,
             median_str(r.ops["stock"], ".0f"),
             median_str(r.ops["segwal"], ".0f"),
             median_str(r.ratios, ".2f"),
             str(max(len(r.ops["stock"]), len(r.ops["segwal"])))]
            for r in results]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(row) for row in rows])


def filesystem_type(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-PT", str(path)], capture_output=True,
                             text=True, check=True).stdout.splitlines()
        return out[1].split()[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def write_report(args, results: List[CaseResults], table: str, fs_type: str):
    lines = [
        "# segwal vs stock RocksDB: db_bench fillrandom",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- db_bench: `{args.db_bench}` (same binary both sides)",
        "- segwal: " + ("not run (--stock-only)" if args.stock_only else
                         f"`LD_PRELOAD={args.libsegwal}`, `--fs_uri={args.fs_uri}`"),
        f"- work dir: `{args.work_dir}` ({fs_type}), CPUs: {os.cpu_count()}",
        f"- repeats: {args.repeats}, interleaved; num scale: {args.scale}",
        f"- common flags: `{' '.join(COMMON_FLAGS)}`",
        "",
        "| case | flags |",
        "|---|---|",
    ]
    for r in results:
        num = max(1, int(r.case.num * args.scale))
        extra = " (segwal: shared log_dir)" if r.case.shared_log else ""
        lines.append(f"| {r.case.name} | `{' '.join(r.case.flags)} --num={num}`{extra} |")
    lines += ["", table, ""]
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines))


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="cases: " + ", ".join(c.name for c in CASES))
    p.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build",
                   help="CMake build directory (default: %(default)s)")
    p.add_argument("--libsegwal", type=Path,
                   help="segwal shared library (default: <build-dir>/libsegwal.so)")
    p.add_argument("--db-bench", default=shutil.which("db_bench") or "/usr/bin/db_bench",
                   help="db_bench binary (default: %(default)s)")
    p.add_argument("--fs-uri", default="segwal",
                   help="--fs_uri for the segwal side (default: %(default)s)")
    p.add_argument("--cases", help="comma-separated subset of the cases")
    p.add_argument("--repeats", type=int,
                   help="interleaved repeats per case (default: 3, --quick: 1)")
    p.add_argument("--quick", action="store_true",
                   help="quarter-size runs, one repeat unless --repeats is given")
    p.add_argument("--scale", type=float,
                   help="multiply each case's --num (default: 1, --quick: 0.25)")
    p.add_argument("--work-dir", type=Path,
                   help="where the databases live (default: <build-dir>/bench-work)")
    p.add_argument("--report", type=Path,
                   help="Markdown report (default: <build-dir>/bench-report.md)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per run")
    p.add_argument("--stock-only", action="store_true",
                   help="run only the stock side (no libsegwal.so needed)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="do not check that segwal runs stored the WAL in segments")
    args = p.parse_args(argv)

    args.build_dir = args.build_dir.resolve()
    args.libsegwal = (args.libsegwal or args.build_dir / "libsegwal.so").resolve()
    args.work_dir = (args.work_dir or args.build_dir / "bench-work").resolve()
    args.report = args.report or args.build_dir / "bench-report.md"
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.scale is None:
        args.scale = 0.25 if args.quick else 1.0
    if args.repeats < 1 or args.scale <= 0:
        p.error("--repeats must be >= 1 and --scale > 0")
    return args


def select_cases(spec: Optional[str]) -> List[Case]:
    if not spec:
        return list(CASES)
    by_name = {c.name: c for c in CASES}
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise BenchError(f"unknown case(s): {', '.join(unknown)}; "
                         f"known: {', '.join(by_name)}")
    return [by_name[n] for n in names]


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cases = select_cases(args.cases)
        if not (os.path.isfile(args.db_bench) and os.access(args.db_bench, os.X_OK)):
            raise BenchError(f"db_bench not found at {args.db_bench} "
                             "(install rocksdb-tools: make deps)")
        if not args.stock_only and not args.libsegwal.is_file():
            raise BenchError(f"segwal library not built yet: {args.libsegwal} is missing "
                             "(run `make build`, or use --stock-only)")
        args.work_dir.mkdir(parents=True, exist_ok=True)
        fs_type = filesystem_type(args.work_dir)
        print(f"work dir {args.work_dir} ({fs_type}); {len(cases)} cases x "
              f"{args.repeats} repeats" + (" (stock only)" if args.stock_only else ""))
        if fs_type == "tmpfs":
            print("WARNING: the work dir is on tmpfs: fsync costs nothing there, "
                  "sync results are meaningless (use --work-dir)", file=sys.stderr)
        results = run_all(args, cases)
    except BenchError as e:
        print(f"\nBENCH FAILED: {e}", file=sys.stderr)
        return 1
    table = results_table(results)
    write_report(args, results, table, fs_type)
    print()
    print(table)
    print(f"\nreport: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
