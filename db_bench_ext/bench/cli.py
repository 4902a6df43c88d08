"""The command line of `make bench` (db_bench_ext/compare.py)."""

import argparse
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from . import cases as cases_mod
from . import machine, plots, report
from .runner import BenchError, Runner, check_tools

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

DESCRIPTION = """\
Stock RocksDB 7.8.3 against segwal: the report a RocksDB user reads first.

Stock side:  /usr/bin/db_bench <flags>
segwal side: LD_PRELOAD=<build>/libsegwal.so /usr/bin/db_bench <flags> --fs_uri=segwal...
             (or --segwal-db-bench build/db_bench: RocksDB's db_bench built from
             Debian's source package with segwal linked in, no preload)
plus two programs of db_bench_ext/ for what db_bench cannot do: DB::Open time
with a large unflushed WAL (db_open_bench) and the cost of small DBs
(small_db_bench), each running both sides in one process.

Runs are interleaved (stock, segwal, segwal, stock, ...); ratios are medians
of per-pair ratios, with min-max over the repeats. The report (Markdown and
PNG plots) goes to <build>/bench/report.md, with results.json (every number)
and readme-section.md (the headline figures for the project README) beside it.
"""

EPILOG = """\
profiles: default (13-18 min on 2 cores), quick (3-5 min), smoke (seconds; checks
the report and exits non-zero if anything is missing).
groups: {groups}; aliases: latency (= sync1), sync (= sync1,scaling,sync0)

examples:
  make bench                              # default profile
  make bench BENCH=quick
  make bench CASES=sync1,recovery         # groups or case names
  python3 db_bench_ext/compare.py --list
  python3 db_bench_ext/compare.py --cases sync1_1db_1t --repeats 7
  python3 db_bench_ext/compare.py --cases modes --fs-uri 'id=segwal;segment_size=16M'
"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="compare.py", description=DESCRIPTION,
        epilog=EPILOG.format(groups=", ".join(cases_mod.GROUPS)),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=sorted(cases_mod.PROFILES), default="default",
                   help="how many cases and repeats, how long each run (default: %(default)s)")
    p.add_argument("--quick", action="store_const", const="quick", dest="profile",
                   help="the same as --profile quick")
    p.add_argument("--smoke", action="store_const", const="smoke", dest="profile",
                   help="the same as --profile smoke")
    p.add_argument("--cases", help="comma-separated groups and/or case names (default: all)")
    p.add_argument("--list", action="store_true", help="list the profile's cases and exit")
    p.add_argument("--repeats", type=int, help="interleaved repeats of every db_bench case "
                   "(default: the profile's)")
    p.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build",
                   help="CMake build directory (default: %(default)s)")
    p.add_argument("--libsegwal", type=Path,
                   help="segwal shared library (default: <build-dir>/libsegwal.so)")
    p.add_argument("--db-bench", default=shutil.which("db_bench") or "/usr/bin/db_bench",
                   help="stock db_bench (default: %(default)s)")
    p.add_argument("--segwal-db-bench", type=Path,
                   help="run the segwal side with this db_bench (segwal linked in, "
                        "e.g. build/db_bench from `make db_bench_src`) instead of "
                        "LD_PRELOAD into the stock one")
    p.add_argument("--fs-uri", default="segwal",
                   help="segwal side's FileSystem: 'segwal' or 'id=segwal;opt=value;...' "
                        "(cases add their options and log_dir; default: %(default)s)")
    p.add_argument("--work-dir", type=Path,
                   help="where the databases live (default: <build-dir>/bench-work)")
    p.add_argument("--out-dir", type=Path,
                   help="report directory (default: <build-dir>/bench)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per db_bench run")
    p.add_argument("--keep", action="store_true", help="keep every run's directory")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="do not check that segwal runs stored the WAL in segments")
    p.add_argument("--no-plots", dest="plots", action="store_false",
                   help="write the report without PNG plots")
    p.add_argument("--command", default=None,
                   help="the command to quote as the one that reproduces the report "
                        "(make passes `make bench ...`)")
    args = p.parse_args(argv)
    args.build_dir = args.build_dir.resolve()
    args.libsegwal = (args.libsegwal or args.build_dir / "libsegwal.so").resolve()
    args.work_dir = (args.work_dir or args.build_dir / "bench-work").resolve()
    args.out_dir = (args.out_dir or args.build_dir / "bench").resolve()
    if args.segwal_db_bench:
        args.segwal_db_bench = args.segwal_db_bench.resolve()
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be at least 1")
    if args.command is None:
        args.command = "python3 db_bench_ext/compare.py " + shlex.join(
            sys.argv[1:] if argv is None else argv)
    return args


def make_plan(args):
    profile = cases_mod.PROFILES[args.profile]
    chosen = cases_mod.select(cases_mod.build_cases(profile), args.cases)
    plan = []
    for c in chosen:
        repeats = 1
        if isinstance(c, cases_mod.Case):
            repeats = args.repeats or profile.repeats_of(c.group)
        plan.append((c, repeats))
    return profile, plan


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        profile, plan = make_plan(args)
    except ValueError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    if args.list:
        for c, r in plan:
            extra = f"{len(c.variants)} variants x {r} repeats" if isinstance(
                c, cases_mod.Case) else "one program run"
            print(f"{c.group:<12} {c.name:<18} {c.title}  [{extra}]")
        return 0
    if not plan:
        print("compare.py: no case selected", file=sys.stderr)
        return 2
    try:
        check_tools(args, plan)
        args.work_dir.mkdir(parents=True, exist_ok=True)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        info = machine.describe(args.work_dir, REPO_ROOT, args.db_bench)
        runner = Runner(args, plan)
        print(f"bench: profile {profile.name}, {len(plan)} cases, {runner.total_runs} runs, "
              f"about {runner.total_est / 60:.0f} min; work dir {args.work_dir} "
              f"({info['fstype']}); load {machine.loadavg()}", flush=True)
        if info["fstype"] == "tmpfs":
            print("WARNING: the work dir is on tmpfs: fsync costs nothing there, "
                  "sync results are meaningless (use --work-dir)", file=sys.stderr)
        started = time.time()
        load_before = machine.loadavg()
        results = runner.run()
        info["load average (1, 5, 15 min)"] = f"{load_before} before, {machine.loadavg()} after"
        wall = time.time() - started
    except BenchError as e:
        print(f"\nBENCH FAILED: {e}", file=sys.stderr)
        return 1

    images = {}
    if args.plots:
        images, plot_note = plots.make_all(results, args.out_dir)
        if plot_note:
            print(f"plots: {plot_note}", file=sys.stderr)
    doc = report.Report(args, profile, plan, results, info, wall, images)
    (args.out_dir / "report.md").write_text(doc.markdown())
    (args.out_dir / "results.json").write_text(json.dumps(doc.raw(), indent=1, default=str))
    (args.out_dir / "readme-section.md").write_text(
        doc.readme_section("docs/bench/scaling.png"))
    print()
    print(doc.terminal_summary())
    print(f"\nwall time {wall / 60:.1f} min")
    print(f"report: {args.out_dir / 'report.md'} (plots and results.json beside it)")
    if profile.name == "smoke":
        problems = report.self_check(args.out_dir, plan, args.plots)
        if problems:
            print("SMOKE FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print("smoke: report complete")
    return 0
