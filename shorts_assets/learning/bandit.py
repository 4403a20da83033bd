"""Bayesian allocation over the content arms: a linear reward model and Thompson sampling.

The reward of a (video, platform) observation is modelled as

    reward = intercept + platform offset + Σ_dimensions effect[dimension = value]
             + Σ_interacting pairs effect[topic, hook] + Σ_platform dimensions effect[platform, value] + noise

with a Gaussian prior on every coefficient (see ``features`` for the names). Arm effects are shrunk
toward a prior mean: zero for a channel on its own, or the pooled effects of the other channels in
the database, so a new channel starts warm and every channel borrows strength from the others. The
pairwise and platform-specific terms start at zero with a tighter prior, so the model stays
additive and shared across platforms until the data says otherwise. The posterior is exact
(Bayesian linear regression, the noise variance estimated from the residuals), computed from the
folded sufficient statistics of the learning state plus its window of observations still maturing.

The allocation of a dimension is the posterior probability that each active value is the best one,
estimated from joint posterior draws (Thompson sampling), mixed with an exploration floor that
shrinks as the posterior concentrates. A dimension a video may take per platform (its posting hour)
is also allocated per platform, under ``<dimension>@<platform>``. Coefficients are keyed by
``dimension=value``, so a new value (a new topic) enters with its prior and a retired value keeps
explaining the rewards it earned, without resetting anything else that was learned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shorts_assets.core.arms import PLATFORM_SEPARATOR, platform_key
from shorts_assets.learning.features import (
    INTERACTIONS,
    INTERCEPT,
    PER_PLATFORM_ARMS,
    PLATFORM_DIMENSIONS,
    arm_feature,
    pair_feature,
    platform_feature,
    platform_of,
    row_features,
)
from shorts_assets.learning.reward import Reference
from shorts_assets.learning.state import (
    HALF_LIFE_DAYS,
    STATE_FORMAT,
    Observation,
    Row,
    Stats,
    age_weight,
    merge,
    read,
    window_rows,
)

__all__ = [
    "HALF_LIFE_DAYS",
    "STATE_FORMAT",
    "Observation",
    "Row",
    "age_weight",
    "merge",
]

PRIOR_INTERCEPT = (0.5, 0.5)
PRIOR_PLATFORM_SD = 0.1
PRIOR_ARM_SD = 0.1
# How much a channel's arm effects may differ from the pooled effects of the other channels.
BETWEEN_CHANNEL_SD = 0.05
PRIOR_NOISE_SD = 0.15
PRIOR_NOISE_COUNT = 10.0
MIN_NOISE_SD = 0.02
POSTERIOR_DRAWS = 4000
PRIOR_INTERACTION_SD = 0.08
# How far a platform's own taste for a value may stray from the shared effect.
PRIOR_PLATFORM_ARM_SD = 0.08
# The share of the exploration floor a dimension keeps once its best value is certain.
MIN_EXPLORATION = 0.1


def observations_of(state: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The state's observations still held whole (the window) by key."""
    return dict(read(state).window)


def reference_of(state: Mapping[str, Any]) -> Reference:
    return read(state).reference()


def rows_of(state: Mapping[str, Any], reference: Reference | None = None) -> list[Row]:
    """The window's observations as (arms on their platform, platform, reward, weight), rewards recomputed."""
    return window_rows(read(state), reference)


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

    def platforms(self) -> list[str]:
        """The platforms the model has an offset for, in the order it met them."""
        return [p for p in (platform_of(f) for f in self.features) if p]

    def effect(self, dimension: str, value: str) -> tuple[float, float]:
        """(mean, sd) of a value's effect on the reward; the prior when the model lacks it."""
        i = self.index(arm_feature(dimension, value))
        if i is None:
            return 0.0, PRIOR_ARM_SD
        return float(self.mean[i]), float(math.sqrt(max(self.cov[i, i], 0.0)))

    def platform_effect(self, dimension: str, value: str, platform: str) -> tuple[float, float]:
        """(mean, sd) of a value's effect on one platform: the shared effect plus the platform's own."""
        i = self.index(arm_feature(dimension, value))
        j = self.index(platform_feature(platform, dimension, value))
        if i is None or j is None:
            return self.effect(dimension, value)
        var = self.cov[i, i] + self.cov[j, j] + 2.0 * self.cov[i, j]
        return float(self.mean[i] + self.mean[j]), float(math.sqrt(max(var, 0.0)))

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


def _features(rows: list[Row], arm_space: Mapping[str, Iterable[str]], stats: Stats | None) -> list[str]:
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
    for name in stats.features if stats else ():
        add(name)  # retired values keep their place in the model
    for row in rows:
        for name in row_features(row.arms, row.platform):
            add(name)
    for platform in [platform_of(f) for f in list(names) if platform_of(f)]:
        for dimension in PLATFORM_DIMENSIONS:
            for value in arm_space.get(dimension, ()):
                add(platform_feature(platform, dimension, value))
    return names


def _prior_sd(feature: str) -> float:
    if feature.startswith("platform="):
        return PRIOR_PLATFORM_SD
    if "|" in feature:
        return PRIOR_INTERACTION_SD
    if ":" in feature:
        return PRIOR_PLATFORM_ARM_SD
    return PRIOR_ARM_SD


def fit(
    rows: list[Row],
    arm_space: Mapping[str, Iterable[str]],
    prior: Mapping[str, tuple[float, float]] | None = None,
    stats: Stats | None = None,
) -> Posterior:
    """The exact posterior of the linear reward model given the folded statistics and weighted observations."""
    features = _features(rows, arm_space, stats)
    index = {f: i for i, f in enumerate(features)}
    p = len(features)
    prior = prior or {}
    prior_mean = np.zeros(p)
    prior_sd = np.empty(p)
    for f, i in index.items():
        if f == INTERCEPT:
            prior_mean[i], prior_sd[i] = PRIOR_INTERCEPT
        elif "=" in f and ":" not in f and "|" not in f and not f.startswith("platform="):
            prior_mean[i], prior_sd[i] = prior.get(f, (0.0, PRIOR_ARM_SD))
        else:
            prior_sd[i] = _prior_sd(f)
    precision0 = np.diag(1.0 / prior_sd**2)

    xtwx, xtwy = np.zeros((p, p)), np.zeros(p)
    yy = total_weight = 0.0
    folded = 0
    if stats is not None and stats.features:
        at = np.array([index[f] for f in stats.features])
        xtwx[np.ix_(at, at)] += stats.xtwx
        xtwy[at] += stats.xtwy
        yy, total_weight, folded = stats.yy, stats.weight, stats.rows
    if rows:
        X = np.zeros((len(rows), p))
        for n, row in enumerate(rows):
            X[n, [index[f] for f in dict.fromkeys(row_features(row.arms, row.platform))]] = 1.0
        y = np.array([r.reward for r in rows], dtype=float)
        w = np.array([r.weight for r in rows], dtype=float)
        XtW = X.T * w
        xtwx += XtW @ X
        xtwy += XtW @ y
        yy += float((w * y * y).sum())
        total_weight += float(w.sum())

    noise_var = PRIOR_NOISE_SD**2
    for _ in range(3):
        precision = precision0 + xtwx / noise_var
        cov = np.linalg.inv(precision)
        mean = cov @ (precision0 @ prior_mean + xtwy / noise_var)
        if total_weight <= 0:
            break
        residual = max(0.0, float(yy - 2.0 * mean @ xtwy + mean @ xtwx @ mean))
        noise_var = max(
            MIN_NOISE_SD**2,
            (residual + PRIOR_NOISE_COUNT * PRIOR_NOISE_SD**2) / (total_weight + PRIOR_NOISE_COUNT),
        )
    counts = {f: max(0.0, float(xtwx[i, i])) for f, i in index.items()}
    return Posterior(features, mean, (cov + cov.T) / 2, math.sqrt(noise_var), folded + len(rows), total_weight, counts)


def draws(post: Posterior, n: int, rng: np.random.Generator) -> np.ndarray:
    """n joint draws of the coefficients from the posterior."""
    chol = np.linalg.cholesky(post.cov + 1e-12 * np.eye(len(post.features)))
    return post.mean + rng.standard_normal((n, len(post.features))) @ chol.T


def prob_best(
    post: Posterior, arm_space: Mapping[str, Iterable[str]], rng: np.random.Generator, n: int = POSTERIOR_DRAWS
) -> dict[str, dict[str, float]]:
    """dimension -> value -> posterior probability that the value is the dimension's best.

    For dimensions that interact, "best" is judged jointly: the share of draws in which the value is
    part of the best pair, its pairwise term included. A dimension whose effect differs per platform
    is judged on its effect averaged over the channel's platforms; one chosen per platform is also
    judged on each platform alone, under ``<dimension>@<platform>``.
    """
    samples = draws(post, n, rng)
    platforms = post.platforms()

    def column(feature: str, prior_sd: float) -> np.ndarray:
        i = post.index(feature)
        return samples[:, i] if i is not None else rng.normal(0.0, prior_sd, n)

    def effect(dimension: str, value: str, on: Iterable[str] | None = None) -> np.ndarray:
        total = column(arm_feature(dimension, value), PRIOR_ARM_SD)
        where = list(platforms if on is None else on)
        if dimension in PLATFORM_DIMENSIONS and where:
            total = total + sum(
                column(platform_feature(p, dimension, value), PRIOR_PLATFORM_ARM_SD) for p in where
            ) / len(where)
        return total

    def shares(columns: list[np.ndarray], values: list[str]) -> dict[str, float]:
        wins = np.bincount(np.argmax(np.column_stack(columns), axis=1), minlength=len(values)) / n
        return {v: float(p) for v, p in zip(values, wins)}

    out: dict[str, dict[str, float]] = {}
    for first, second in INTERACTIONS:
        if first not in arm_space or second not in arm_space:
            continue
        a_values, b_values = list(arm_space[first]), list(arm_space[second])
        pairs = [(a, b) for a in a_values for b in b_values]
        totals = np.column_stack(
            [
                effect(first, a) + effect(second, b) + column(pair_feature(first, a, second, b), PRIOR_INTERACTION_SD)
                for a, b in pairs
            ]
        )
        wins = np.bincount(np.argmax(totals, axis=1), minlength=len(pairs)) / n
        out[first] = {a: float(sum(w for (x, _), w in zip(pairs, wins) if x == a)) for a in a_values}
        out[second] = {b: float(sum(w for (_, y), w in zip(pairs, wins) if y == b)) for b in b_values}
    for dimension, values in arm_space.items():
        values = list(values)
        if dimension not in out:
            out[dimension] = shares([effect(dimension, v) for v in values], values)
    result = {dimension: out[dimension] for dimension in arm_space}
    for dimension in PER_PLATFORM_ARMS:
        if dimension in arm_space and len(platforms) > 1:
            values = list(arm_space[dimension])
            for p in platforms:
                result[platform_key(dimension, p)] = shares([effect(dimension, v, [p]) for v in values], values)
    return result


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
    """One video's arms, each dimension drawn from its allocation (values outside arm_space are ignored).

    A dimension the allocation also holds per platform (``posting_hour@tiktok``) is drawn again for
    each such platform, under that key.
    """
    arms: dict[str, str] = {}

    def draw(shares: Mapping[str, float], values: tuple[str, ...]) -> str:
        weights = np.array([max(0.0, float(shares.get(v, 0.0))) for v in values])
        if weights.sum() <= 0:
            weights = np.ones(len(values))
        return str(values[int(rng.choice(len(values), p=weights / weights.sum()))])

    for dimension, values in arm_space.items():
        arms[dimension] = draw(allocation.get(dimension, {}), tuple(values))
    for key, shares in allocation.items():
        dimension, _, platform = key.partition(PLATFORM_SEPARATOR)
        if platform and dimension in arm_space:
            arms[key] = draw(shares, tuple(arm_space[dimension]))
    return arms
