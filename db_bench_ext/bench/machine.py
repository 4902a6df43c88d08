"""What the machine and the software are: recorded in every report."""

import os
import platform
import subprocess
from pathlib import Path
from typing import Dict, List, Optional


def _run(argv: List[str], cwd: Optional[Path] = None) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20,
                              cwd=cwd).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _first(text: str) -> str:
    return text.splitlines()[0].strip() if text else ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def filesystem(path: Path) -> Dict[str, str]:
    """File system type, mount options, device and the disk behind it."""
    out = _run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,OPTIONS", "-T", str(path)])
    info = {"fstype": "unknown", "source": "unknown", "options": ""}
    parts = out.split()
    if len(parts) >= 2:
        info["source"], info["fstype"] = parts[0], parts[1]
        info["options"] = parts[2] if len(parts) > 2 else ""
    else:
        df = _run(["df", "-PT", str(path)]).splitlines()
        if len(df) > 1:
            info["source"], info["fstype"] = df[1].split()[:2]
    disk = "unknown"
    if info["source"].startswith("/dev/"):
        lsblk = _run(["lsblk", "-dn", "-o", "NAME,SIZE,ROTA,MODEL,TRAN",
                      info["source"]])
        if lsblk:
            fields = lsblk.split(None, 3)
            name, size = fields[0], fields[1] if len(fields) > 1 else "?"
            rota = fields[2] if len(fields) > 2 else "?"
            model = fields[3] if len(fields) > 3 else ""
            kind = {"0": "non-rotational", "1": "rotational"}.get(rota, "?") + \
                " as the kernel reports it"
            disk = f"{name}, {size}, {kind}" + (f", {model}" if model.strip() else "")
    info["disk"] = disk
    return info


def package_version(name: str) -> str:
    return _run(["dpkg-query", "-W", "-f=${Version}", name]) or "not installed"


def git_revision(repo: Path) -> str:
    rev = _run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo)
    if not rev:
        return "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo)
    branch = _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=repo)
    return f"{rev}{' (+ uncommitted changes)' if dirty else ''} on {branch}"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def matplotlib_version() -> str:
    try:
        import matplotlib  # noqa: F401
        return matplotlib.__version__
    except ImportError:
        return "not installed"


def describe(work_dir: Path, repo: Path, db_bench: str) -> Dict[str, str]:
    fs = filesystem(work_dir)
    return {
        "cores": f"{os.cpu_count()} ({cpu_model()})",
        "memory": memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "os": _first(_run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"])),
        "work dir": str(work_dir),
        "file system": f"{fs['fstype']} on {fs['source']} ({fs['options']})",
        "disk": fs["disk"],
        "fstype": fs["fstype"],
        "RocksDB": f"librocksdb-dev {package_version('librocksdb-dev')}, "
                   f"rocksdb-tools {package_version('rocksdb-tools')}",
        "db_bench": f"{db_bench} ({_first(_run([db_bench, '--version']))}; Debian's build: "
                    "assertions enabled, the same for both sides)",
        "segwal": git_revision(repo),
        "compiler": _first(_run(["g++", "--version"])),
        "python": f"{platform.python_version()} ({os.path.realpath(os.sys.executable)}), "
                  f"matplotlib {matplotlib_version()}",
    }
