"""PNG figures of the report (matplotlib, Debian's python3-matplotlib,
installed by `make deps`). Without matplotlib the report has no pictures
and says so; nothing else changes."""

from pathlib import Path
from typing import Dict, List, Tuple

from . import cases as C
from .parse import merge_buckets
from .runner import CaseResult, SpecialResult
from .stats import spread

STOCK_COLOR = "#7f7f7f"
SEGWAL_COLOR = "#1f77b4"
OTHER_COLORS = ["#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _bench(results, group=None) -> List[CaseResult]:
    return [r for r in results.values() if isinstance(r, CaseResult)
            and not r.case.calibration and (group is None or r.case.group == group)]


def _color(i: int, variant: C.Variant) -> str:
    if i == 0:
        return STOCK_COLOR
    if variant.is_segwal and i == 1:
        return SEGWAL_COLOR
    return OTHER_COLORS[(i - 1) % len(OTHER_COLORS)]


GROUP_COLORS = {"sync1": "#1f77b4", "scaling": "#2ca02c", "sync0": "#9467bd",
                "modes": "#17becf", "compression": "#ff7f0e", "recycle": "#d62728"}


def _ratio_rows(results, headline: bool):
    from .report import VariantFigures
    rows = []
    for res in _bench(results):
        if headline and res.case.group not in ("sync1", "scaling", "sync0", "recycle"):
            continue
        variants = res.case.variants[1:]
        if headline and res.case.group != "recycle":
            variants = variants[:1]
        for v in variants:
            f = VariantFigures(res, v)
            if f.ratio:
                rows.append((f"{res.case.name}: {v.label}",
                             f.ratio, GROUP_COLORS.get(res.case.group, STOCK_COLOR), v.durable))
    return rows


def ratios(results, path: Path, headline: bool = False) -> bool:
    """Horizontal bars: median ratio per case and variant, min-max whiskers
    (log scale: 0.5x and 2x are as far from 1). headline: segwal's default
    configuration in the sync=1 and sync=0 cases, and the recycling
    baseline."""
    rows = _ratio_rows(results, headline)
    if not rows:
        return False
    plt = _plt()
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5))
    ys = list(range(len(rows)))[::-1]
    med = [r[1].median for r in rows]
    err = [[r[1].median - r[1].min for r in rows], [r[1].max - r[1].median for r in rows]]
    bars = ax.barh(ys, med, xerr=err, color=[r[2] for r in rows], capsize=2, height=0.7,
                   error_kw={"elinewidth": 0.8})
    for bar, r in zip(bars, rows):
        if not r[3]:
            bar.set_hatch("//")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    lo = min(0.5, min(r[1].min for r in rows) * 0.9)
    hi = max(2.0, max(r[1].max for r in rows) * 1.3)
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8, 16) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    for y, r in zip(ys, rows):   # beside the whisker, not over it
        ax.text(r[1].max * 1.03, y, f"{r[1].median:.2f}", va="center", fontsize=7)
    ax.set_xlabel("writes/s relative to stock (median of interleaved pairs, whiskers: min-max"
                  + (")" if headline else ";\nhatched: not durable when Sync returns)"), fontsize=8)
    ax.set_title("segwal / stock RocksDB 7.8.3, db_bench fillrandom"
                 + ("\n(segwal's default options; recycle: stock's fairest baseline)"
                    if headline else ""), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def scaling(results, path: Path) -> bool:
    from .report import VariantFigures
    res = sorted(_bench(results, "scaling"), key=lambda r: r.case.x)
    if not res:
        return False
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    xs = [r.case.x for r in res]
    for i, label, color in ((0, "stock (a WAL per DB)", STOCK_COLOR),
                            (1, "segwal (one shared log)", SEGWAL_COLOR)):
        figs = [VariantFigures(r, r.case.variants[i]) for r in res]
        ops = [f.ops for f in figs]
        ax1.plot(xs, [o.median for o in ops], "o-", color=color, label=label)
        ax1.fill_between(xs, [o.min for o in ops], [o.max for o in ops], color=color, alpha=0.2)
        ps = [f.per_sync.median if f.per_sync else float("nan") for f in figs]
        ax2.plot(xs, ps, "o-", color=color, label=label)
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.set_xlabel("DBs in the process (= threads)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax1.set_ylabel("synced writes/s (median, band: min-max)")
    ax1.set_ylim(bottom=0)
    ax2.set_ylabel("writes per WAL fdatasync")
    ax2.set_yscale("log")
    fig.suptitle("sync=1: many DBs in one process")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def latency(results, path: Path) -> bool:
    """Per sync=1 case: the share of writes slower than x (log-log), from
    db_bench's histogram buckets of every repeat added up."""
    res = [r for r in _bench(results) if r.case.sync and r.case.histogram
           and r.case.group in ("sync1", "scaling", "recycle")]
    if not res:
        return False
    plt = _plt()
    from matplotlib.ticker import NullFormatter
    cols = min(4, len(res))
    rows = (len(res) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), squeeze=False)
    for ax, r in zip([a for row in axes for a in row], res):
        for i, v in enumerate(r.case.variants):
            buckets = merge_buckets([run.hist for run in r.of(v) if run.hist])
            total = sum(n for _, n in buckets)
            if not total:
                continue
            xs, ys, seen = [], [], 0
            for hi, n in buckets:
                seen += n
                left = (total - seen) / total
                if left > 0:
                    xs.append(hi)
                    ys.append(left)
            ax.step(xs, ys, where="post", color=_color(i, v), label=v.label, linewidth=1.2)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 1)
        ax.axhline(1e-3, color="black", linewidth=0.5, linestyle=":")
        ax.set_title(r.case.name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in [a for row in axes for a in row][len(res):]:
        ax.axis("off")
    fig.supxlabel("write latency, us")
    fig.supylabel("share of writes slower (dotted: p99.9)")
    fig.suptitle("sync=1 write latency (db_bench --histogram, all repeats)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def variant_bars(results, group: str, path: Path, title: str, show_bytes: bool) -> bool:
    from .report import VariantFigures
    res = _bench(results, group)
    if not res:
        return False
    r = res[0]
    figs = [VariantFigures(r, v) for v in r.case.variants]
    has_bytes = show_bytes and any(f.bytes_per_write for f in figs)
    plt = _plt()
    fig, axes = plt.subplots(1, 2 if has_bytes else 1, figsize=(10 if has_bytes else 6, 3.8),
                             squeeze=False)
    labels = [f.variant.label + ("" if f.variant.durable else "\n(not durable)") for f in figs]
    colors = [_color(i, f.variant) for i, f in enumerate(figs)]
    ax = axes[0][0]
    med = [f.ops.median if f.ops else 0 for f in figs]
    err = [[f.ops.median - f.ops.min if f.ops else 0 for f in figs],
           [f.ops.max - f.ops.median if f.ops else 0 for f in figs]]
    ax.bar(range(len(figs)), med, yerr=err, color=colors, capsize=3)
    ax.set_xticks(range(len(figs)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("ops/s (median, min-max)")
    if has_bytes:
        ax = axes[0][1]
        b = [f.bytes_per_write.median if f.bytes_per_write else 0 for f in figs]
        ax.bar(range(len(figs)), b, color=colors)
        ax.set_xticks(range(len(figs)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("WAL bytes on disk per write")
    fig.suptitle(f"{r.case.name}: {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def recovery(results, path: Path) -> bool:
    res = results.get("recovery")
    if not isinstance(res, SpecialResult):
        return False
    opens = [r for r in res.records if r["what"] == "open"]
    caches = list(dict.fromkeys(r["cache"] for r in opens))
    if not caches:
        return False
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.38
    for i, (side, color) in enumerate((("stock", STOCK_COLOR), ("segwal", SEGWAL_COLOR))):
        vals = [spread([r["open_ms"] for r in opens if r["side"] == side and r["cache"] == c])
                for c in caches]
        xs = [k + (i - 0.5) * width for k in range(len(caches))]
        ax1.bar(xs, [v.median if v else 0 for v in vals], width, color=color, label=side,
                yerr=[[v.median - v.min if v else 0 for v in vals],
                      [v.max - v.median if v else 0 for v in vals]], capsize=3)
    ax1.set_xticks(range(len(caches)))
    ax1.set_xticklabels([f"{c} cache" for c in caches])
    ax1.set_ylabel("DB::Open ms (median, min-max)")
    ax1.legend(fontsize=8)
    from .report import fmt_size
    ax1.set_title(f"DB::Open, {fmt_size(res.spec.wal_bytes)} of unflushed WAL", fontsize=9)
    seg_opens = [r for r in opens if r["side"] == "segwal"]
    scans = res.extra.get("scans", [])
    bars: List[Tuple[str, float, str]] = []
    if len(scans) == len(seg_opens):
        for c in caches:
            s = spread([x["gib_per_s"] for x, o in zip(scans, seg_opens) if o["cache"] == c])
            if s:
                bars.append((f"segwal scan\n({c})", s.median, SEGWAL_COLOR))
    cat = spread((res.extra.get("cat") or {}).get("gib_per_s", []))
    if cat:
        bars.append(("cat, cached\n(the limit)", cat.median, STOCK_COLOR))
    if bars:
        ax2.bar(range(len(bars)), [b[1] for b in bars], color=[b[2] for b in bars])
        ax2.set_xticks(range(len(bars)))
        ax2.set_xticklabels([b[0] for b in bars], fontsize=8)
        for k, b in enumerate(bars):
            ax2.text(k, b[1], f"{b[1]:.2f}", ha="center", va="bottom", fontsize=8)
    ax2.set_ylabel("GiB/s")
    ax2.set_title("recovery scan throughput", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def smalldb(results, path: Path) -> bool:
    res = results.get("smalldb")
    if not isinstance(res, SpecialResult):
        return False
    usage = [r for r in res.records if r["what"] == "usage"]
    if not usage:
        return False
    dbs = [r for r in res.records if r["what"] == "db"]
    names = [u["variant"] for u in usage]
    colors = [STOCK_COLOR, SEGWAL_COLOR, OTHER_COLORS[0]][:len(names)]
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    ms = [spread([d["ms"] for d in dbs if d["variant"] == n]) for n in names]
    ax1.bar(range(len(names)), [m.median if m else 0 for m in ms], color=colors,
            yerr=[[m.median - m.min if m else 0 for m in ms],
                  [m.max - m.median if m else 0 for m in ms]], capsize=3)
    ax1.set_ylabel("ms per DB (create, 1 synced Put, close)")
    ax2.bar(range(len(names)), [u["allocated"] / u["n"] / 2**20 for u in usage], color=colors)
    ax2.set_ylabel("MiB on disk per DB")
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=8)
    fig.suptitle(f"small DBs (n={usage[0]['n']} per variant)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def make_all(results, out_dir: Path) -> Tuple[Dict[str, str], str]:
    """Writes every figure the results allow; returns {key: file name} and
    a note (empty when all went well)."""
    try:
        _plt()
    except ImportError:
        return {}, ("matplotlib is not installed (Debian: python3-matplotlib, `make deps`); "
                    "the report has no plots")
    for old in out_dir.glob("*.png"):
        old.unlink()
    jobs = {
        "headline": lambda p: ratios(results, p, headline=True),
        "ratios": lambda p: ratios(results, p),
        "scaling": lambda p: scaling(results, p),
        "latency": lambda p: latency(results, p),
        "modes": lambda p: variant_bars(results, "modes", p, "segwal sync modes", False),
        "compression": lambda p: variant_bars(results, "compression", p, "WAL compression", True),
        "recovery": lambda p: recovery(results, p),
        "smalldb": lambda p: smalldb(results, p),
    }
    images, notes = {}, []
    for key, job in jobs.items():
        path = out_dir / f"{key}.png"
        try:
            if job(path):
                images[key] = path.name
        except Exception as e:  # a broken plot must not lose the report
            notes.append(f"{key}: {type(e).__name__}: {e}")
    return images, "; ".join(notes)
