"""The reward of one (video, platform) metric snapshot: platform-normalised, bounded, robust.

Three signals are read from a snapshot, each on a scale where the audience's response is roughly
normal:

- retention: logit of the average share of the video watched;
- engagement: log of (likes + 2·comments + 3·shares) / views;
- reach: log of lifetime views, only once the snapshot is mature (views still grow before that).

Each is turned into a normal-score percentile against the same platform's reference (the mean and
spread of that signal over the channel's snapshots on that platform, shrunk toward a generic prior
while the channel has few), so a TikTok video is compared with TikTok videos:

    reward = 0.5·Φ(z_retention) + 0.3·Φ(z_engagement) + 0.2·Φ(z_reach)

with the weights of missing signals spread over the present ones. The reward lies in 0..1; 0.5 is
the platform's typical video. A snapshot counts in proportion to its age, fully from 48 hours.
Snapshots that cannot be scored (no views, NaN or negative counts, an unknown window) are skipped
with a recorded reason, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MATURE_HOURS = 48.0
WEIGHTS: Mapping[str, float] = {"retention": 0.5, "engagement": 0.3, "reach": 0.2}
ENGAGEMENT_WEIGHTS: Mapping[str, float] = {"likes": 1.0, "comments": 2.0, "shares": 3.0}
LIFETIME_WINDOWS = frozenset({"lifetime", ""})
PERIOD_WINDOWS = frozenset({"day", "daily", "week", "weekly", "28d"})

# Generic priors of each signal (mean, sd) before a channel has its own reference, and how many
# snapshots the prior counts as.
PRIOR_SIGNAL: Mapping[str, tuple[float, float]] = {
    "retention": (0.5, 0.7),
    "engagement": (-2.7, 0.6),
    "reach": (7.6, 1.0),
}
PRIOR_COUNT = 5.0
MIN_SD = 0.05


def maturity(age_hours: float) -> float:
    """How far a snapshot is to counting fully: linear to 1 at MATURE_HOURS."""
    if not isinstance(age_hours, (int, float)) or not math.isfinite(age_hours):
        return 0.0
    return min(1.0, max(0.0, age_hours / MATURE_HOURS))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Signals:
    """The scale-free signals of one snapshot, or why it has none."""

    platform: str
    age_hours: float
    values: Mapping[str, float] = field(default_factory=dict)
    skipped: str | None = None
    notes: tuple[str, ...] = ()


def signals(snapshot: Mapping[str, Any]) -> Signals:
    """Read retention, engagement and (when mature, lifetime) reach from a snapshot."""
    platform = str(snapshot.get("platform") or "unknown")
    age = _number(snapshot.get("age_hours"))
    window = str(snapshot.get("window") or "lifetime").lower()
    if window not in LIFETIME_WINDOWS and window not in PERIOD_WINDOWS:
        return Signals(platform, age or 0.0, skipped=f"unknown metrics window {window!r}")
    if age is None or age < 0:
        return Signals(platform, 0.0, skipped="missing or negative age")
    views = _number(snapshot.get("views"))
    if views is None:
        return Signals(platform, age, skipped="views missing or not a number")
    if views < 0:
        return Signals(platform, age, skipped="negative views")
    if views == 0:
        return Signals(platform, age, skipped="no views yet")

    values: dict[str, float] = {}
    notes: list[str] = []
    pct = _number(snapshot.get("avg_view_pct"))
    if pct is None or pct < 0:
        notes.append("retention missing")
    else:
        share = min(max(pct / 100.0, 0.005), 0.995)
        values["retention"] = math.log(share / (1.0 - share))

    counts = {k: _number(snapshot.get(k)) for k in ENGAGEMENT_WEIGHTS}
    if any(c is None or c < 0 for c in counts.values()):
        notes.append("engagement counts missing or negative")
    else:
        interactions = sum(ENGAGEMENT_WEIGHTS[k] * c for k, c in counts.items())  # type: ignore[operator]
        # Half an interaction keeps a silent video finite on the log scale.
        values["engagement"] = math.log((interactions + 0.5) / (views + 1.0))

    if window in PERIOD_WINDOWS:
        notes.append("reach not comparable in a period window")
    elif age >= MATURE_HOURS:
        values["reach"] = math.log1p(views)
    if not values:
        return Signals(platform, age, skipped="; ".join(notes) or "no usable signal", notes=tuple(notes))
    return Signals(platform, age, values, notes=tuple(notes))


@dataclass(frozen=True)
class Reference:
    """Per platform and signal: (mean, sd) the signal is normalised by."""

    stats: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)

    def of(self, platform: str, signal: str) -> tuple[float, float]:
        return self.stats.get(platform, {}).get(signal, PRIOR_SIGNAL[signal])

    @classmethod
    def from_signals(cls, items: Iterable[Signals]) -> Reference:
        """The reference a set of snapshots defines, each mean and sd shrunk toward the prior."""
        collected: dict[str, dict[str, list[float]]] = {}
        for s in items:
            if s.skipped:
                continue
            for name, value in s.values.items():
                collected.setdefault(s.platform, {}).setdefault(name, []).append(value)
        stats: dict[str, dict[str, tuple[float, float]]] = {}
        for platform, by_signal in collected.items():
            stats[platform] = {}
            for name, xs in by_signal.items():
                prior_mean, prior_sd = PRIOR_SIGNAL[name]
                n = len(xs)
                mean = sum(xs) / n
                var = sum((x - mean) ** 2 for x in xs) / n
                shrunk_mean = (n * mean + PRIOR_COUNT * prior_mean) / (n + PRIOR_COUNT)
                shrunk_var = (n * var + PRIOR_COUNT * prior_sd**2) / (n + PRIOR_COUNT)
                stats[platform][name] = (shrunk_mean, max(MIN_SD, math.sqrt(shrunk_var)))
        return cls(stats)

    def to_json(self) -> dict[str, dict[str, list[float]]]:
        return {p: {k: [round(m, 4), round(s, 4)] for k, (m, s) in v.items()} for p, v in self.stats.items()}


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def score(s: Signals, reference: Reference | None = None) -> float | None:
    """The reward of a snapshot's signals against a reference (the generic prior without one)."""
    if s.skipped or not s.values:
        return None
    reference = reference or Reference()
    total = weight = 0.0
    for name, value in s.values.items():
        mean, sd = reference.of(s.platform, name)
        total += WEIGHTS[name] * _phi((value - mean) / sd)
        weight += WEIGHTS[name]
    return total / weight


def reward(snapshot: Mapping[str, Any], reference: Reference | None = None) -> float | None:
    """The reward of one snapshot in 0..1, or None when it cannot be scored."""
    return score(signals(snapshot), reference)
