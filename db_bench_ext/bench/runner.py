"""Runs the cases: db_bench processes (stock and segwal interleaved) and the
db_bench_ext programs, with a progress line per run and an estimate of the
time left."""

import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from . import parse
from .cases import Case, RecoverySpec, SmallDbSpec, Variant


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

@dataclass
class Run:
    """One db_bench process."""
    case: str
    variant: str
    repeat: int
    command: str
    wall_s: float = 0.0
    ops_per_sec: float = 0.0
    operations: Optional[int] = None
    cpu_user_s: float = 0.0
    cpu_sys_s: float = 0.0
    hist: Optional[parse.Histogram] = None
    tickers: Dict[str, int] = field(default_factory=dict)
    segwal: Dict[str, float] = field(default_factory=dict)
    wal_file_bytes: Optional[int] = None   # stock: bytes of the *.log files left
    recycled_wals: Optional[int] = None    # "adding log N to recycle list" lines

    @property
    def cpu_us_per_write(self) -> Optional[float]:
        if not self.operations:
            return None
        return (self.cpu_user_s + self.cpu_sys_s) * 1e6 / self.operations

    @property
    def fdatasyncs(self) -> Optional[float]:
        """WAL fdatasyncs of the run: segwal's (every fdatasync of a head
        segment, from its LOG), stock's (rocksdb.wal.synced: one per synced
        write group and WAL file)."""
        if self.segwal:
            return self.segwal.get("batches")
        return self.tickers.get("rocksdb.wal.synced")

    @property
    def writes_per_fdatasync(self) -> Optional[float]:
        f = self.fdatasyncs
        return self.operations / f if f and self.operations else None

    @property
    def wal_disk_bytes(self) -> Optional[float]:
        """WAL bytes written to the disk: segwal's frame bytes, stock's
        *.log bytes (None when some WAL was deleted during the run)."""
        if self.segwal:
            return self.segwal.get("frame_bytes")
        if self.wal_file_bytes is None:
            return None
        # The *.log files left are every WAL byte only if nothing was
        # flushed (a flush deletes WALs); without statistics nothing tells.
        if self.tickers.get("rocksdb.flush.write.bytes", 1) != 0:
            return None
        return float(self.wal_file_bytes)

    @property
    def wal_per_batch_byte(self) -> Optional[float]:
        """WAL bytes on disk per byte of WriteBatch RocksDB logged
        (rocksdb.wal.bytes): the same denominator for both sides."""
        b, logical = self.wal_disk_bytes, self.tickers.get("rocksdb.wal.bytes")
        return b / logical if b is not None and logical else None

    @property
    def wal_bytes_per_write(self) -> Optional[float]:
        b = self.wal_disk_bytes
        return b / self.operations if b is not None and self.operations else None

    def to_json(self):
        d = dict(self.__dict__)
        d["hist"] = self.hist.to_json() if self.hist else None
        return d


@dataclass
class CaseResult:
    case: Case
    runs: Dict[str, List[Run]] = field(default_factory=dict)  # by variant label

    def of(self, variant: Variant) -> List[Run]:
        return self.runs.get(variant.label, [])

    def startup_cpu_s(self, variant: Variant, results: Dict[str, object]) -> Optional[float]:
        """Median CPU seconds of the calibration run of the variant's side
        (one DB, one write), for 1-DB cases of the same group."""
        if self.case.calibration or self.case.dbs != 1:
            return None
        for other in results.values():
            if (isinstance(other, CaseResult) and other.case.calibration
                    and other.case.group == self.case.group):
                for v in other.case.variants:
                    if v.side == variant.side:
                        cpus = sorted(r.cpu_user_s + r.cpu_sys_s for r in other.of(v))
                        if cpus:
                            return cpus[len(cpus) // 2]
        return None


@dataclass
class SpecialResult:
    """recovery or smalldb: the program's JSON lines and what came with them."""
    spec: object
    command: str
    records: List[dict]
    wall_s: float = 0.0
    extra: Dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

@dataclass
class Finished:
    returncode: int
    wall_s: float
    rusage: object
    stdout: str
    stderr: str


def run_process(argv: List[str], env: Dict[str, str], out_dir: Path,
                timeout: float, on_line=None) -> Finished:
    """Runs argv with stdout/stderr in files under out_dir; returns its exit
    code, wall time and resource usage (os.wait4: user and system CPU of the
    process and every thread it ran). on_line(line) sees stdout lines as
    they come."""
    out_path, err_path = out_dir / "stdout.txt", out_dir / "stderr.txt"
    with open(err_path, "w") as err:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stderr=err,
                                stdout=subprocess.PIPE, text=True)
        killed = threading.Event()

        def kill():
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        lines = []
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.append(line)
                if on_line:
                    on_line(line)
        finally:
            _, status, rusage = os.wait4(proc.pid, 0)
            timer.cancel()
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = "".join(lines)
    out_path.write_text(stdout)
    if killed.is_set():
        raise BenchError(f"timed out after {timeout:.0f}s: {shlex.join(argv)}")
    return Finished(proc.returncode, wall, rusage, stdout,
                    err_path.read_text(errors="replace"))


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def find_segwal_problems(db_dir: Path, log_dir: Optional[Path]) -> List[str]:
    """Checks that a segwal run stored its WAL in segments: no plain *.log
    file with data in the DB tree, and segment files (*.seg) in a "segwal"
    directory under the DB or under the shared log_dir."""
    problems = []
    plain = [p for p in db_dir.rglob("*.log")
             if p.is_file() and p.stat().st_size > 0
             and "segwal" not in p.relative_to(db_dir).parts]
    if plain:
        problems.append("plain WAL files with data: "
                        + ", ".join(str(p.relative_to(db_dir)) for p in plain[:5]))
    if log_dir is not None:
        segments, where = list(log_dir.rglob("*.seg")), str(log_dir)
    else:
        segments = [p for p in db_dir.rglob("*.seg") if "segwal" in p.parent.parts]
        where = f"{db_dir}/**/segwal/"
    if not segments:
        problems.append(f"no segment files (*.seg) under {where}")
    return problems


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


# ---------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, args, plan: List[tuple]):
        """plan: (case, repeats) pairs, in run order."""
        self.args = args
        self.plan = plan
        self.total_runs = sum(self._runs_of(c, r) for c, r in plan)
        self.total_est = sum(self._est_of(c, r) for c, r in plan)
        self.done_runs = 0
        self.done_est = 0.0
        self.start = time.monotonic()
        self.options_files: Dict[str, Dict[str, Path]] = {}

    @staticmethod
    def _runs_of(case, repeats) -> int:
        return len(case.variants) * repeats if isinstance(case, Case) else 1

    @staticmethod
    def _est_of(case, repeats) -> float:
        if isinstance(case, Case):
            return case.est_seconds() * len(case.variants) * repeats
        return case.est_seconds()

    # -- progress ----------------------------------------------------------

    def eta(self) -> float:
        elapsed = time.monotonic() - self.start
        left = self.total_est - self.done_est
        if self.done_est > 0:
            factor = min(3.0, max(0.5, elapsed / self.done_est))
            left *= factor
        return left

    def progress(self, what: str, detail: str, est_done: float = 0.0,
                 counts: bool = True) -> None:
        if counts:
            self.done_runs += 1
        self.done_est += est_done
        elapsed = time.monotonic() - self.start
        width = len(str(self.total_runs))
        print(f"[{self.done_runs:>{width}}/{self.total_runs}] {what:<44} {detail:<34}"
              f" | {fmt_duration(elapsed)} elapsed, ~{fmt_duration(self.eta())} left",
              flush=True)

    # -- db_bench ------------------------------------------------------------

    def fs_uri(self, variant: Variant, log_dir: Optional[Path]) -> str:
        parts = []
        base = self.args.fs_uri
        if variant.fs_opts or log_dir is not None:
            parts.append(base if "=" in base else "id=" + base)
            if variant.fs_opts:
                parts.append(variant.fs_opts)
            if log_dir is not None:
                parts.append(f"log_dir={log_dir}")
            return ";".join(parts)
        return base

    def db_bench_command(self, case: Case, variant: Variant, run_dir: Path):
        """(argv, env, printable command, db_dir, log_dir) of one run."""
        db_dir = run_dir / "db"
        env = dict(os.environ)
        binary = self.args.db_bench
        argv_flags = case.db_bench_flags() + list(variant.flags)
        if variant.options_file:
            argv_flags.append(f"--options_file={self.options_file(case, variant.options_file)}")
        argv_flags.append(f"--db={db_dir}")
        log_dir = None
        prefix = ""
        if variant.is_segwal:
            if variant.shared_log:
                log_dir = run_dir / "segwal-log"
                log_dir.mkdir(parents=True)
            # One argv element: the uri may contain ';'.
            argv_flags.append("--fs_uri=" + self.fs_uri(variant, log_dir))
            if self.args.segwal_db_bench:
                binary = str(self.args.segwal_db_bench)
            else:
                preload = env.get("LD_PRELOAD", "")
                env["LD_PRELOAD"] = " ".join(
                    p for p in (str(self.args.libsegwal), preload) if p)
                prefix = f"LD_PRELOAD={self.args.libsegwal} "
        argv = [binary] + argv_flags
        return argv, env, prefix + shlex.join(argv), db_dir, log_dir

    def options_file(self, case: Case, kind: str) -> Path:
        """The OPTIONS file the recycle case's variants load: "plain" is what
        stock db_bench writes for the case's flags; "recycle" the same with
        recycle_log_file_num=4 and wal_recovery_mode=kSkipAnyCorruptedRecords
        (7.8.3 turns recycling off in every other recovery mode)."""
        if case.name not in self.options_files:
            gen = self.args.work_dir / f"options-{case.name}"
            shutil.rmtree(gen, ignore_errors=True)
            gen.mkdir(parents=True)
            flags = [f for f in case.db_bench_flags()
                     if not f.startswith(("--duration", "--num=", "--sync=", "--threads",
                                          "--histogram", "--statistics"))]
            argv = [self.args.db_bench] + flags + ["--num=1", "--threads=1",
                                                   f"--db={gen / 'db'}"]
            done = run_process(argv, dict(os.environ), gen, self.args.timeout)
            found = sorted((gen / "db").glob("OPTIONS-*"))
            if done.returncode != 0 or not found:
                raise BenchError(f"could not make an OPTIONS file: {shlex.join(argv)}\n"
                                 + tail(done.stderr))
            plain = found[-1].read_text()
            recycle = plain
            for key, old, new in (("recycle_log_file_num", r"\d+", "4"),
                                  ("wal_recovery_mode", r"\w+", "kSkipAnyCorruptedRecords")):
                recycle, n = re.subn(rf"(?m)^(\s*{key}=){old}$", rf"\g<1>{new}", recycle)
                if n != 1:
                    raise BenchError(f"{key} not found in {found[-1]}")
            paths = {"plain": self.args.work_dir / f"{case.name}-plain.ini",
                     "recycle": self.args.work_dir / f"{case.name}-recycle.ini"}
            paths["plain"].write_text(plain)
            paths["recycle"].write_text(recycle)
            shutil.rmtree(gen, ignore_errors=True)
            self.options_files[case.name] = paths
        return self.options_files[case.name][kind]

    def run_db_bench(self, case: Case, variant: Variant, repeat: int, repeats: int) -> Run:
        run_dir = self.args.work_dir / f"{case.name}-{slug(variant.label)}-{repeat}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        try:
            argv, env, command, db_dir, log_dir = self.db_bench_command(case, variant, run_dir)
            done = run_process(argv, env, run_dir, self.args.timeout)
            out = parse.parse_db_bench(done.stdout)
            if done.returncode != 0 or out is None:
                raise BenchError(
                    f"{case.name}/{variant.label}: db_bench failed (exit {done.returncode})\n"
                    f"command: {command}\n--- stderr (tail) ---\n{tail(done.stderr)}\n"
                    f"--- stdout (tail) ---\n{tail(done.stdout, 10)}")
            run = Run(case=case.name, variant=variant.label, repeat=repeat,
                      command=command, wall_s=done.wall_s,
                      ops_per_sec=out.ops_per_sec, operations=out.operations,
                      cpu_user_s=done.rusage.ru_utime, cpu_sys_s=done.rusage.ru_stime,
                      hist=out.histogram, tickers=out.tickers)
            if variant.is_segwal:
                if self.args.verify:
                    problems = find_segwal_problems(db_dir, log_dir)
                    if problems:
                        raise BenchError(
                            f"{case.name}/{variant.label}: the run did not use segwal:\n  "
                            + "\n  ".join(problems) + f"\ncommand: {command}"
                            "\n(--no-verify skips this check)")
                run.segwal = parse.sum_segwal_stats(parse.segwal_log_files(db_dir, log_dir))
            else:
                run.wal_file_bytes = sum(p.stat().st_size for p in db_dir.rglob("*.log")
                                         if p.is_file())
            if variant.options_file == "recycle":
                run.recycled_wals = parse.count_rocksdb_log_lines(db_dir, "to recycle list")
                opts = sorted(db_dir.glob("OPTIONS-*"))
                if opts and not re.search(r"(?m)^\s*recycle_log_file_num=4$",
                                          opts[-1].read_text()):
                    raise BenchError(f"{case.name}: RocksDB did not keep "
                                     f"recycle_log_file_num=4 ({opts[-1]})")
            cpu = run.cpu_us_per_write
            self.progress(
                f"{case.name} / {variant.label}",
                f"rep {repeat}/{repeats} {run.ops_per_sec:>8.0f} ops/s"
                + (f" {cpu:5.0f} us CPU/w" if cpu is not None else ""),
                est_done=case.est_seconds())
            return run
        finally:
            if not self.args.keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    # -- the db_bench_ext programs -------------------------------------------

    def run_program(self, spec, argv: List[str], run_dir: Path, label) -> SpecialResult:
        command = shlex.join(argv)
        n_seen = [0]

        def on_line(line: str):
            line = line.strip()
            if not line.startswith("{"):
                return
            n_seen[0] += 1
            rec = parse.parse_json_lines(line)[0]
            msg = label(rec)
            if msg:
                self.progress(spec.name, msg, counts=False)

        done = run_process(argv, dict(os.environ), run_dir, self.args.timeout * 4,
                           on_line=on_line)
        if done.returncode != 0:
            raise BenchError(f"{spec.name}: failed (exit {done.returncode})\n"
                             f"command: {command}\n--- stderr (tail) ---\n{tail(done.stderr)}")
        return SpecialResult(spec=spec, command=command,
                             records=parse.parse_json_lines(done.stdout),
                             wall_s=done.wall_s)

    def run_recovery(self, spec: RecoverySpec) -> SpecialResult:
        run_dir = self.args.work_dir / "recovery"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        try:
            argv = [str(self.args.build_dir / "db_open_bench"), f"--dir={run_dir}",
                    f"--wal_bytes={spec.wal_bytes}", f"--value_size={spec.value_size}",
                    f"--rounds={spec.rounds}", f"--cache={','.join(spec.caches)}",
                    f"--segwal_uri={self.args.fs_uri}"]

            def label(rec):
                if rec["what"] == "prepare":
                    return f"prepared {rec['side']}: {rec['bytes'] / 2**20:.0f} MiB in {rec['ms'] / 1e3:.1f}s"
                if rec["what"] == "open":
                    return (f"open {rec['side']:<6} {rec['cache']} round {rec['round']}/"
                            f"{spec.rounds}: {rec['open_ms']:.0f} ms")
                return None

            result = self.run_program(spec, argv, run_dir, label)
            seg_dir = run_dir / "segwal" / "db" / "segwal"
            if self.args.verify:
                problems = find_segwal_problems(run_dir / "segwal" / "db", None)
                if problems:
                    raise BenchError("recovery: the segwal side did not use segwal:\n  "
                                     + "\n  ".join(problems))
            log = seg_dir / "LOG"
            lines = parse.parse_recovery_lines(log.read_text()) if log.is_file() else []
            # The timed opens are the ones that scanned the data.
            result.extra["scans"] = [l.__dict__ for l in lines
                                     if l.bytes_scanned >= spec.wal_bytes // 2]
            result.extra["cat"] = self.cat_throughput(sorted(seg_dir.glob("*.seg")))
            self.progress(spec.name, "done", est_done=spec.est_seconds())
            return result
        finally:
            if not self.args.keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    def cat_throughput(self, files: List[Path]) -> Dict[str, object]:
        """Reads files with cat into /dev/null once to cache them, then three
        more times, timed: the page-cache read throughput segwal's scan of
        cached segments is compared with."""
        if not files:
            return {}
        nbytes = sum(f.stat().st_size for f in files)
        argv = ["cat"] + [str(f) for f in files]
        times = []
        for i in range(4):
            start = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            if i > 0:
                times.append(time.monotonic() - start)
        return {"bytes": nbytes, "seconds": times,
                "gib_per_s": [nbytes / 2**30 / t for t in times if t > 0],
                "command": "cat <the segment files> > /dev/null"}

    def run_smalldb(self, spec: SmallDbSpec) -> SpecialResult:
        run_dir = self.args.work_dir / "smalldb"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        try:
            argv = [str(self.args.build_dir / "small_db_bench"), f"--dir={run_dir}",
                    f"--n={spec.n}", f"--segwal_uri={self.args.fs_uri}"]

            def label(rec):
                if rec["what"] == "db" and rec["i"] == spec.n - 1:
                    return f"{rec['variant']}: {spec.n} DBs done"
                return None

            result = self.run_program(spec, argv, run_dir, label)
            if self.args.verify:
                problems = (find_segwal_problems(run_dir / "segwal", None)
                            + find_segwal_problems(run_dir / "segwal_shared",
                                                   run_dir / "segwal_shared" / "log"))
                if problems:
                    raise BenchError("smalldb: a segwal variant did not use segwal:\n  "
                                     + "\n  ".join(problems))
            self.progress(spec.name, "done", est_done=spec.est_seconds())
            return result
        finally:
            if not self.args.keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    # -- everything --------------------------------------------------------

    def run(self):
        """Runs the plan. db_bench cases go repeat by repeat (repeat 1 of
        every case, then repeat 2, ...), so drift spreads over all cases;
        inside a repeat a case's variants run back to back, in reverse order
        every other repeat (stock, segwal, segwal, stock, ...)."""
        results: Dict[str, object] = {}
        bench_cases = [(c, r) for c, r in self.plan if isinstance(c, Case)]
        for c, _ in bench_cases:
            results[c.name] = CaseResult(c, {v.label: [] for v in c.variants})
        max_repeats = max((r for _, r in bench_cases), default=0)
        for rep in range(max_repeats):
            for case, repeats in bench_cases:
                if rep >= repeats:
                    continue
                order = case.variants if rep % 2 == 0 else tuple(reversed(case.variants))
                for v in order:
                    results[case.name].runs[v.label].append(
                        self.run_db_bench(case, v, rep + 1, repeats))
        for case, _ in self.plan:
            if isinstance(case, RecoverySpec):
                results[case.name] = self.run_recovery(case)
            elif isinstance(case, SmallDbSpec):
                results[case.name] = self.run_smalldb(case)
        return results


def check_tools(args, plan) -> None:
    """Fails early, with the fix, when a binary the plan needs is missing."""
    need = [(args.db_bench, "install rocksdb-tools: make deps")]
    if args.segwal_db_bench:
        need.append((str(args.segwal_db_bench), "make db_bench_src"))
    else:
        need.append((str(args.libsegwal), "make build"))
    for case, _ in plan:
        if isinstance(case, RecoverySpec):
            need.append((str(args.build_dir / "db_open_bench"), "make build"))
        elif isinstance(case, SmallDbSpec):
            need.append((str(args.build_dir / "small_db_bench"), "make build"))
    for path, fix in need:
        if not os.path.isfile(path):
            raise BenchError(f"{path} is missing ({fix})")
