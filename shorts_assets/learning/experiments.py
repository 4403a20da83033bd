"""A/B experiments between two values of one content dimension: when one opens, how it runs, how it ends.

An experiment opens on a dimension when its two leading values are close contenders: both hold at
least ``open_min_p_best`` of the posterior probability of being the best, the model has learned from
enough data, and the dimension has no experiment running or recently ended. While it runs, the
dimension's allocation is split evenly between the two values (the others keep their exploration
floor), so the test collects a balanced sample. The same two values are not tested against each
other again for ``retest_days``.

At each look, the decision rule is the posterior probability of superiority P(effect A > effect B),
read from the Bayesian arm model (the two effects are jointly normal, so their difference is normal
with variance Var A + Var B − 2 Cov A,B). Nothing is decided before each arm has
``min_videos_per_arm`` videos made since the experiment opened. Then P ≥ ``win_p`` makes A the winner
and P ≤ 1 − ``win_p`` makes B the winner (status ``decided``). An experiment that reaches
``max_videos_per_arm`` videos per arm or ``max_days`` days without either is stopped as inconclusive
(status ``stopped``) and the value with the better posterior mean is kept.

For ``promotion_days`` after it ends, the kept value is promoted in its dimension: its share is at
least ``promoted_share`` and takes the loser's, and the loser falls to the exploration floor. The
promotion lapses early when another value of the dimension has since become the likely best
(P(best) ≥ ``overturn_p_best``): a test decided on a lucky streak does not hold the allocation back.

Everything here is pure: the strategy asset stores the experiments, the benchmark keeps them in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from shorts_assets.core.arms import PLATFORM_SEPARATOR
from shorts_assets.learning.bandit import Posterior, arm_feature
from shorts_assets.learning.state import videos_since

RUNNING = "running"
DECIDED = "decided"
STOPPED = "stopped"
ENDED = (DECIDED, STOPPED)


@dataclass(frozen=True)
class Rules:
    open_min_p_best: float = 0.35
    open_min_weight: float = 10.0  # weighted observations the model must have before a test is worth opening
    min_videos_per_arm: int = 6
    max_videos_per_arm: int = 20
    max_days: int = 14
    win_p: float = 0.95
    promotion_days: int = 21
    promoted_share: float = 0.5
    retest_days: int = 56  # before the same two values are tested against each other again
    # Another value this likely to be the best ends a promotion early: the evidence since has overturned it.
    overturn_p_best: float = 0.6


@dataclass(frozen=True)
class Experiment:
    id: int | None
    channel: str
    dimension: str
    arm_a: str
    arm_b: str
    started_on: date
    status: str = RUNNING
    decided_on: date | None = None
    winner: str | None = None
    p_superiority: float | None = None
    videos_a: int = 0
    videos_b: int = 0
    reason: str | None = None

    @classmethod
    def of(cls, row: Any) -> Experiment:
        """An experiment from any record with the same fields (a database row, for one)."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @property
    def loser(self) -> str | None:
        if self.winner is None:
            return None
        return self.arm_b if self.winner == self.arm_a else self.arm_a

    def as_of(self, day: date) -> Experiment:
        """The experiment as it stood on a date: one that ended later was still running then."""
        if self.status in ENDED and self.decided_on is not None and self.decided_on > day:
            return replace(self, status=RUNNING, decided_on=None, winner=None, reason=None)
        return self

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_on"] = self.started_on.isoformat()
        out["decided_on"] = self.decided_on.isoformat() if self.decided_on else None
        return out


@dataclass(frozen=True)
class Look:
    """What the model says of a running experiment on one date."""

    p_superiority: float
    videos_a: int
    videos_b: int
    mean_a: float
    mean_b: float


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def superiority(post: Posterior, dimension: str, a: str, b: str) -> tuple[float, float, float]:
    """(P(effect of a > effect of b), mean of a, mean of b) under the posterior."""
    mean_a, sd_a = post.effect(dimension, a)
    mean_b, sd_b = post.effect(dimension, b)
    ia, ib = post.index(arm_feature(dimension, a)), post.index(arm_feature(dimension, b))
    cov = float(post.cov[ia, ib]) if ia is not None and ib is not None else 0.0
    var = sd_a**2 + sd_b**2 - 2.0 * cov
    diff = mean_a - mean_b
    if not math.isfinite(var) or not math.isfinite(diff):
        return 0.5, mean_a, mean_b
    if var <= 1e-12:
        return (0.5 if abs(diff) < 1e-12 else float(diff > 0)), mean_a, mean_b
    return _phi(diff / math.sqrt(var)), mean_a, mean_b


def sample(state: Mapping[str, Any], dimension: str, a: str, b: str, since: date) -> tuple[int, int]:
    """Distinct videos of each arm from batches after `since` that have a scored observation; a video
    whose `dimension` a person forced is not the learner's sample and is left out."""
    counts = videos_since(state, dimension, (a, b), since)
    return counts[a], counts[b]


def look(post: Posterior, state: Mapping[str, Any], experiment: Experiment) -> Look:
    p, mean_a, mean_b = superiority(post, experiment.dimension, experiment.arm_a, experiment.arm_b)
    videos_a, videos_b = sample(state, experiment.dimension, experiment.arm_a, experiment.arm_b, experiment.started_on)
    return Look(p, videos_a, videos_b, mean_a, mean_b)


def verdict(experiment: Experiment, seen: Look, today: date, rules: Rules = Rules()) -> Experiment:
    """The experiment after one look: still running, decided by the posterior, or stopped at a cap."""
    if experiment.status != RUNNING:
        return experiment
    a, b = experiment.arm_a, experiment.arm_b
    p = seen.p_superiority if math.isfinite(seen.p_superiority) else 0.5
    current = replace(experiment, p_superiority=round(p, 4), videos_a=seen.videos_a, videos_b=seen.videos_b)
    smaller = min(seen.videos_a, seen.videos_b)
    sample_text = f"{seen.videos_a} vs {seen.videos_b} videos"

    def end(status: str, winner: str | None, reason: str) -> Experiment:
        return replace(current, status=status, decided_on=today, winner=winner, reason=reason)

    if smaller >= rules.min_videos_per_arm:
        if p >= rules.win_p:
            return end(DECIDED, a, f"P({a} > {b}) = {p:.3f} ≥ {rules.win_p} after {sample_text}")
        if p <= 1.0 - rules.win_p:
            return end(DECIDED, b, f"P({a} > {b}) = {p:.3f} ≤ {1.0 - rules.win_p:.2f} after {sample_text}")
    better = a if seen.mean_a >= seen.mean_b else b
    inconclusive = f"inconclusive (P({a} > {b}) = {p:.3f})"
    if smaller >= rules.max_videos_per_arm:
        cap = f"the cap of {rules.max_videos_per_arm} videos per arm"
        return end(STOPPED, better, f"{inconclusive} at {cap}; kept the better mean")
    days = (today - experiment.started_on).days
    if days >= rules.max_days:
        if smaller < rules.min_videos_per_arm:
            wanted = f"{rules.min_videos_per_arm} per arm wanted"
            return end(STOPPED, None, f"only {sample_text} after {days} days; {wanted}")
        return end(STOPPED, better, f"{inconclusive} after {days} days; kept the better mean")
    return current


def retired(experiment: Experiment, arm_space: Mapping[str, Sequence[str]], today: date) -> Experiment | None:
    """The experiment stopped because one of its values left the arm space, or None if both remain."""
    values = set(arm_space.get(experiment.dimension, ()))
    gone = [v for v in (experiment.arm_a, experiment.arm_b) if v not in values]
    if not gone:
        return None
    kept = next((v for v in (experiment.arm_a, experiment.arm_b) if v in values), None)
    return replace(
        experiment, status=STOPPED, decided_on=today, winner=kept, reason=f"{', '.join(gone)} left the arm space"
    )


def contenders(p_best: Mapping[str, Mapping[str, float]], rules: Rules = Rules()) -> dict[str, tuple[str, str]]:
    """dimension -> (leader, runner-up) where both hold at least open_min_p_best of P(best)."""
    out = {}
    for dimension, probs in p_best.items():
        ranked = sorted(probs.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) >= 2 and ranked[1][1] >= rules.open_min_p_best:
            out[dimension] = (ranked[0][0], ranked[1][0])
    return out


def _latest_ended(experiments: Iterable[Experiment], dimension: str) -> Experiment | None:
    ended = [e for e in experiments if e.dimension == dimension and e.status in ENDED and e.decided_on]
    return max(ended, key=lambda e: (e.decided_on, e.id or 0), default=None)


def promote(
    shares: Mapping[str, float], winner: str, loser: str, floor: float, promoted_share: float
) -> dict[str, float]:
    """The winner takes the loser's share and at least promoted_share; the loser keeps only the floor."""
    k = len(shares)
    top = max(0.0, 1.0 - floor * (k - 1))
    win = min(top, max(float(shares.get(winner, 0.0)) + float(shares.get(loser, 0.0)) - floor, promoted_share))
    others = [v for v in shares if v not in (winner, loser)]
    rest = max(0.0, 1.0 - win - floor - floor * len(others))
    excess = {v: max(0.0, float(shares[v]) - floor) for v in others}
    total = sum(excess.values())
    out = {winner: win, loser: floor}
    for v in others:
        out[v] = floor + rest * (excess[v] / total if total > 0 else 1.0 / len(others))
    return {v: round(out[v], 4) for v in shares}


def split(shares: Mapping[str, float], a: str, b: str, floor: float) -> dict[str, float]:
    """The dimension's shares while a and b are tested: even between them, the floor for the rest."""
    each = max(0.0, 1.0 - floor * (len(shares) - 2)) / 2.0
    return {v: round(each if v in (a, b) else floor, 4) for v in shares}


@dataclass
class Plan:
    """One date's experiments and the allocation they steer."""

    allocation: dict[str, dict[str, float]]
    experiments: list[Experiment]  # as of the date: what was running or ended, and what opened
    opened: list[Experiment] = field(default_factory=list)
    ended: list[Experiment] = field(default_factory=list)
    updated: list[Experiment] = field(default_factory=list)  # still running, with today's look
    promotions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def running(self) -> list[Experiment]:
        return [e for e in self.experiments if e.status == RUNNING]

    def winning_arms(self) -> dict[str, str]:
        return {d: p["winner"] for d, p in self.promotions.items()}


def _overturned(p_best: Mapping[str, float], winner: str, rules: Rules) -> bool:
    return any(p >= rules.overturn_p_best for arm, p in p_best.items() if arm != winner)


def _per_platform(allocation: Mapping[str, Any], dimension: str) -> bool:
    """Whether the dimension is chosen per platform: one A/B test of it would override every platform's own."""
    return any(k.startswith(f"{dimension}{PLATFORM_SEPARATOR}") for k in allocation)


def _shared_only(allocation: dict[str, dict[str, float]], dimension: str) -> None:
    """An experiment or promotion steers the dimension on every platform: its per-platform shares go."""
    for key in [k for k in allocation if k.startswith(f"{dimension}{PLATFORM_SEPARATOR}")]:
        del allocation[key]


def plan(
    experiments: Iterable[Experiment],
    *,
    channel: str,
    today: date,
    state: Mapping[str, Any],
    posterior: Posterior,
    p_best: Mapping[str, Mapping[str, float]],
    allocation: Mapping[str, Mapping[str, float]],
    arm_space: Mapping[str, Sequence[str]],
    exploration: float,
    rules: Rules = Rules(),
) -> Plan:
    """Look at the running experiments, open new ones, and steer the allocation by both."""
    known = [e.as_of(today) for e in experiments if e.started_on <= today]
    result: list[Experiment] = []
    ended, updated = [], []
    for experiment in known:
        if experiment.status != RUNNING:
            result.append(experiment)
            continue
        after = retired(experiment, arm_space, today) or verdict(
            experiment, look(posterior, state, experiment), today, rules
        )
        (ended if after.status in ENDED else updated).append(after)
        result.append(after)

    opened = []
    running_dims = {e.dimension for e in result if e.status == RUNNING}
    if posterior.weight >= rules.open_min_weight:
        for dimension, (a, b) in contenders(p_best, rules).items():
            if dimension in running_dims or dimension not in arm_space or _per_platform(allocation, dimension):
                continue
            last = _latest_ended(result, dimension)
            if last is not None and (today - last.decided_on).days < rules.promotion_days:
                continue
            pair = {a, b}
            if any(
                {e.arm_a, e.arm_b} == pair and (today - e.decided_on).days < rules.retest_days
                for e in result
                if e.dimension == dimension and e.status in ENDED and e.decided_on
            ):
                continue
            opened.append(Experiment(None, channel, dimension, a, b, today))
    result += opened

    steered = {d: dict(shares) for d, shares in allocation.items()}
    promotions: dict[str, dict[str, Any]] = {}
    for dimension, shares in list(steered.items()):
        if PLATFORM_SEPARATOR in dimension:
            continue
        floor = min(1.0, max(0.0, exploration)) / max(1, len(shares))
        running = [e for e in result if e.dimension == dimension and e.status == RUNNING]
        if running:
            e = running[-1]
            if e.arm_a in shares and e.arm_b in shares:
                steered[dimension] = split(shares, e.arm_a, e.arm_b, floor)
                _shared_only(steered, dimension)
            continue
        last = _latest_ended(result, dimension)
        if (
            last is None
            or last.winner not in shares
            or last.loser not in shares
            or (today - last.decided_on).days >= rules.promotion_days
            or _overturned(p_best.get(dimension, {}), last.winner, rules)
        ):
            continue
        steered[dimension] = promote(shares, last.winner, last.loser, floor, rules.promoted_share)
        _shared_only(steered, dimension)
        promotions[dimension] = {
            "winner": last.winner,
            "loser": last.loser,
            "experiment": last.id,
            "status": last.status,
            "until": (last.decided_on + timedelta(days=rules.promotion_days)).isoformat(),
        }
    return Plan(steered, result, opened, ended, updated, promotions)
