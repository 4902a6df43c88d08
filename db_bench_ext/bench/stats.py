"""Medians, spreads and per-pair ratios."""

import statistics
from dataclasses import dataclass
from typing import List, Optional, Sequence


@dataclass
class Spread:
    median: float
    min: float
    max: float
    n: int

    def fmt(self, spec: str = ".2f", unit: str = "") -> str:
        """"1.23 (1.10-1.31)" or "1.23" for a single value."""
        if self.n == 1:
            return f"{self.median:{spec}}{unit}"
        return f"{self.median:{spec}}{unit} ({self.min:{spec}}-{self.max:{spec}})"


def spread(values: Sequence[Optional[float]]) -> Optional[Spread]:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return Spread(statistics.median(vals), min(vals), max(vals), len(vals))


def median(values: Sequence[Optional[float]]) -> Optional[float]:
    s = spread(values)
    return s.median if s else None


def pair_ratios(numer: Sequence[Optional[float]],
                denom: Sequence[Optional[float]]) -> List[float]:
    """numer[i] / denom[i] for every repeat i where both exist."""
    return [a / b for a, b in zip(numer, denom)
            if a is not None and b is not None and b > 0]


def fmt_num(v: Optional[float], spec: str = ".0f", unit: str = "") -> str:
    return "-" if v is None else f"{v:{spec}}{unit}"


def fmt_spread(s: Optional[Spread], spec: str = ".2f", unit: str = "") -> str:
    return "-" if s is None else s.fmt(spec, unit)
