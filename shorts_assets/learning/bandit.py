"""Bayesian allocation over the content arms: a linear reward model and Thompson sampling.

The reward of a (video, platform) observation is modelled as

    reward = intercept + platform offset + Σ_dimensions effect[dimension = value] + noise

with a Gaussian prior on every coefficient. Arm effects are shrunk toward a prior mean: zero for a
channel on its own, or the pooled effects of the other channels in the database, so a new channel
starts warm and every channel borrows strength from the others. The posterior is exact (Bayesian
linear regression, the noise variance estimated from the residuals).

The allocation of a dimension is the posterior probability that each active value is the best one,
estimated from joint posterior draws (Thompson sampling), mixed with an exploration floor:
``share = (1 − ε)·P(best) + ε / K``. Coefficients are keyed by ``dimension=value``, so a new value
(a new topic) enters with its prior and a retired value keeps explaining the rewards it earned,
without resetting anything else that was learned.

The learning state is a plain dict (stored as JSON): the newest scored signals of every
observation, so rewards can be recomputed against the current per-platform reference.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from shorts_assets.learning.reward import WEIGHTS, Reference, Signals, maturity, score

STATE_FORMAT = 2
INTERCEPT = "intercept"
PRIOR_INTERCEPT = (0.5, 0.5)
PRIOR_PLATFORM_SD = 0.1
PRIOR_ARM_SD = 0.1
# How much a channel's arm effects may differ from the pooled effects of the other channels.
BETWEEN_CHANNEL_SD = 0.05
PRIOR_NOISE_SD = 0.15
PRIOR_NOISE_COUNT = 10.0
MIN_NOISE_SD = 0.02
POSTERIOR_DRAWS = 4000
# Forgetting: an observation's weight halves every HALF_LIFE_DAYS of its batch's age (counted back from the
# newest batch), so a taste that shifted is followed within weeks while a young channel loses little.
HALF_LIFE_DAYS = 21.0
# Pairs of dimensions whose values interact (a hook works for one topic and not another). Their pairwise
# terms start at zero with a tight prior, so the model stays additive until the data says otherwise.
INTERACTIONS: tuple[tuple[str, str], ...] = (("topic", "hook"),)
PRIOR_INTERACTION_SD = 0.08
# The share of the exploration floor a dimension keeps once its best value is certain.
MIN_EXPLORATION = 0.1


def arm_feature(dimension: str, value: str) -> str:
    return f"{dimension}={value}"


def pair_feature(first: str, a: str, second: str, b: str) -> str:
    return f"{first}x{second}={a}|{b}"


def _pair_features(arms: Mapping[str, str]) -> list[str]:
    return [pair_feature(d1, str(arms[d1]), d2, str(arms[d2])) for d1, d2 in INTERACTIONS if d1 in arms and d2 in arms]


def age_weight(batch_date: str, newest: date | None, half_life_days: float = HALF_LIFE_DAYS) -> float:
    """How much an observation still counts: 1 for the newest batch, halving every half-life."""
    if newest is None or half_life_days <= 0:
        return 1.0
    try:
        age = (newest - date.fromisoformat(str(batch_date))).days
    except ValueError:
        return 1.0
    return 0.5 ** (max(0, age) / half_life_days)


def newest_batch(entries: Mapping[str, Mapping[str, Any]]) -> date | None:
    dates = []
    for entry in entries.values():
        try:
            dates.append(date.fromisoformat(str(entry.get("batch_date"))))
        except ValueError:
            continue
    return max(dates, default=None)


@dataclass(frozen=True)
class Observation:
    """The newest scored snapshot of one (video, platform)."""

    key: str  # "<video_id>|<platform>"
    arms: Mapping[str, str]
    signals: Signals
    batch_date: str


def observations_of(state: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The state's observations by key; anything that is not an observation record is left out."""
    entries = state.get("observations") if isinstance(state, Mapping) else None
    if not isinstance(entries, Mapping):
        return {}
    return {str(k): e for k, e in entries.items() if isinstance(e, Mapping)}


def merge(state: Mapping[str, Any] | None, observations: Iterable[Observation]) -> dict[str, Any]:
    """The previous state with these observations added, or replacing older ones of the same key."""
    merged = dict(observations_of(state))
    for obs in observations:
        s = obs.signals
        if s.skipped or maturity(s.age_hours) <= 0:
            continue
        merged[obs.key] = {
            "arms": dict(obs.arms),
            "platform": s.platform,
            "age_hours": round(s.age_hours, 2),
            "signals": {k: round(v, 5) for k, v in s.values.items()},
            "batch_date": obs.batch_date,
        }
    return {"format": STATE_FORMAT, "observations": merged}


def _signals_of(entry: Mapping[str, Any]) -> Signals:
    age = entry.get("age_hours", 0.0)
    values = entry.get("signals") if isinstance(entry.get("signals"), Mapping) else {}
    return Signals(
        platform=str(entry.get("platform") or "unknown"),
        age_hours=float(age) if isinstance(age, (int, float)) else 0.0,
        values={
            k: float(v) for k, v in values.items() if k in WEIGHTS and isinstance(v, (int, float)) and math.isfinite(v)
        },
    )


def reference_of(state: Mapping[str, Any]) -> Reference:
    return Reference.from_signals(_signals_of(e) for e in observations_of(state).values() if e.get("signals"))


@dataclass(frozen=True)
class Row:
    arms: Mapping[str, str]
    platform: str
    reward: float
    weight: float
    video: str


def rows_of(
    state: Mapping[str, Any], reference: Reference | None = None, half_life_days: float | None = None
) -> list[Row]:
    """Every observation of the state as (arms, platform, reward, weight), rewards recomputed.

    The three platforms' observations of one video share the video's own luck, so together they
    count as (1 + m) / 2 independent observations rather than m. Older batches count less (forgetting).
    """
    entries = observations_of(state)
    reference = reference if reference is not None else reference_of(state)
    per_video = Counter(key.split("|")[0] for key in entries)
    newest = newest_batch(entries)
    rows = []
    for key, entry in entries.items():
        video = key.split("|")[0]
        platform = str(entry.get("platform") or key.split("|")[-1])
        if entry.get("signals"):
            s = _signals_of({**entry, "platform": platform})
            value = score(s, reference)
            weight = maturity(s.age_hours)
        else:  # an observation stored before signals were kept: its reward as recorded
            value = entry.get("reward")
            weight = entry.get("weight", 0.0)
        arms = entry.get("arms")
        if (
            not isinstance(value, (int, float))
            or not isinstance(weight, (int, float))
            or not math.isfinite(value)
            or not math.isfinite(weight)
            or weight <= 0
            or not isinstance(arms, Mapping)
        ):
            continue
        m = per_video[video]
        weight *= age_weight(
            entry.get("batch_date", ""), newest, HALF_LIFE_DAYS if half_life_days is None else half_life_days
        )
        rows.append(Row(dict(arms), platform, float(value), float(weight) * (1 + m) / (2 * m), video))
    return rows


@dataclass
class Posterior:
    features: list[str]
    mean: np.ndarray
    cov: np.ndarray
    noise_sd: float
    observations: int
    weight: float
    counts: dict[str, float] = field(default_factory=dict)  # feature -> observation weight

    def index(self, feature: str) -> int | None:
        try:
            return self.features.index(feature)
        except ValueError:
            return None

    def effect(self, dimension: str, value: str) -> tuple[float, float]:
        """(mean, sd) of a value's effect on the reward; the prior when the model lacks it."""
        i = self.index(arm_feature(dimension, value))
        if i is None:
            return 0.0, PRIOR_ARM_SD
        return float(self.mean[i]), float(math.sqrt(max(self.cov[i, i], 0.0)))

    def centred_effects(self, arm_space: Mapping[str, Iterable[str]]) -> dict[str, dict[str, list[float]]]:
        """dimension -> value -> [mean, sd]: effects relative to the dimension's average (for pooling)."""
        out: dict[str, dict[str, list[float]]] = {}
        for dimension, values in arm_space.items():
            stats = {v: self.effect(dimension, v) for v in values}
            centre = sum(m for m, _ in stats.values()) / max(1, len(stats))
            out[dimension] = {v: [round(m - centre, 5), round(sd, 5)] for v, (m, sd) in stats.items()}
        return out


def pooled_prior(others: Iterable[Mapping[str, Mapping[str, list[float]]]]) -> dict[str, tuple[float, float]]:
    """feature -> (mean, sd): the other channels' centred effects averaged, with a between-channel spread."""
    collected: dict[str, list[tuple[float, float]]] = {}
    for effects in others:
        for dimension, values in (effects or {}).items():
            for value, pair in values.items():
                try:
                    mean, sd = float(pair[0]), float(pair[1])
                except (TypeError, ValueError, IndexError):
                    continue
                if math.isfinite(mean) and math.isfinite(sd):
                    collected.setdefault(arm_feature(dimension, value), []).append((mean, sd))
    prior = {}
    for feature, pairs in collected.items():
        n = len(pairs)
        mean = sum(m for m, _ in pairs) / n
        spread = math.sqrt(sum((m - mean) ** 2 for m, _ in pairs) / n) if n > 1 else 0.0
        within = math.sqrt(sum(sd**2 for _, sd in pairs)) / n
        sd = math.sqrt(max(BETWEEN_CHANNEL_SD, spread) ** 2 + within**2)
        prior[feature] = (mean, min(sd, PRIOR_ARM_SD))
    return prior


def _features(rows: list[Row], arm_space: Mapping[str, Iterable[str]]) -> list[str]:
    names = [INTERCEPT]
    seen = set(names)

    def add(name: str) -> None:
        if name not in seen:
            seen.add(name)
            names.append(name)

    for dimension, values in arm_space.items():
        for value in values:
            add(arm_feature(dimension, value))
    for first, second in INTERACTIONS:
        for a in arm_space.get(first, ()):
            for b in arm_space.get(second, ()):
                add(pair_feature(first, a, second, b))
    for row in rows:
        add(f"platform={row.platform}")
        for dimension, value in row.arms.items():
            add(arm_feature(dimension, str(value)))  # retired values keep their place in the model
        for name in _pair_features(row.arms):
            add(name)
    return names


def fit(
    rows: list[Row],
    arm_space: Mapping[str, Iterable[str]],
    prior: Mapping[str, tuple[float, float]] | None = None,
) -> Posterior:
    """The exact posterior of the linear reward model given weighted observations."""
    features = _features(rows, arm_space)
    index = {f: i for i, f in enumerate(features)}
    p = len(features)
    prior = prior or {}
    prior_mean = np.zeros(p)
    prior_sd = np.empty(p)
    for f, i in index.items():
        if f == INTERCEPT:
            prior_mean[i], prior_sd[i] = PRIOR_INTERCEPT
        elif f.startswith("platform="):
            prior_sd[i] = PRIOR_PLATFORM_SD
        elif "|" in f:
            prior_sd[i] = PRIOR_INTERACTION_SD
        else:
            prior_mean[i], prior_sd[i] = prior.get(f, (0.0, PRIOR_ARM_SD))
    precision0 = np.diag(1.0 / prior_sd**2)

    X = np.zeros((len(rows), p))
    y = np.array([r.reward for r in rows], dtype=float)
    w = np.array([r.weight for r in rows], dtype=float)
    for n, row in enumerate(rows):
        X[n, 0] = 1.0
        X[n, index[f"platform={row.platform}"]] = 1.0
        for dimension, value in row.arms.items():
            X[n, index[arm_feature(dimension, str(value))]] = 1.0
        for name in _pair_features(row.arms):
            X[n, index[name]] = 1.0

    noise_var = PRIOR_NOISE_SD**2
    XtW = X.T * w
    for _ in range(3):
        precision = precision0 + XtW @ X / noise_var
        cov = np.linalg.inv(precision)
        mean = cov @ (precision0 @ prior_mean + XtW @ y / noise_var)
        if not len(rows):
            break
        residual = float((w * (y - X @ mean) ** 2).sum())
        noise_var = max(
            MIN_NOISE_SD**2,
            (residual + PRIOR_NOISE_COUNT * PRIOR_NOISE_SD**2) / (float(w.sum()) + PRIOR_NOISE_COUNT),
        )
    counts = {f: float(w[X[:, i] > 0].sum()) for f, i in index.items()} if len(rows) else dict.fromkeys(features, 0.0)
    return Posterior(features, mean, (cov + cov.T) / 2, math.sqrt(noise_var), len(rows), float(w.sum()), counts)


def draws(post: Posterior, n: int, rng: np.random.Generator) -> np.ndarray:
    """n joint draws of the coefficients from the posterior."""
    chol = np.linalg.cholesky(post.cov + 1e-12 * np.eye(len(post.features)))
    return post.mean + rng.standard_normal((n, len(post.features))) @ chol.T


def prob_best(
    post: Posterior, arm_space: Mapping[str, Iterable[str]], rng: np.random.Generator, n: int = POSTERIOR_DRAWS
) -> dict[str, dict[str, float]]:
    """dimension -> value -> posterior probability that the value is the dimension's best.

    For dimensions that interact, "best" is judged jointly: the share of draws in which the value is
    part of the best pair, its pairwise term included.
    """
    samples = draws(post, n, rng)

    def column(feature: str, prior_sd: float) -> np.ndarray:
        i = post.index(feature)
        return samples[:, i] if i is not None else rng.normal(0.0, prior_sd, n)

    out: dict[str, dict[str, float]] = {}
    for first, second in INTERACTIONS:
        if first not in arm_space or second not in arm_space:
            continue
        a_values, b_values = list(arm_space[first]), list(arm_space[second])
        pairs = [(a, b) for a in a_values for b in b_values]
        totals = np.column_stack(
            [
                column(arm_feature(first, a), PRIOR_ARM_SD)
                + column(arm_feature(second, b), PRIOR_ARM_SD)
                + column(pair_feature(first, a, second, b), PRIOR_INTERACTION_SD)
                for a, b in pairs
            ]
        )
        wins = np.bincount(np.argmax(totals, axis=1), minlength=len(pairs)) / n
        out[first] = {a: float(sum(w for (x, _), w in zip(pairs, wins) if x == a)) for a in a_values}
        out[second] = {b: float(sum(w for (_, y), w in zip(pairs, wins) if y == b)) for b in b_values}
    for dimension, values in arm_space.items():
        if dimension in out:
            continue
        values = list(values)
        columns = [column(arm_feature(dimension, value), PRIOR_ARM_SD) for value in values]
        wins = np.bincount(np.argmax(np.column_stack(columns), axis=1), minlength=len(values)) / n
        out[dimension] = {v: float(p) for v, p in zip(values, wins)}
    return {dimension: out[dimension] for dimension in arm_space}


def allocate(p_best: Mapping[str, Mapping[str, float]], exploration: float) -> dict[str, dict[str, float]]:
    """dimension -> value -> share of the next batch: (1 − ε_d)·P(best) + ε_d/K.

    The floor ε_d shrinks as the dimension's posterior concentrates: ε at full uncertainty (every value
    as likely the best), falling toward MIN_EXPLORATION·ε as one value becomes certain. Thompson
    sampling still explores wherever the posterior is unsure, and forgetting widens it again after a shift.
    """
    exploration = min(1.0, max(0.0, exploration))
    allocation = {}
    for dimension, probs in p_best.items():
        k = len(probs)
        top = max(probs.values(), default=1.0)
        spread = (1.0 - top) * k / (k - 1) if k > 1 else 0.0
        floor = exploration * max(MIN_EXPLORATION, min(1.0, spread))
        allocation[dimension] = {v: round((1.0 - floor) * p + floor / k, 4) for v, p in probs.items()}
    return allocation


def uniform_allocation(arm_space: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, float]]:
    return {d: {v: round(1.0 / len(values), 4) for v in values} for d, values in arm_space.items()}


def choose_arms(
    allocation: Mapping[str, Mapping[str, float]], arm_space: Mapping[str, tuple[str, ...]], rng: np.random.Generator
) -> dict[str, str]:
    """One video's arms, each dimension drawn from its allocation (values outside arm_space are ignored)."""
    arms: dict[str, str] = {}
    for dimension, values in arm_space.items():
        shares = allocation.get(dimension, {})
        weights = np.array([max(0.0, float(shares.get(v, 0.0))) for v in values])
        if weights.sum() <= 0:
            weights = np.ones(len(values))
        arms[dimension] = str(values[int(rng.choice(len(values), p=weights / weights.sum()))])
    return arms
