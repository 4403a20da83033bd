"""The learning state a strategy carries from one date to the next, of a size that does not grow with age.

It holds two parts. The *window*: the newest scored signals of every (video, platform) of the batches
still maturing (the trailing LEARNING window, re-read every day), kept whole so their rewards can be
recomputed as their metrics grow. The *statistics*: every older observation folded, once its batch
left the window, into the sufficient statistics of the linear reward model (XᵀWX, XᵀWy, Σwy², Σw
over its features), with the per-platform signal moments its rewards are normalised by, and the
count of learner-chosen videos of each arm of the recent batches (for the A/B experiments' samples).
All of it is decayed by the forgetting rule, relative to the newest batch: when the newest batch
moves on by Δ days, every folded quantity is multiplied by 0.5^(Δ / half-life).

Rewards are normalised per platform against a reference (the mean and spread of each signal), and
a folded reward cannot be rescored. A reference that kept following the newest videos would score
the folded and the maturing rewards on different scales: as the learner settles on good arms the bar
rises, its recent (good) videos score lower than the old (worse) ones did, and the model credits the
arms of the past with the difference. So once a platform has YARDSTICK_COUNT folded observations (its
first fold) its reference is frozen (the *yardstick*), and every later reward of that platform, window
and folded alike, is scored against it; before that nothing is folded and every reward is rescored.

A state of an earlier format (every observation ever, with or without signals) is converted on
read; a damaged part is dropped and named in ``repairs``, which the decision reports as lacking.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from shorts_assets.core.arms import platform_arms
from shorts_assets.learning.features import row_features
from shorts_assets.learning.reward import (
    MIN_SD,
    PRIOR_COUNT,
    PRIOR_SIGNAL,
    WEIGHTS,
    Reference,
    Signals,
    maturity,
    score,
)

STATE_FORMAT = 3
HALF_LIFE_DAYS = 21.0
# Batches this many days old or newer are still maturing: held whole in the window, not folded yet.
WINDOW_DAYS = 7
# How long the folded per-arm video counts are kept for the experiments (longer than any experiment runs).
VIDEO_MEMORY_DAYS = 28
DIGITS = 6
# Folded (decayed) observations of a platform after which its reference is frozen as its yardstick. Any
# later freeze lets the folded rewards drift from the new ones meanwhile, which costs more than a
# yardstick set from one week of data.
YARDSTICK_COUNT = 1.0


@functools.lru_cache(maxsize=4096)
def age_weight(batch_date: str, newest: date | None, half_life_days: float = HALF_LIFE_DAYS) -> float:
    """How much an observation still counts: 1 for the newest batch, halving every half-life."""
    if newest is None or half_life_days <= 0:
        return 1.0
    try:
        age = (newest - date.fromisoformat(str(batch_date))).days
    except ValueError:
        return 1.0
    return 0.5 ** (max(0, age) / half_life_days)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Stats:
    """Sufficient statistics of weighted observations of the linear model, over named binary features."""

    features: list[str] = field(default_factory=list)
    xtwx: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    xtwy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    yy: float = 0.0
    weight: float = 0.0
    rows: int = 0  # observations folded, undecayed

    def index(self) -> dict[str, int]:
        return {f: i for i, f in enumerate(self.features)}

    def _grow(self, names: Iterable[str]) -> dict[str, int]:
        index = self.index()
        new = [n for n in dict.fromkeys(names) if n not in index]
        if new:
            p = len(self.features) + len(new)
            grown = np.zeros((p, p))
            grown[: len(self.features), : len(self.features)] = self.xtwx
            self.xtwx = grown
            self.xtwy = np.concatenate([self.xtwy, np.zeros(len(new))])
            for n in new:
                index[n] = len(self.features)
                self.features.append(n)
        return index

    def add(self, names: list[str], reward: float, weight: float) -> None:
        index = self._grow(names)
        idx = np.array([index[n] for n in dict.fromkeys(names)])
        self.xtwx[np.ix_(idx, idx)] += weight
        self.xtwy[idx] += weight * reward
        self.yy += weight * reward * reward
        self.weight += weight
        self.rows += 1

    def scale(self, factor: float) -> None:
        self.xtwx *= factor
        self.xtwy *= factor
        self.yy *= factor
        self.weight *= factor

    def to_json(self) -> dict[str, Any]:
        p = len(self.features)
        return {
            "features": list(self.features),
            # the upper triangle, row by row: XᵀWX is symmetric
            "xtwx": [[round(float(v), DIGITS) for v in self.xtwx[i, i:]] for i in range(p)],
            "xtwy": [round(float(v), DIGITS) for v in self.xtwy],
            "yy": round(self.yy, DIGITS),
            "weight": round(self.weight, DIGITS),
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Stats:
        """The statistics a stored state holds; ValueError says what is wrong with them."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"expected an object, got {type(raw).__name__}")
        features = raw.get("features")
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("its features are not a list of names")
        p = len(features)
        rows, xtwy = raw.get("xtwx"), raw.get("xtwy")
        if not isinstance(rows, list) or len(rows) != p or not isinstance(xtwy, list) or len(xtwy) != p:
            raise ValueError(f"its matrices do not match its {p} features")
        matrix = np.zeros((p, p))
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != p - i or not all(_finite(v) for v in row):
                raise ValueError(f"row {i} of XᵀWX is malformed")
            matrix[i, i:] = row
        matrix = matrix + np.triu(matrix, 1).T
        if not all(_finite(v) for v in xtwy):
            raise ValueError("XᵀWy holds a value that is not a finite number")
        scalars = [raw.get("yy"), raw.get("weight")]
        if not all(_finite(v) and v >= 0 for v in scalars) or not isinstance(raw.get("rows"), int):
            raise ValueError("its totals are missing or not finite")
        if np.any(np.diag(matrix) < -1e-9):
            raise ValueError("XᵀWX has a negative weight on its diagonal")
        return cls(
            list(features), matrix, np.array(xtwy, dtype=float), float(scalars[0]), float(scalars[1]), raw["rows"]
        )


@dataclass(frozen=True)
class Observation:
    """The newest scored snapshot of one (video, platform)."""

    key: str  # "<video_id>|<platform>"
    arms: Mapping[str, str]
    signals: Signals
    batch_date: str
    forced: tuple[str, ...] = ()  # dimensions a person chose for the video, not the learner


@dataclass(frozen=True)
class Row:
    arms: Mapping[str, str]  # the video's arms as seen on this platform (its own posting hour)
    platform: str
    reward: float
    weight: float
    video: str


def signals_of(entry: Mapping[str, Any]) -> Signals:
    age = entry.get("age_hours", 0.0)
    values = entry.get("signals") if isinstance(entry.get("signals"), Mapping) else {}
    return Signals(
        platform=str(entry.get("platform") or "unknown"),
        age_hours=float(age) if _finite(age) else 0.0,
        values={k: float(v) for k, v in values.items() if k in WEIGHTS and _finite(v)},
    )


def _moments_of(raw: Any) -> dict[str, dict[str, list[float]]]:
    """platform -> signal -> [weight, Σ w·x, Σ w·x²], keeping only well-formed entries."""
    out: dict[str, dict[str, list[float]]] = {}
    if not isinstance(raw, Mapping):
        return out
    for platform, by_signal in raw.items():
        if not isinstance(by_signal, Mapping):
            continue
        for name, m in by_signal.items():
            if name in WEIGHTS and isinstance(m, list) and len(m) == 3 and all(_finite(v) for v in m) and m[0] > 0:
                out.setdefault(str(platform), {})[name] = [float(v) for v in m]
    return out


def _yardstick_of(raw: Any) -> dict[str, dict[str, tuple[float, float]]]:
    """platform -> signal -> (mean, sd), keeping only well-formed entries (a positive spread)."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    if not isinstance(raw, Mapping):
        return out
    for platform, by_signal in raw.items():
        if not isinstance(by_signal, Mapping):
            continue
        for name, pair in by_signal.items():
            well_formed = isinstance(pair, list) and len(pair) == 2 and all(_finite(v) for v in pair)
            if name in WEIGHTS and well_formed and pair[1] > 0:
                out.setdefault(str(platform), {})[name] = (float(pair[0]), float(pair[1]))
    return out


def _videos_of(raw: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if isinstance(raw, Mapping):
        for day, counts in raw.items():
            if _date(day) is not None and isinstance(counts, Mapping):
                out[str(day)] = {str(k): float(v) for k, v in counts.items() if _finite(v) and v > 0}
    return out


@dataclass
class LearningState:
    """The parsed state: the window, the folded statistics, and what was repaired while reading it."""

    window: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    moments: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    videos: dict[str, dict[str, float]] = field(default_factory=dict)
    newest: date | None = None
    folded_through: date | None = None
    yardstick: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)

    def reference(self) -> Reference:
        """Per platform and signal: its frozen yardstick, else the live reference."""
        live = self.live_reference().stats
        return Reference({p: {**live.get(p, {}), **self.yardstick.get(p, {})} for p in {*live, *self.yardstick}})

    def live_reference(self) -> Reference:
        """Per platform and signal, the folded moments plus the window's signals, shrunk toward the prior."""
        totals = {p: {k: list(m) for k, m in by.items()} for p, by in self.moments.items()}
        for entry in self.window.values():
            s = signals_of(entry)
            for name, x in s.values.items():
                m = totals.setdefault(s.platform, {}).setdefault(name, [0.0, 0.0, 0.0])
                m[0] += 1.0
                m[1] += x
                m[2] += x * x
        stats: dict[str, dict[str, tuple[float, float]]] = {}
        for platform, by_signal in totals.items():
            for name, (n, s1, s2) in by_signal.items():
                prior_mean, prior_sd = PRIOR_SIGNAL[name]
                mean = s1 / n
                var = max(0.0, s2 / n - mean * mean)
                shrunk_mean = (n * mean + PRIOR_COUNT * prior_mean) / (n + PRIOR_COUNT)
                shrunk_var = (n * var + PRIOR_COUNT * prior_sd**2) / (n + PRIOR_COUNT)
                stats.setdefault(platform, {})[name] = (shrunk_mean, max(MIN_SD, math.sqrt(shrunk_var)))
        return Reference(stats)

    def observation_count(self) -> int:
        return self.stats.rows + len(self.window)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "newest": self.newest.isoformat() if self.newest else None,
            "folded_through": self.folded_through.isoformat() if self.folded_through else None,
            "observations": self.window,
            "stats": self.stats.to_json(),
            "reference": {
                p: {k: [round(v, DIGITS) for v in m] for k, m in by.items()} for p, by in self.moments.items()
            },
            "videos": {d: {k: round(v, 3) for k, v in c.items()} for d, c in sorted(self.videos.items())},
            "yardstick": {
                p: {k: [round(m, DIGITS), round(sd, DIGITS)] for k, (m, sd) in by.items()}
                for p, by in self.yardstick.items()
            },
            "repairs": list(self.repairs),
        }


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return "not an object"
    if not isinstance(entry.get("arms"), Mapping):
        return "no arms"
    if _date(entry.get("batch_date")) is None:
        return "no batch date"
    if not entry.get("signals") and not (_finite(entry.get("reward")) and _finite(entry.get("weight"))):
        return "neither signals nor a reward"
    return None


def read(state: Any) -> LearningState:
    """The state as stored (any format so far), its damaged parts dropped and named in ``repairs``."""
    out = LearningState()
    if state is None or (isinstance(state, Mapping) and not state):
        return out
    if not isinstance(state, Mapping):
        out.repairs.append(f"the carried learning state was not readable ({type(state).__name__}): learning restarts")
        return out
    version = state.get("format")
    raw_window = state.get("observations")
    if raw_window is not None and not isinstance(raw_window, Mapping):
        out.repairs.append("the carried observations were not readable: they are left out")
        raw_window = {}
    bad = 0
    for key, entry in (raw_window or {}).items():
        if _entry_problem(entry) is None:
            out.window[str(key)] = dict(entry)
        else:
            bad += 1
    if bad:
        out.repairs.append(f"{bad} carried observation(s) were unreadable and are left out")
    if version == STATE_FORMAT:
        try:
            out.stats = Stats.from_json(state.get("stats"))
        except ValueError as exc:
            out.repairs.append(
                f"the carried model statistics were damaged ({exc}): what older batches taught is lost, "
                "the recent window and the prior remain"
            )
        out.moments = _moments_of(state.get("reference"))
        out.videos = _videos_of(state.get("videos"))
        out.yardstick = _yardstick_of(state.get("yardstick"))
        out.newest = _date(state.get("newest"))
        out.folded_through = _date(state.get("folded_through"))
        if out.stats.rows and out.newest is None:
            out.repairs.append("the carried state had no newest batch date: its statistics are left out")
            out.stats = Stats()
    elif version not in (None, 1, 2):
        out.repairs.append(
            f"the carried learning state has an unknown format {version!r}: only its observations are kept"
        )
    newest = max((d for d in (_date(e.get("batch_date")) for e in out.window.values()) if d), default=None)
    if newest is not None and (out.newest is None or newest > out.newest):
        _advance(out, newest)
    return out


def _advance(state: LearningState, newest: date) -> None:
    """Move the newest batch on, decaying everything folded by the days it moved."""
    if state.newest is not None:
        factor = 0.5 ** ((newest - state.newest).days / HALF_LIFE_DAYS)
        state.stats.scale(factor)
        for by_signal in state.moments.values():
            for m in by_signal.values():
                m[0] *= factor
                m[1] *= factor
                m[2] *= factor
    state.newest = newest


def window_rows(state: LearningState, reference: Reference | None = None) -> list[Row]:
    """The window's observations as (arms on their platform, platform, reward, weight), rewards recomputed.

    The platforms' observations of one video share the video's own luck, so together they count as
    (1 + m) / 2 independent observations rather than m. Older batches count less (forgetting).
    """
    reference = reference if reference is not None else state.reference()
    return _rows(state.window, reference, state.newest)


def _rows(entries: Mapping[str, Mapping[str, Any]], reference: Reference, newest: date | None) -> list[Row]:
    per_video = Counter(key.split("|")[0] for key in entries)
    rows = []
    for key, entry in entries.items():
        video = key.split("|")[0]
        platform = str(entry.get("platform") or key.split("|")[-1])
        if entry.get("signals"):
            s = signals_of({**entry, "platform": platform})
            value = score(s, reference)
            weight = maturity(s.age_hours)
        else:  # an observation stored before signals were kept: its reward as recorded
            value, weight = entry.get("reward"), entry.get("weight", 0.0)
        arms = entry.get("arms")
        if not _finite(value) or not _finite(weight) or weight <= 0 or not isinstance(arms, Mapping):
            continue
        m = per_video[video]
        weight *= age_weight(str(entry.get("batch_date", "")), newest) * (1 + m) / (2 * m)
        seen = platform_arms({str(d): str(v) for d, v in arms.items()}, platform)
        rows.append(Row(seen, platform, float(value), float(weight), video))
    return rows


def _count_videos(state: LearningState, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Add each video of these entries once to its batch's per-arm counts, its forced dimensions left out."""
    seen: set[str] = set()
    for key, entry in entries.items():
        video = key.split("|")[0]
        if video in seen:
            continue
        seen.add(video)
        forced = set(entry.get("forced") or ())
        counts = state.videos.setdefault(str(entry["batch_date"]), {})
        for dimension, value in (entry.get("arms") or {}).items():
            if "@" not in str(dimension) and dimension not in forced:
                name = f"{dimension}={value}"
                counts[name] = counts.get(name, 0.0) + 1.0


def _freeze_settled(state: LearningState) -> None:
    """Freeze the reference of each platform that has folded enough observations and no yardstick yet."""
    settled = [
        p
        for p, by_signal in state.moments.items()
        if p not in state.yardstick and max((m[0] for m in by_signal.values()), default=0.0) >= YARDSTICK_COUNT
    ]
    if settled:
        live = state.live_reference().stats
        for p in settled:
            state.yardstick[p] = dict(live.get(p, {}))


def fold(state: LearningState, window_days: int = WINDOW_DAYS) -> None:
    """Fold the window's batches older than `window_days` into the statistics, and forget old counts."""
    if state.newest is None:
        return
    first_kept = state.newest - timedelta(days=window_days - 1)
    leaving = {k: e for k, e in state.window.items() if (_date(e.get("batch_date")) or first_kept) < first_kept}
    if leaving:
        reference = state.reference()
        for row in _rows(leaving, reference, state.newest):
            state.stats.add(row_features(row.arms, row.platform), row.reward, row.weight)
        for entry in leaving.values():
            s = signals_of(entry)
            w = age_weight(str(entry.get("batch_date")), state.newest)
            for name, x in s.values.items():
                m = state.moments.setdefault(s.platform, {}).setdefault(name, [0.0, 0.0, 0.0])
                m[0] += w
                m[1] += w * x
                m[2] += w * x * x
        _count_videos(state, leaving)
        _freeze_settled(state)
        through = max(_date(e["batch_date"]) for e in leaving.values())
        state.folded_through = max(through, state.folded_through or through)
        for key in leaving:
            del state.window[key]
    oldest = (state.newest - timedelta(days=VIDEO_MEMORY_DAYS)).isoformat()
    state.videos = {d: c for d, c in state.videos.items() if d > oldest}


def merge(
    state: Mapping[str, Any] | None, observations: Iterable[Observation], window_days: int = WINDOW_DAYS
) -> dict[str, Any]:
    """The previous state with these observations added (replacing older ones of the same key), the
    batches that left the window folded into the statistics."""
    parsed = read(state)
    for obs in observations:
        s = obs.signals
        if s.skipped or maturity(s.age_hours) <= 0 or _date(obs.batch_date) is None:
            continue
        if parsed.folded_through and date.fromisoformat(obs.batch_date) <= parsed.folded_through:
            continue  # already folded: counting it again would count it twice
        entry: dict[str, Any] = {
            "arms": dict(obs.arms),
            "platform": s.platform,
            "age_hours": round(s.age_hours, 2),
            "signals": {k: round(v, 5) for k, v in s.values.items()},
            "batch_date": obs.batch_date,
        }
        if obs.forced:
            entry["forced"] = sorted(obs.forced)
        parsed.window[obs.key] = entry
    newest = max((d for d in (_date(e.get("batch_date")) for e in parsed.window.values()) if d), default=None)
    if newest is not None and (parsed.newest is None or newest > parsed.newest):
        _advance(parsed, newest)
    fold(parsed, window_days)
    return parsed.to_json()


def videos_since(state: Mapping[str, Any], dimension: str, values: Iterable[str], since: date) -> dict[str, int]:
    """Distinct learner-chosen videos of each value from batches after `since` with a scored observation
    (a video whose `dimension` a person forced is not the learner's evidence and is left out)."""
    parsed = read(state)
    wanted = list(values)
    counts = dict.fromkeys(wanted, 0.0)
    after = since.isoformat()
    for day, by_arm in parsed.videos.items():
        if day > after:
            for v in wanted:
                counts[v] += by_arm.get(f"{dimension}={v}", 0.0)
    seen: dict[str, set[str]] = {v: set() for v in wanted}
    for key, entry in parsed.window.items():
        if str(entry.get("batch_date") or "") <= after or dimension in (entry.get("forced") or ()):
            continue
        value = (entry.get("arms") or {}).get(dimension)
        if value in seen:
            seen[value].add(str(key).split("|")[0])
    return {v: int(round(counts[v])) + len(seen[v]) for v in wanted}
