"""The Markdown report (build/bench/report.md) and the terminal summary."""

import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional

from . import cases as C
from .runner import CaseResult, Run, SpecialResult
from .stats import Spread, fmt_num, fmt_spread, median, pair_ratios, spread

MiB = 2 ** 20


def fmt_size(nbytes: float) -> str:
    if nbytes >= 2 ** 30:
        return f"{nbytes / 2 ** 30:.2f} GiB"
    return f"{nbytes / MiB:.0f} MiB"


def fmt_x(s: Optional[Spread]) -> str:
    """"1.23x (1.10-1.31)"."""
    if s is None:
        return "-"
    return f"{s.median:.2f}x" + (f" ({s.min:.2f}-{s.max:.2f})" if s.n > 1 else "")


def md_table(header: List[str], rows: List[List[str]], align: Optional[str] = None) -> str:
    """A Markdown table; align: one of l/r per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda row: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)]
                     + [fmt(r) for r in rows])


# ---------------------------------------------------------------------------
# Figures of one variant of one case
# ---------------------------------------------------------------------------

class VariantFigures:
    def __init__(self, result: CaseResult, variant: C.Variant,
                 all_results: Optional[Dict[str, object]] = None):
        self.variant = variant
        self.runs: List[Run] = result.of(variant)
        base_runs = result.of(result.case.baseline)
        self.is_baseline = variant == result.case.baseline
        self.ops = spread([r.ops_per_sec for r in self.runs])
        self.ratio = None if self.is_baseline else spread(pair_ratios(
            [r.ops_per_sec for r in self.runs], [r.ops_per_sec for r in base_runs]))
        self.cpu = spread([r.cpu_us_per_write for r in self.runs])
        startup = result.startup_cpu_s(variant, all_results) if all_results else None
        self.startup_ms = startup * 1e3 if startup is not None else None
        self.cpu_net = None if startup is None else spread([
            (r.cpu_user_s + r.cpu_sys_s - startup) * 1e6 / r.operations
            for r in self.runs if r.operations])
        self.per_sync = spread([r.writes_per_fdatasync for r in self.runs])
        self.bytes_per_write = spread([r.wal_bytes_per_write for r in self.runs])
        self.per_batch_byte = spread([r.wal_per_batch_byte for r in self.runs])
        self.frame_per_logical = spread([
            r.segwal["frame_bytes"] / r.segwal["write_bytes"]
            for r in self.runs if r.segwal.get("write_bytes")])
        hists = [r.hist for r in self.runs if r.hist and r.hist.count]
        self.p50 = median([h.p50 for h in hists])
        self.p99 = median([h.p99 for h in hists])
        self.p999 = spread([h.p999 for h in hists])
        self.max = max((h.max for h in hists), default=None)
        self.hists = hists
        self.recycled = median([r.recycled_wals for r in self.runs
                                if r.recycled_wals is not None])


def case_table(result: CaseResult, all_results: Dict[str, object]) -> str:
    case = result.case
    figs = [VariantFigures(result, v, all_results) for v in case.variants]
    net = any(f.cpu_net for f in figs)
    header = ["variant", "ops/s median (min-max)", "/ stock (median of pairs)",
              "CPU us/write"] + (["net of start-up"] if net else [])
    if case.sync:
        header.append("writes/fdatasync")
    header.append("WAL bytes/write")
    if case.histogram:
        header += ["p50 us", "p99 us", "p99.9 us", "max us"]
    if any(f.recycled is not None for f in figs):
        header.append("WALs recycled")
    rows = []
    for f in figs:
        label = f.variant.label + ("" if f.variant.durable else " (not durable at Sync)")
        row = [label, fmt_spread(f.ops, ".0f"),
               "(baseline)" if f.is_baseline else fmt_spread(f.ratio, ".2f"),
               fmt_spread(f.cpu, ".1f")] + ([fmt_spread(f.cpu_net, ".1f")] if net else [])
        if case.sync:
            row.append(fmt_spread(f.per_sync, ".1f"))
        row.append(fmt_spread(f.bytes_per_write, ".0f"))
        if case.histogram:
            row += [fmt_num(f.p50, ".0f"), fmt_num(f.p99, ".0f"),
                    fmt_spread(f.p999, ".0f"), fmt_num(f.max, ".0f")]
        if any(g.recycled is not None for g in figs):
            row.append(fmt_num(f.recycled, ".0f") if f.recycled is not None else "")
        rows.append(row)
    return md_table(header, rows)


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

class Report:
    def __init__(self, args, profile, plan, results: Dict[str, object],
                 info: Dict[str, str], wall_s: float, images: Dict[str, str]):
        self.args, self.profile, self.plan = args, profile, plan
        self.results, self.info, self.wall_s, self.images = results, info, wall_s, images
        self.date = time.strftime("%Y-%m-%d %H:%M %Z")

    # -- helpers -----------------------------------------------------------

    def bench_results(self, group: Optional[str] = None,
                      calibration: bool = False) -> List[CaseResult]:
        """db_bench cases (of a group); calibration runs only if asked."""
        return [r for r in self.results.values() if isinstance(r, CaseResult)
                and (group is None or r.case.group == group)
                and r.case.calibration == calibration]

    def special(self, name: str) -> Optional[SpecialResult]:
        r = self.results.get(name)
        return r if isinstance(r, SpecialResult) else None

    def image(self, key: str, alt: str) -> List[str]:
        return [f"![{alt}]({self.images[key]})", ""] if key in self.images else []

    def repeats(self, group: str) -> int:
        for c, r in self.plan:
            if c.group == group:
                return r
        return 0

    # -- summary -----------------------------------------------------------

    def summary_rows(self, markdown: bool) -> List[List[str]]:
        rows = []
        for res in self.bench_results():
            base = VariantFigures(res, res.case.baseline)
            for v in res.case.variants[1:]:
                f = VariantFigures(res, v)
                worse = (f.p999 is not None and base.p999 is not None and res.case.sync
                         and v.is_segwal and v.durable and f.p999.median > base.p999.median)
                p999 = "-"
                if base.p999 and f.p999:
                    p999 = f"{base.p999.median:.0f} / {f.p999.median:.0f}" + (" worse" if worse else "")
                rows.append([res.case.name, v.label + ("" if v.durable else " (*)"),
                             fmt_spread(base.ops, ".0f"), fmt_spread(f.ops, ".0f"),
                             fmt_spread(f.ratio, ".2f"), p999])
        return rows

    SUMMARY_HEADER = ["case", "variant", "stock ops/s", "variant ops/s",
                      "ratio (median of pairs, min-max)", "p99.9 us stock / variant"]

    def special_summary_lines(self) -> List[str]:
        out = []
        rec = self.recovery_figures()
        if rec:
            for cache in rec["caches"]:
                s, g = rec["open"].get(("stock", cache)), rec["open"].get(("segwal", cache))
                ratio = rec["ratio"].get(cache)
                if s and g:
                    out.append(f"recovery ({rec['size']} of WAL, {cache} cache): DB::Open "
                               f"stock {s.fmt('.0f', ' ms')}, segwal {g.fmt('.0f', ' ms')}; "
                               f"segwal/stock time {fmt_spread(ratio, '.2f')}")
            if rec["scan"].get("warm") and rec["cat"]:
                out.append(f"recovery scan on cached segments: segwal "
                           f"{rec['scan']['warm'].fmt('.2f', ' GiB/s')}, cat "
                           f"{rec['cat'].fmt('.2f', ' GiB/s')}")
        small = self.smalldb_figures()
        for v, f in small.items():
            out.append(f"small DBs ({v}): {f['ms'].fmt('.1f', ' ms')}/DB, "
                       f"{f['allocated'] / MiB:.2f} MiB/DB on disk")
        return out

    def terminal_summary(self) -> str:
        rows = self.summary_rows(markdown=False)
        parts = []
        if rows:
            parts.append(text_table(self.SUMMARY_HEADER, rows))
        parts += self.special_summary_lines()
        if any("(*)" in r[1] for r in rows):
            parts.append("(*) not durable when Sync returns (sync_mode interval/none)")
        return "\n".join(parts)

    # -- derived figures ---------------------------------------------------

    def recovery_figures(self) -> Optional[dict]:
        res = self.special("recovery")
        if res is None:
            return None
        spec = res.spec
        opens = [r for r in res.records if r["what"] == "open"]
        caches = list(dict.fromkeys(r["cache"] for r in opens))
        fig = {"gib": spec.wal_bytes / 2 ** 30, "size": fmt_size(spec.wal_bytes), "caches": caches, "open": {}, "ratio": {},
               "scan": {}, "cat": None, "prepare": {}, "usage": {}}
        for side in ("stock", "segwal"):
            for cache in caches:
                fig["open"][(side, cache)] = spread(
                    [r["open_ms"] for r in opens if r["side"] == side and r["cache"] == cache])
        for cache in caches:
            by_round = {}
            for r in opens:
                if r["cache"] == cache:
                    by_round.setdefault(r["round"], {})[r["side"]] = r["open_ms"]
            fig["ratio"][cache] = spread([d["segwal"] / d["stock"] for d in by_round.values()
                                          if "segwal" in d and d.get("stock")])
        seg_opens = [r for r in opens if r["side"] == "segwal"]
        scans = res.extra.get("scans", [])
        if len(scans) == len(seg_opens):
            for cache in caches:
                fig["scan"][cache] = spread([s["gib_per_s"] for s, o in zip(scans, seg_opens)
                                             if o["cache"] == cache])
                fig.setdefault("scan_ms", {})[cache] = spread(
                    [s["elapsed_ms"] for s, o in zip(scans, seg_opens) if o["cache"] == cache])
                fig.setdefault("scan_bytes", {})[cache] = median(
                    [s["bytes_scanned"] for s, o in zip(scans, seg_opens) if o["cache"] == cache])
        fig["scan_lines"] = len(scans)
        cat = res.extra.get("cat") or {}
        fig["cat"] = spread(cat.get("gib_per_s", []))
        fig["cat_bytes"] = cat.get("bytes")
        for r in res.records:
            if r["what"] == "prepare":
                fig["prepare"][r["side"]] = r
            elif r["what"] == "usage":
                fig["usage"][r["side"]] = r
        return fig

    def smalldb_figures(self) -> Dict[str, dict]:
        res = self.special("smalldb")
        if res is None:
            return {}
        out = {}
        dbs = [r for r in res.records if r["what"] == "db"]
        for u in (r for r in res.records if r["what"] == "usage"):
            v = u["variant"]
            mine = [r for r in dbs if r["variant"] == v]
            out[v] = {"ms": spread([r["ms"] for r in mine]),
                      "open_ms": spread([r["open_ms"] for r in mine]),
                      "write_ms": spread([r["write_ms"] for r in mine]),
                      "allocated": u["allocated"] / u["n"], "apparent": u["apparent"] / u["n"],
                      "files": u["files"] / u["n"], "n": u["n"]}
        return out

    def p999_findings(self) -> List[str]:
        """Every sync=1 case and durable segwal variant whose median p99.9
        is above stock's."""
        out = []
        for res in self.bench_results():
            if not (res.case.sync and res.case.histogram):
                continue
            base = VariantFigures(res, res.case.baseline)
            for v in res.case.variants[1:]:
                f = VariantFigures(res, v)
                if not (v.is_segwal and v.durable) or not (f.p999 and base.p999):
                    continue
                if f.p999.median > base.p999.median:
                    out.append(f"`{res.case.name}`, {v.label}: p99.9 {f.p999.median:.0f} us "
                               f"against stock's {base.p999.median:.0f} us "
                               f"({f.p999.median / base.p999.median:.2f}x; per repeat segwal "
                               f"{f.p999.min:.0f}-{f.p999.max:.0f}, stock "
                               f"{base.p999.min:.0f}-{base.p999.max:.0f})")
        return out

    # -- sections ----------------------------------------------------------

    def markdown(self) -> str:
        out: List[str] = []
        w = out.extend
        w([f"# segwal against stock RocksDB 7.8.3: `make bench` report", "",
           f"Profile `{self.profile.name}`, {self.date}, wall time "
           f"{self.wall_s / 60:.1f} min. Reproduce with:", "",
           f"```sh\n{self.args.command}\n```", "",
           "How to read it: every db_bench case runs its variants interleaved "
           "(stock, segwal, segwal, stock, ...; with more variants, forward then "
           "backward), each run a fresh database. A ratio is the median over the "
           "repeats of variant/stock ops/s of the same repeat; the range after it "
           "is the min-max of those per-pair ratios. Absolute numbers drift by up "
           "to 2-3x on a shared machine; ratios of neighbouring runs much less. "
           "Latency figures are db_bench's own histogram (`--histogram=1`, "
           "bucketed, interpolated inside a bucket): the median over the repeats "
           "of each run's percentile, and the largest max of any run.", ""])
        w(["## Summary", ""])
        rows = self.summary_rows(markdown=True)
        if rows:
            w([md_table(self.SUMMARY_HEADER, rows, "llrrrr"), ""])
            if any("(*)" in r[1] for r in rows):
                w(["(*) not durable when Sync returns (`sync_mode=interval` or `none`).", ""])
        for line in self.special_summary_lines():
            w([f"- {line}"])
        w([""])
        w(self.image("headline", "segwal/stock writes/s, default segwal options"))
        w(self.image("ratios", "segwal/stock writes/s, every case and variant"))
        w(self.findings_section())
        w(self.targets_section())
        w(self.machine_section())
        for group in C.GROUPS:
            section = getattr(self, f"section_{group}")()
            if section:
                w(section)
        w(self.raw_section())
        return "\n".join(out) + "\n"

    def findings_section(self) -> List[str]:
        out = ["## Findings", ""]
        sync1_cases = [r for r in self.bench_results() if r.case.sync and r.case.histogram]
        worse = self.p999_findings()
        if sync1_cases:
            if worse:
                out.append(f"**segwal's p99.9 synced-write latency is worse than stock's in "
                           f"{len(worse)} case(s)** (target: no worse in every sync=1 case):")
                out += [f"- {line}" for line in worse]
            else:
                out.append("segwal's p99.9 synced-write latency is no worse than stock's in "
                           "any sync=1 case measured here (median of the repeats' p99.9).")
            out.append("")
        for res in self.bench_results("sync0"):
            f = VariantFigures(res, res.case.variants[1])
            if f.ratio:
                out.append(f"- sync=0 parity, `{res.case.name}`: segwal/stock "
                           f"{f.ratio.fmt('.2f')} (target 0.97 and above: "
                           f"{'met' if f.ratio.median >= 0.97 else 'not met'}).")
        for res in self.bench_results("recycle"):
            figs = {v.options_file + ("/" + v.side): VariantFigures(res, v)
                    for v in res.case.variants}
            rec_v = next(v for v in res.case.variants if v.options_file == "recycle")
            seg_v = next(v for v in res.case.variants if v.is_segwal)
            vs = spread(pair_ratios([r.ops_per_sec for r in res.of(seg_v)],
                                    [r.ops_per_sec for r in res.of(rec_v)]))
            fr, fs = VariantFigures(res, rec_v), VariantFigures(res, seg_v)
            if fr.ratio and fs.ratio and vs:
                out.append(f"- The fairest stock baseline, `{res.case.name}`: stock with "
                           f"recycled WALs makes {fmt_x(fr.ratio)} plain stock's "
                           f"writes/s, segwal {fmt_x(fs.ratio)}; segwal against "
                           f"recycling stock: {fmt_x(vs)} (per pair). Recycling needs "
                           "`wal_recovery_mode=kSkipAnyCorruptedRecords` in 7.8.3.")
        for res in self.bench_results("compression"):
            base = VariantFigures(res, res.case.baseline)
            parts = []
            for v in res.case.variants[1:]:
                f = VariantFigures(res, v)
                if f.bytes_per_write and base.bytes_per_write and f.ratio:
                    parts.append(f"{v.label} {f.bytes_per_write.median / base.bytes_per_write.median:.2f}x "
                                 f"the bytes at {f.ratio.median:.2f}x the writes/s")
            if parts:
                out.append(f"- WAL compression (`{res.case.name}`, against stock "
                           f"uncompressed): " + "; ".join(parts) + ".")
        small = self.smalldb_figures()
        if "stock" in small and "segwal" in small:
            s, g = small["stock"], small["segwal"]
            out.append(f"- A small DB costs segwal {g['ms'].median:.0f} ms and "
                       f"{g['allocated'] / MiB:.1f} MiB of disk to create, write once and "
                       f"close, against stock's {s['ms'].median:.0f} ms and "
                       f"{s['allocated'] / MiB:.2f} MiB: each log starts with a whole "
                       "preallocated (zero-filled) segment.")
            if "segwal_shared" in small:
                h = small["segwal_shared"]
                out.append(f"  With a shared `log_dir`, DBs opened and closed one after "
                           f"another: {h['ms'].median:.0f} ms and "
                           f"{h['allocated'] / MiB:.1f} MiB per DB (the log closes with "
                           "its last DB and starts a new segment at every reopen; the "
                           "closed DBs' unflushed WALs keep old segments live until they "
                           "are relocated).")
        rec = self.recovery_figures()
        if rec:
            for cache in rec["caches"]:
                r = rec["ratio"].get(cache)
                if r:
                    out.append(f"- DB::Open with {rec['size']} of unflushed WAL "
                               f"({cache} cache): segwal takes {r.median:.2f}x stock's time "
                               f"(min-max {r.min:.2f}-{r.max:.2f}).")
        if rec and rec["scan"].get("warm") and rec["cat"]:
            out.append(f"- segwal's recovery scan of cached segments runs at "
                       f"{rec['scan']['warm'].median:.2f} GiB/s; `cat` reads the same "
                       f"files at {rec['cat'].median:.2f} GiB/s.")
        out.append("")
        return out

    def targets_section(self) -> List[str]:
        out = ["## Engine target figures", "",
               "Where each figure the engine issues set targets for is measured. Bytes: "
               "stock's are its `.log` file bytes, segwal's its frame bytes (the `frame_bytes=` "
               "counter of its LOG); *per WriteBatch byte* divides by RocksDB's "
               "`rocksdb.wal.bytes` (the same denominator both sides), *per logical WAL byte* "
               "by segwal's `write_bytes=` (the bytes RocksDB appended to the logical "
               "`.log` file, which stock writes as they are).", ""]
        rows = []
        for res in self.bench_results("sync0"):
            f = VariantFigures(res, res.case.variants[1])
            rows.append(["sync=0 parity (segwal/stock ops/s)", f"`{res.case.name}`: "
                         f"{fmt_spread(f.ratio)}", "[sync=0](#sync0-parity)"])
        for res in self.bench_results():
            if res.case.group not in ("sync1", "scaling", "compression"):
                continue
            parts = []
            for v in res.case.variants:
                f = VariantFigures(res, v)
                if not f.bytes_per_write:
                    continue
                part = f"{v.label} {f.bytes_per_write.median:.0f} B/write"
                ratios = []
                if f.per_batch_byte:
                    ratios.append(f"{f.per_batch_byte.median:.3f} per WriteBatch byte")
                if f.frame_per_logical:
                    ratios.append(f"{f.frame_per_logical.median:.3f} frame bytes per "
                                  "logical WAL byte")
                parts.append(part + (f" ({', '.join(ratios)})" if ratios else ""))
            if parts:
                rows.append(["bytes per write", f"`{res.case.name}`: " + "; ".join(parts),
                             "[sync=1](#sync1-one-db), [compression](#wal-compression)"])
        for res in self.bench_results():
            if not res.case.sync or res.case.group not in ("sync1", "scaling"):
                continue
            s = VariantFigures(res, res.case.variants[0], self.results)
            g = VariantFigures(res, res.case.variants[1], self.results)
            net = ""
            if s.cpu_net and g.cpu_net:
                net = (f"; net of start-up: stock {s.cpu_net.median:.1f}, "
                       f"segwal {g.cpu_net.median:.1f} us")
            rows.append(["CPU per synced write (user+sys of db_bench / writes)",
                         f"`{res.case.name}`: stock {fmt_spread(s.cpu, '.1f', ' us')}, "
                         f"segwal {fmt_spread(g.cpu, '.1f', ' us')}{net}",
                         "[sync=1](#sync1-one-db), [scaling](#sync1-many-dbs-sharing-one-log)"])
        for res in self.bench_results("compression"):
            base = VariantFigures(res, res.case.baseline)
            for v in res.case.variants[1:]:
                f = VariantFigures(res, v)
                rel = (f"{f.bytes_per_write.median / base.bytes_per_write.median:.2f}x stock's bytes"
                       if f.bytes_per_write and base.bytes_per_write else "bytes -")
                rows.append(["compression against wal_compression",
                             f"{v.label}: {rel}, writes/s {fmt_x(f.ratio)} stock's",
                             "[compression](#wal-compression)"])
        small = self.smalldb_figures()
        for v, f in small.items():
            rows.append(["open cost and disk of small DBs", f"{v}: {f['ms'].fmt('.1f', ' ms')}"
                         f"/DB, {f['allocated'] / MiB:.2f} MiB/DB", "[small DBs](#small-dbs-open-cost-and-disk)"])
        rec = self.recovery_figures()
        if rec:
            for cache, s in rec["scan"].items():
                if s:
                    rows.append(["recovery scan GiB/s (segwal's LOG line)",
                                 f"{cache} cache: {s.fmt('.2f')}", "[recovery](#recovery)"])
            if rec["cat"]:
                rows.append(["reading the same segments with `cat` (cached; the limit)",
                             rec["cat"].fmt(".2f", " GiB/s"), "[recovery](#recovery)"])
            for cache in rec["caches"]:
                s, g = rec["open"].get(("stock", cache)), rec["open"].get(("segwal", cache))
                if s and g:
                    rows.append(["DB::Open time", f"{cache}: stock {s.fmt('.0f', ' ms')}, "
                                 f"segwal {g.fmt('.0f', ' ms')}", "[recovery](#recovery)"])
        worse = self.p999_findings()
        rows.append(["p99.9 synced-write latency no worse than stock's (every sync=1 case)",
                     "met" if not worse else f"NOT met in {len(worse)} case(s), see Findings",
                     "[Findings](#findings), per-case tables"])
        out += [md_table(["figure", "value (median, min-max)", "section"], rows, "lll"), ""]
        return out

    def machine_section(self) -> List[str]:
        rows = [[k, v] for k, v in self.info.items() if k != "fstype"]
        rows.append(["profile", f"{self.profile.name}; repeats per group: " + ", ".join(
            f"{c.group} {r}" for c, r in self.plan if isinstance(c, C.Case)
            and c == next(x for x, _ in self.plan if getattr(x, 'group', None) == c.group))])
        if self.args.segwal_db_bench:
            seg = f"`{self.args.segwal_db_bench} --fs_uri=...` (segwal linked in)"
        else:
            seg = f"`LD_PRELOAD={self.args.libsegwal} {self.args.db_bench} --fs_uri=...`"
        rows.append(["segwal side", seg + f"; base FileSystem URI `{self.args.fs_uri}`"])
        rows.append(["flags of every db_bench run", "`" + " ".join(C.COMMON_FLAGS) + "`"])
        return ["## Machine and versions", "", md_table(["", ""], rows, "ll"), ""]

    def db_bench_section(self, group: str, anchor_title: str, intro: List[str],
                         images: List[str]) -> List[str]:
        results = self.bench_results(group)
        if not results:
            return []
        out = [f"## {anchor_title}", ""] + intro
        for key in images:
            out += self.image(key, key)
        for res in results:
            out += [f"### `{res.case.name}`: {res.case.title}", "",
                    f"{self.repeats(group)} repeats; flags "
                    f"`{' '.join(res.case.db_bench_flags()[len(C.COMMON_FLAGS):])}`", "",
                    case_table(res, self.results), ""]
        return out

    def section_sync1(self):
        intro = ["Every write synced (`--sync=1`), 1 DB, N threads. *writes/fdatasync*: "
                 "db_bench writes divided by WAL fdatasyncs (stock: `rocksdb.wal.synced`, "
                 "one per synced write group; segwal: every fdatasync of the log, from its "
                 "LOG). *WAL bytes/write*: stock's `.log` bytes, segwal's frame bytes. "
                 "*CPU us/write*: user+system CPU of the db_bench process (`os.wait4`) "
                 "divided by its writes, start-up and shut-down included.", ""]
        for cal in self.bench_results("sync1", calibration=True):
            cpu = {v.side: median([r.cpu_user_s + r.cpu_sys_s for r in cal.of(v)]) * 1e3
                   for v in cal.case.variants if cal.of(v)}
            if cpu:
                intro += [f"Start-up: a db_bench run of one synced write (`{cal.case.name}`, "
                          f"{self.repeats('sync1')} repeats) costs "
                          + ", ".join(f"{side} {ms:.0f} ms" for side, ms in cpu.items())
                          + " of CPU (process start, DB::Open, close; segwal also zero-fills "
                          "its first segment); *net of start-up* subtracts it.", ""]
        return self.db_bench_section("sync1", "sync=1, one DB", intro, ["latency"])

    def section_scaling(self):
        results = self.bench_results("scaling")
        if not results:
            return []
        rows = []
        for res in results:
            s = VariantFigures(res, res.case.variants[0])
            g = VariantFigures(res, res.case.variants[1])
            rows.append([str(res.case.x), fmt_spread(s.ops, ".0f"), fmt_spread(g.ops, ".0f"),
                         fmt_spread(g.ratio, ".2f"), fmt_spread(s.per_sync, ".1f"),
                         fmt_spread(g.per_sync, ".1f"), fmt_spread(s.cpu, ".0f"),
                         fmt_spread(g.cpu, ".0f"),
                         f"{fmt_num(s.p999.median if s.p999 else None)} / "
                         f"{fmt_num(g.p999.median if g.p999 else None)}"])
        out = ["## sync=1, many DBs sharing one log", "",
               "N DBs in one db_bench process (`--num_multi_db=N`), N threads, each write "
               "to a random DB, every write synced. segwal: one FileSystem with one "
               "`log_dir` for all N DBs, so one fdatasync can serve the syncs of every DB; "
               "stock: one WAL per DB.", ""]
        out += self.image("scaling", "ops/s and writes per fdatasync against the number of DBs")
        out += [md_table(["DBs", "stock ops/s", "segwal ops/s", "segwal/stock",
                          "stock writes/fdatasync", "segwal writes/fdatasync",
                          "stock CPU us/w", "segwal CPU us/w", "p99.9 us stock / segwal"],
                         rows), "", "Per point:", ""]
        for res in results:
            out += [f"### `{res.case.name}`: {res.case.title}", "", case_table(res, self.results), ""]
        return out

    def section_sync0(self):
        return self.db_bench_section(
            "sync0", "sync=0 (parity)",
            ["Writes not synced (`--sync=0`): what segwal costs when nobody waits for "
             "the disk. No histogram and no statistics here, so the figure is db_bench's "
             "plain throughput (on this VM a clock read costs ~170 ns, a few % of a "
             "cached write).", ""], [])

    def section_modes(self):
        return self.db_bench_section(
            "modes", "segwal sync modes and the group-commit window",
            ["The same workload under every `sync_mode` (see the README's Durability "
             "table): `always` (an fdatasync per Sync), `group` (concurrent Syncs share "
             "one; the default), `interval` (Sync returns at once, an fdatasync every "
             "100 ms: not durable at Sync), `none` (never: unsafe), and `group` with a "
             "group-commit window.", ""], ["modes"])

    def section_compression(self):
        return self.db_bench_section(
            "compression", "WAL compression",
            ["segwal's codecs (`compression=lz4|zstd`, frame payloads) against stock "
             "uncompressed and stock's own `wal_compression=zstd` (7.8.3: zstd only, "
             "marked work in progress). WAL bytes/write: stock's `.log` bytes (the "
             "memtable holds the whole run, so no WAL is deleted), segwal's frame bytes; "
             "`--statistics=1` on every variant.", ""], ["compression"])

    def section_recycle(self):
        return self.db_bench_section(
            "recycle", "The fairest stock baseline: recycled WAL files",
            ["Stock with `recycle_log_file_num=4`: a recycled WAL is overwritten in "
             "place, so its fdatasyncs need no metadata journaling, as segwal's "
             "segments. RocksDB 7.8.3 silently turns recycling off unless "
             "`wal_recovery_mode=kSkipAnyCorruptedRecords` (db_impl_open.cc "
             "SanitizeOptions), a recovery mode that skips any corrupted record, not "
             "only a torn tail. Stock db_bench has neither flag, so every variant "
             "loads an OPTIONS file written by db_bench for the case's flags (the "
             "recycle variant's with those two options changed); 256 KiB memtables "
             "switch WALs many times per run. *WALs recycled*: lines `adding log N to "
             "recycle list` in RocksDB's LOG; the run also checks that the DB's "
             "OPTIONS file kept `recycle_log_file_num=4`.", ""], [])

    def section_recovery(self):
        rec = self.recovery_figures()
        res = self.special("recovery")
        if rec is None or res is None:
            return []
        spec = res.spec
        out = ["## Recovery", "",
               f"`db_open_bench` (db_bench_ext/db_open_bench.cc) writes "
               f"{rec['size']} of Puts ({spec.value_size}-byte incompressible "
               "values, sync=0, one synced FlushWAL at the end) into a memtable large "
               "enough that nothing is flushed, for each side, then times `DB::Open` with "
               "`avoid_flush_during_recovery=true`: the whole WAL is read and replayed "
               "into the memtable, nothing is flushed, so the same DB is reopened round "
               "after round. Both sides run in the one process, interleaved (stock, "
               "segwal, then segwal, stock). Cache state, the same for both sides: "
               "*cold*: before the open every file of that DB (its segwal log included) "
               "is written back and dropped from the page cache with "
               "`posix_fadvise(DONTNEED)` (this process's files only); *warm*: every "
               "such file is read once before the open. The process itself is not "
               "restarted between opens. Each open checks that the last key is there.",
               ""]
        out += self.image("recovery", "DB::Open time and scan throughput")
        rows = []
        for cache in rec["caches"]:
            s, g = rec["open"].get(("stock", cache)), rec["open"].get(("segwal", cache))
            scan = rec["scan"].get(cache)
            scan_ms = rec.get("scan_ms", {}).get(cache)
            rows.append([cache, fmt_spread(s, ".0f"), fmt_spread(g, ".0f"),
                         fmt_spread(rec["ratio"].get(cache), ".2f"),
                         fmt_spread(scan_ms, ".0f"), fmt_spread(scan, ".2f")])
        out += [md_table(["cache", "stock DB::Open ms", "segwal DB::Open ms",
                          "segwal/stock time (per round)", "segwal scan ms",
                          "segwal scan GiB/s"], rows), ""]
        scan_bytes = rec.get("scan_bytes", {})
        sb = next(iter(scan_bytes.values()), None) if scan_bytes else None
        if rec["cat"]:
            out += [f"Raw scan on cached data: segwal's recovery scan (its LOG line "
                    f"`segwal recovery: ... throughput=`, {fmt_num(sb / MiB if sb else None, '.0f')} "
                    f"MiB scanned per open, the zero-filled rest of each segment included) "
                    f"at {fmt_spread(rec['scan'].get('warm'), '.2f', ' GiB/s')} "
                    f"against `cat` of the same segment files ({rec['cat_bytes'] / MiB:.0f} MiB, "
                    f"cached, into /dev/null) at {rec['cat'].fmt('.2f', ' GiB/s')}: the "
                    "page-cache copy any scan must pay.", ""]
        if rec["scan_lines"] != sum(1 for r in res.records if r["what"] == "open"
                                    and r["side"] == "segwal"):
            out += [f"(segwal's LOG had {rec['scan_lines']} recovery lines for the timed "
                    "opens; scan figures left out.)", ""]
        prep_rows = []
        for side in ("stock", "segwal"):
            p, u = rec["prepare"].get(side), rec["usage"].get(side)
            if p and u:
                prep_rows.append([side, f"{p['bytes'] / MiB:.0f}", f"{p['ms'] / 1e3:.1f}",
                                  f"{u['allocated'] / MiB:.0f}", str(u["files"])])
        if prep_rows:
            out += ["Preparation and disk use after the last open (segwal's log grows by "
                    "one segment per open here, until old ones are relocated: each open "
                    "starts a new segment and the previous opens' empty WALs stay live):",
                    "", md_table(["side", "MiB written", "seconds", "MiB on disk", "files"],
                                 prep_rows), ""]
        out += ["Command:", "", f"```sh\n{res.command}\n```", ""]
        return out

    def section_smalldb(self):
        small = self.smalldb_figures()
        res = self.special("smalldb")
        if not small or res is None:
            return []
        out = ["## Small DBs: open cost and disk", "",
               f"`small_db_bench` (db_bench_ext/small_db_bench.cc): {res.spec.n} times per "
               "variant, create a DB, make one synced Put, close it; variants take turns "
               "DB by DB in one process. *segwal*: a log per DB (`<db>/segwal`); "
               "*segwal_shared*: one `log_dir` for all (the log closes when its last DB "
               "does, so each DB here reopens it). Disk: allocated blocks of the "
               "variant's directory once every DB is closed, divided by the DBs.", ""]
        out += self.image("smalldb", "small DBs")
        rows = [[v, f["ms"].fmt(".1f"), f["open_ms"].fmt(".1f"), f["write_ms"].fmt(".2f"),
                 f"{f['allocated'] / MiB:.3f}", f"{f['apparent'] / MiB:.3f}", f"{f['files']:.1f}"]
                for v, f in small.items()]
        out += [md_table(["variant", "ms per DB", "of which DB::Open", "synced Put ms",
                          "MiB on disk per DB", "MiB of file sizes per DB", "files per DB"],
                         rows), "", "Command:", "", f"```sh\n{res.command}\n```", ""]
        return out

    def section_latency_note(self):
        return []

    def raw_section(self) -> List[str]:
        out = ["## Raw numbers", "",
               "Every db_bench run, in the order of its case's repeats (all numbers are "
               "in results.json too). CPU: user+system seconds of the process; fdatasyncs: "
               "stock `rocksdb.wal.synced`, segwal's log `batches`; WAL bytes: stock "
               "`.log` bytes left (\"-\" when flushes deleted WALs), segwal frame bytes "
               "(logical bytes in parentheses).", ""]
        everything = self.bench_results(calibration=True) + self.bench_results()
        for res in everything:
            rows = []
            for v in res.case.variants:
                for r in res.of(v):
                    h = r.hist
                    wb = fmt_num(r.wal_disk_bytes)
                    if r.segwal.get("write_bytes"):
                        wb += f" ({r.segwal['write_bytes']:.0f})"
                    rows.append([str(r.repeat), v.label, f"{r.ops_per_sec:.0f}",
                                 fmt_num(r.operations), f"{r.wall_s:.1f}",
                                 f"{r.cpu_user_s:.2f}+{r.cpu_sys_s:.2f}",
                                 fmt_num(r.fdatasyncs), wb,
                                 "-" if not h else f"{h.p50:.0f}/{h.p99:.0f}/{h.p999:.0f}/{h.max:.0f}"])
            rows.sort(key=lambda row: int(row[0]))
            out += [f"### `{res.case.name}`", "",
                    md_table(["rep", "variant", "ops/s", "writes", "wall s", "CPU s (u+s)",
                              "fdatasyncs", "WAL bytes", "p50/p99/p99.9/max us"], rows,
                             "rlrrrrrrr"), ""]
        out += ["## Commands", "",
                "Every command run, exactly (run directories are deleted afterwards; "
                "`--keep` keeps them).", ""]
        for res in everything:
            out.append(f"`{res.case.name}`:")
            out.append("```sh")
            runs = sorted((r for v in res.case.variants for r in res.of(v)),
                          key=lambda r: r.repeat)
            out += [r.command for r in runs]
            out += ["```", ""]
        for name in ("recovery", "smalldb"):
            s = self.special(name)
            if s:
                out += [f"`{name}`:", "```sh", s.command, "```", ""]
        rec = self.special("recovery")
        if rec and rec.extra.get("cat"):
            out += ["`recovery` (the limit):", "```sh", rec.extra["cat"]["command"], "```", ""]
        return out

    # -- the README's section ---------------------------------------------

    def readme_section(self, image_path: str) -> str:
        """About 30 lines for the project README: the headline figures, one
        plot and the command that reproduces them (no history of runs)."""
        rows = []
        for res in self.bench_results():
            g = res.case.group
            if g not in ("sync1", "scaling", "sync0", "recycle"):
                continue
            if g == "scaling" and res.case.x not in (1, 8, 64):
                continue
            base = VariantFigures(res, res.case.baseline)
            variants = res.case.variants[1:] if g == "recycle" else res.case.variants[1:2]
            for v in variants:
                f = VariantFigures(res, v)
                p999 = (f"{base.p999.median:.0f} / {f.p999.median:.0f}"
                        if base.p999 and f.p999 else "-")
                rows.append([res.case.title + ("" if g != "recycle" else f": {v.label}"),
                             fmt_num(base.ops.median if base.ops else None),
                             fmt_num(f.ops.median if f.ops else None),
                             fmt_spread(f.ratio, ".2f"), p999])
        out = ["### `make bench`: segwal against stock RocksDB", "",
               f"Latest `make bench` ({self.profile.name} profile, {self.date}, "
               f"{self.wall_s / 60:.0f} min on {self.info.get('cores', '?').split(' ')[0]} "
               f"cores, {self.info.get('fstype', '?')} on a "
               f"{self.info.get('disk', '?').split(',')[0]} disk), db_bench fillrandom, "
               "16-byte keys, 256-byte values; writes/s, medians of "
               "interleaved runs; ratio: median (min-max) of per-pair ratios. Load "
               "average before and after the run: "
               f"{self.info.get('load average (1, 5, 15 min)', '?')} (other work "
               "shared the machine):", "",
               md_table(["case", "stock", "segwal", "segwal/stock", "p99.9 us stock / segwal"],
                        rows, "lrrrr"), ""]
        rec = self.recovery_figures()
        if rec:
            for cache in rec["caches"]:
                st, sg = rec["open"].get(("stock", cache)), rec["open"].get(("segwal", cache))
                if st and sg:
                    out.append(f"- DB::Open with {rec['size']} of unflushed WAL, {cache} cache: "
                               f"stock {st.median:.0f} ms, segwal {sg.median:.0f} ms.")
        small = self.smalldb_figures()
        if "stock" in small and "segwal" in small:
            out.append(f"- A small DB (create, one synced write, close): stock "
                       f"{small['stock']['ms'].median:.0f} ms and "
                       f"{small['stock']['allocated'] / MiB:.2f} MiB, segwal "
                       f"{small['segwal']['ms'].median:.0f} ms and "
                       f"{small['segwal']['allocated'] / MiB:.0f} MiB.")
        worse = self.p999_findings()
        out.append("- p99.9 synced-write latency worse than stock's in: "
                   + ("; ".join(w.split(":")[0] for w in worse) if worse else "no case") + ".")
        out += ["", f"![synced writes/s and writes per fdatasync against the number of "
                f"DBs sharing one log]({image_path})", "",
                "Reproduce (the full report, with every case, plot, command and raw "
                "number, goes to `build/bench/report.md`):", "",
                f"```sh\n{self.args.command}\n```", ""]
        return "\n".join(out)

    # -- raw ---------------------------------------------------------------

    def raw(self) -> dict:
        out = {"date": self.date, "profile": self.profile.name, "wall_s": self.wall_s,
               "command": self.args.command, "machine": self.info, "cases": {}}
        for name, res in self.results.items():
            if isinstance(res, CaseResult):
                out["cases"][name] = {
                    "group": res.case.group, "title": res.case.title,
                    "flags": res.case.db_bench_flags(),
                    "runs": {label: [r.to_json() for r in runs]
                             for label, runs in res.runs.items()}}
            else:
                out["cases"][name] = {"command": res.command, "records": res.records,
                                      "extra": res.extra, "wall_s": res.wall_s}
        return out


def self_check(out_dir: Path, plan, plots_wanted: bool) -> List[str]:
    """What a complete report must have (the smoke test's assertions)."""
    problems = []
    md = (out_dir / "report.md").read_text() if (out_dir / "report.md").is_file() else ""
    if not md:
        return ["no report.md"]
    for heading in ("## Summary", "## Findings", "## Engine target figures",
                    "## Machine and versions", "## Raw numbers", "## Commands"):
        if heading not in md:
            problems.append(f"report lacks '{heading}'")
    for c, _ in plan:
        if f"`{c.name}`" not in md:
            problems.append(f"report does not mention case {c.name}")
    if plots_wanted:
        try:
            import matplotlib  # noqa: F401
            for png in out_dir.glob("*.png"):
                if png.stat().st_size < 1000:
                    problems.append(f"{png.name} is nearly empty")
            if not list(out_dir.glob("*.png")):
                problems.append("no PNG plot written")
            for ref in __import__("re").findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
                if not (out_dir / ref).is_file():
                    problems.append(f"report links a missing image {ref}")
        except ImportError:
            pass
    return problems
