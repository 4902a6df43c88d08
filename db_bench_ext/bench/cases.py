"""What `make bench` measures: cases, their variants, and the profiles
(default, quick, smoke) that size them.

A db_bench case runs one workload (db_bench fillrandom) under several
variants; the first variant is the baseline (stock RocksDB), and every other
variant's ops/s is divided by the baseline's of the same repeat. Two cases
are programs of their own (db_bench_ext/*_bench.cc): recovery (DB::Open
time) and smalldb (open cost and disk of small DBs).
"""

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

# Flags of every db_bench run. A fixed seed gives both sides the same keys.
COMMON_FLAGS = (
    "--benchmarks=fillrandom",
    "--key_size=16",
    "--value_size=256",
    "--seed=1234",
)


@dataclass(frozen=True)
class Variant:
    """One way of running a case's workload."""
    label: str
    side: str = "stock"              # "stock" or "segwal"
    flags: Tuple[str, ...] = ()      # extra db_bench flags
    fs_opts: str = ""                # segwal options after id=segwal
    shared_log: bool = False         # segwal: one log_dir for every DB
    options_file: Optional[str] = None  # "plain" / "recycle" (recycle case)
    durable: bool = True             # False: Sync does not wait for the disk

    @property
    def is_segwal(self) -> bool:
        return self.side == "segwal"


STOCK = Variant("stock")
SEGWAL = Variant("segwal", "segwal")
SEGWAL_SHARED = Variant("segwal", "segwal", shared_log=True)


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    title: str
    threads: int
    dbs: int                       # 1, or num_multi_db
    sync: bool
    variants: Tuple[Variant, ...]
    flags: Tuple[str, ...] = ()
    duration: int = 0              # seconds per run (0: --num decides)
    num: int = 0                   # ops per thread and DB when duration=0
    histogram: bool = False        # db_bench --histogram (latency)
    statistics: bool = False       # db_bench --statistics (WAL syncs, bytes)
    x: Optional[int] = None        # position on a plot's axis (scaling)
    # A run of one write: the CPU a process spends starting and stopping
    # (segwal zero-fills its first segment at open), subtracted from the
    # runs of its group for "CPU per write net of start-up". Not a ratio.
    calibration: bool = False

    @property
    def baseline(self) -> Variant:
        return self.variants[0]

    def db_bench_flags(self) -> List[str]:
        flags = list(COMMON_FLAGS) + [f"--sync={int(self.sync)}",
                                      f"--threads={self.threads}"]
        if self.dbs > 1:
            flags.append(f"--num_multi_db={self.dbs}")
        if self.duration:
            # --num is then only the key range.
            flags += [f"--duration={self.duration}", "--num=1000000"]
        else:
            flags.append(f"--num={self.num}")
        flags.append(f"--histogram={int(self.histogram)}")
        flags.append(f"--statistics={int(self.statistics)}")
        return flags + list(self.flags)

    def est_seconds(self) -> float:
        """Expected wall time of one run (for the time-left estimate)."""
        base = self.duration if self.duration else 0.3
        return base + 0.6 + 0.02 * self.dbs


@dataclass(frozen=True)
class RecoverySpec:
    name: str = "recovery"
    group: str = "recovery"
    title: str = "Recovery: DB::Open with a large unflushed WAL"
    wal_bytes: int = 1 << 30
    value_size: int = 4096
    rounds: int = 3
    caches: Tuple[str, ...] = ("cold", "warm")

    def est_seconds(self) -> float:
        gib = self.wal_bytes / (1 << 30)
        prepare = 2 * (1.0 + 14.0 * gib)
        opens = self.rounds * len(self.caches) * 2 * (0.3 + 3.0 * gib)
        return prepare + opens + 2 + 4 * gib


@dataclass(frozen=True)
class SmallDbSpec:
    name: str = "smalldb"
    group: str = "smalldb"
    title: str = "Small DBs: create, one synced write, close"
    n: int = 10

    def est_seconds(self) -> float:
        return 1.0 + self.n * 0.4


@dataclass(frozen=True)
class Profile:
    name: str
    repeats: Dict[str, int]
    duration: int                  # seconds per db_bench run; 0: use num
    num_scale: float               # with duration 0: ops per thread = base * scale
    sync1_threads: Tuple[int, ...]
    scaling_dbs: Tuple[int, ...]
    sync0_dbs: Tuple[int, ...]
    window_us: Tuple[int, ...]
    recycle_threads: Tuple[int, ...]
    recovery: RecoverySpec
    smalldb: SmallDbSpec

    def repeats_of(self, group: str) -> int:
        return self.repeats.get(group, self.repeats.get("*", 3))


PROFILES = {
    # Estimated ~15 minutes on 2 quiet cores (13 measured with 5 sync=0
    # pairs); 17.8 with a load average of 4-7 from other builds and tests.
    # sync=0 runs swing most between pairs on a shared machine (one 5-pair
    # run said 0.94x where 11 pairs right after said 1.04x): 11 pairs.
    "default": Profile(
        name="default",
        repeats={"sync1": 5, "sync0": 11, "*": 3},
        duration=4, num_scale=1.0,
        sync1_threads=(1, 8, 32),
        scaling_dbs=(1, 2, 4, 8, 16, 32, 64),
        sync0_dbs=(1, 8),
        window_us=(100, 1000),
        recycle_threads=(1, 8),
        recovery=RecoverySpec(wal_bytes=1 << 30, rounds=3),
        smalldb=SmallDbSpec(n=10)),
    # 3.4 minutes measured with a load average of 0.5-5 from other work, 4.8
    # with 7-8: fewer cases and repeats, the same report.
    "quick": Profile(
        name="quick",
        repeats={"*": 2},
        duration=2, num_scale=1.0,
        sync1_threads=(1, 32),
        scaling_dbs=(1, 8, 64),
        sync0_dbs=(1, 8),
        window_us=(100,),
        recycle_threads=(1,),
        recovery=RecoverySpec(wal_bytes=256 << 20, rounds=2),
        smalldb=SmallDbSpec(n=5)),
    # Seconds: every case, tiny; for the test that the bench still works.
    "smoke": Profile(
        name="smoke",
        repeats={"*": 1},
        duration=0, num_scale=1.0,
        sync1_threads=(1, 4),
        scaling_dbs=(1, 2),
        sync0_dbs=(1, 2),
        window_us=(100,),
        recycle_threads=(1,),
        recovery=RecoverySpec(wal_bytes=4 << 20, rounds=1),
        smalldb=SmallDbSpec(n=2)),
}

GROUPS = ("sync1", "scaling", "sync0", "modes", "compression", "recycle",
          "recovery", "smalldb")
GROUP_TITLES = {
    "sync1": "sync=1, one DB",
    "scaling": "sync=1, many DBs sharing one log",
    "sync0": "sync=0 (parity)",
    "modes": "segwal sync modes and the group-commit window",
    "compression": "WAL compression",
    "recycle": "The fairest stock baseline: recycled WAL files",
    "recovery": "Recovery: DB::Open with ~1 GiB of unflushed WAL",
    "smalldb": "Small DBs: open cost and disk",
}
# Names that select groups.
ALIASES = {"latency": ("sync1",), "sync": ("sync1", "scaling", "sync0")}


def _sized(profile: Profile, base_num: int) -> Dict[str, int]:
    if profile.duration:
        return {"duration": profile.duration}
    return {"num": max(1, int(base_num * profile.num_scale))}


def build_cases(profile: Profile) -> List[object]:
    """Every case of the profile, in run order."""
    cases: List[object] = []
    sync1_common = dict(histogram=True, statistics=True, sync=True)

    cases.append(Case(
        name="startup_1db", group="sync1", title="start-up and shut-down: one synced write",
        threads=1, dbs=1, variants=(STOCK, SEGWAL), calibration=True, num=1,
        **sync1_common))
    for t in profile.sync1_threads:
        cases.append(Case(
            name=f"sync1_1db_{t}t", group="sync1",
            title=f"sync=1, 1 DB, {t} thread{'s' if t > 1 else ''}",
            threads=t, dbs=1, variants=(STOCK, SEGWAL),
            **sync1_common, **_sized(profile, max(30, 120 // t))))

    # Small values, where a frame's header weighs most against RocksDB's
    # own record header (bytes per write is this case's figure).
    cases.append(Case(
        name="sync1_1db_1t_100b", group="sync1",
        title="sync=1, 1 DB, 1 thread, 100-byte values",
        threads=1, dbs=1, variants=(STOCK, SEGWAL), flags=("--value_size=100",),
        **sync1_common, **_sized(profile, 120)))

    for n in profile.scaling_dbs:
        cases.append(Case(
            name=f"scale_{n}db", group="scaling",
            title=f"sync=1, {n} DB{'s' if n > 1 else ''}, {n} thread{'s' if n > 1 else ''}, shared log_dir",
            threads=n, dbs=n, variants=(STOCK, SEGWAL_SHARED), x=n,
            **sync1_common, **_sized(profile, max(5, 60 // n))))

    for n in profile.sync0_dbs:
        cases.append(Case(
            name=f"sync0_{n}db_{n}t", group="sync0",
            title=f"sync=0, {n} DB{'s' if n > 1 else ''}, {n} thread{'s' if n > 1 else ''}"
                  + (", shared log_dir" if n > 1 else ""),
            threads=n, dbs=n, sync=False,
            variants=(STOCK, SEGWAL_SHARED if n > 1 else SEGWAL),
            **_sized(profile, 2000 // n)))

    modes = [STOCK,
             Variant("segwal group", "segwal", fs_opts="sync_mode=group", shared_log=True),
             Variant("segwal always", "segwal", fs_opts="sync_mode=always", shared_log=True),
             Variant("segwal interval (100 ms)", "segwal", fs_opts="sync_mode=interval",
                     shared_log=True, durable=False),
             Variant("segwal none", "segwal", fs_opts="sync_mode=none", shared_log=True,
                     durable=False)]
    modes += [Variant(f"segwal group, window {w} us", "segwal",
                      fs_opts=f"sync_mode=group;group_commit_window_us={w}", shared_log=True)
              for w in profile.window_us]
    cases.append(Case(
        name="modes_8db_8t", group="modes",
        title="sync=1, 8 DBs, 8 threads, shared log_dir: every sync_mode",
        threads=8, dbs=8, variants=tuple(modes),
        **sync1_common, **_sized(profile, 15)))

    # Compressible values (db_bench's default compression_ratio=0.5); a
    # memtable large enough that no WAL is deleted, so that the .log files
    # at the end are every WAL byte stock wrote.
    cases.append(Case(
        name="compress_1db_1t", group="compression",
        title="sync=0, 1 DB, 1 thread, 1 KiB values (compressible to 50%)",
        threads=1, dbs=1, sync=False,
        flags=("--value_size=1024", "--write_buffer_size=1073741824"),
        statistics=True,
        variants=(STOCK,
                  Variant("stock wal_compression=zstd", flags=("--wal_compression=zstd",)),
                  Variant("segwal", "segwal", fs_opts="compression=none"),
                  Variant("segwal lz4", "segwal", fs_opts="compression=lz4"),
                  Variant("segwal zstd", "segwal", fs_opts="compression=zstd")),
        **_sized(profile, 1000)))

    # Stock with WAL recycling. 7.8.3 drops recycle_log_file_num unless
    # wal_recovery_mode=kSkipAnyCorruptedRecords, and stock db_bench has
    # neither flag: every variant loads an OPTIONS file (runner.py writes
    # both), with small memtables so that WALs are switched (and recycled)
    # many times per run.
    for t in profile.recycle_threads:
        cases.append(Case(
            name=f"recycle_1db_{t}t", group="recycle",
            title=f"sync=1, 1 DB, {t} thread{'s' if t > 1 else ''}, 256 KiB memtables",
            threads=t, dbs=1,
            flags=("--write_buffer_size=262144",),
            variants=(Variant("stock", options_file="plain"),
                      Variant("stock recycle_log_file_num=4", options_file="recycle"),
                      Variant("segwal", "segwal", options_file="plain")),
            **sync1_common, **_sized(profile, max(30, 200 // t))))

    cases.append(profile.recovery)
    cases.append(profile.smalldb)
    return cases


def select(cases: List[object], spec: Optional[str]) -> List[object]:
    """The cases named by spec: comma-separated group names, aliases
    (latency, sync) or case names; all when spec is empty."""
    if not spec:
        return list(cases)
    wanted_groups, wanted_names, unknown = set(), set(), []
    names = {c.name for c in cases}
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item in GROUPS:
            wanted_groups.add(item)
        elif item in ALIASES:
            wanted_groups.update(ALIASES[item])
        elif item in names:
            wanted_names.add(item)
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(
            f"unknown case(s): {', '.join(unknown)}; groups: {', '.join(GROUPS)}; "
            f"cases: {', '.join(c.name for c in cases)}")
    return [c for c in cases if c.group in wanted_groups or c.name in wanted_names]
