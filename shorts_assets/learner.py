"""The first learner: a reward per published video, and Thompson sampling over the content arms.

Each (video, platform) with a snapshot is one observation: its reward, weighted by how mature the
snapshot is. Per arm dimension and value, a normal posterior on the mean reward is shrunk toward
the channel's pooled mean. The allocation for a dimension is the posterior probability that each
value is the best one (estimated by sampling: Thompson sampling), mixed with an exploration floor
so no value is ever starved. The learning state is a plain dict so it can be stored and carried
from one date to the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

MATURE_HOURS = 48.0
PRIOR_STRENGTH = 1.0
MIN_SD = 0.03
POSTERIOR_DRAWS = 4000


def reward(snapshot: Mapping[str, Any]) -> float | None:
    """0.7 × retention (average view percentage) + 0.3 × engagement, both in 0..1; None with no views.

    Engagement is (likes + 2·comments + 3·shares) / views, saturating at 0.15.
    """
    views = snapshot.get("views") or 0
    if not isinstance(views, (int, float)) or views <= 0 or not math.isfinite(views):
        return None
    retention = min(1.0, max(0.0, float(snapshot.get("avg_view_pct") or 0.0) / 100.0))
    interactions = (
        max(0, snapshot.get("likes") or 0) + 2 * max(0, snapshot.get("comments") or 0) + 3 * max(0, snapshot.get("shares") or 0)
    )
    engagement = min(1.0, interactions / views / 0.15)
    return 0.7 * retention + 0.3 * engagement


def maturity(age_hours: float) -> float:
    """How far a snapshot is to counting fully: linear to 1 at MATURE_HOURS."""
    return min(1.0, max(0.0, age_hours / MATURE_HOURS))


@dataclass(frozen=True)
class Observation:
    key: str  # "<video_id>|<platform>"
    arms: Mapping[str, str]
    reward: float
    weight: float
    batch_date: str


def merge(state: Mapping[str, Any] | None, observations: list[Observation]) -> dict[str, Any]:
    """The previous state with these observations added or replacing older ones of the same key."""
    merged = dict((state or {}).get("observations", {}))
    for obs in observations:
        if obs.weight <= 0:
            continue
        merged[obs.key] = {
            "arms": dict(obs.arms),
            "reward": round(obs.reward, 6),
            "weight": round(obs.weight, 4),
            "batch_date": obs.batch_date,
        }
    return {"observations": merged}


def posterior(state: Mapping[str, Any], arm_space: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, dict[str, float]]]:
    """dimension -> value -> {n, mean, sd}: the posterior of each value's mean reward."""
    observations = list((state or {}).get("observations", {}).values())
    weights = np.array([o["weight"] for o in observations], dtype=float)
    rewards = np.array([o["reward"] for o in observations], dtype=float)
    total = weights.sum()
    pooled_mean = float((weights * rewards).sum() / total) if total > 0 else 0.5
    if total > 1:
        pooled_sd = math.sqrt(float((weights * (rewards - pooled_mean) ** 2).sum() / total))
    else:
        pooled_sd = 0.15
    noise_sd = max(MIN_SD, pooled_sd)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for dimension, values in arm_space.items():
        result[dimension] = {}
        for value in values:
            mask = np.array([o["arms"].get(dimension) == value for o in observations], dtype=bool)
            n = float(weights[mask].sum()) if observations else 0.0
            mean = float((weights[mask] * rewards[mask]).sum() / n) if n > 0 else pooled_mean
            post_mean = (PRIOR_STRENGTH * pooled_mean + n * mean) / (PRIOR_STRENGTH + n)
            post_sd = noise_sd / math.sqrt(PRIOR_STRENGTH + n)
            result[dimension][value] = {"n": round(n, 3), "mean": round(post_mean, 5), "sd": round(post_sd, 5)}
    return result


def allocate(
    post: Mapping[str, Mapping[str, Mapping[str, float]]], exploration: float, seed: int
) -> dict[str, dict[str, float]]:
    """dimension -> value -> share of the next batch: (1 − ε)·P(best) + ε/K."""
    rng = np.random.default_rng(seed)
    allocation: dict[str, dict[str, float]] = {}
    for dimension, values in post.items():
        names = list(values)
        means = np.array([values[v]["mean"] for v in names])
        sds = np.array([values[v]["sd"] for v in names])
        draws = rng.normal(means, sds, size=(POSTERIOR_DRAWS, len(names)))
        wins = np.bincount(draws.argmax(axis=1), minlength=len(names)) / POSTERIOR_DRAWS
        shares = (1.0 - exploration) * wins + exploration / len(names)
        allocation[dimension] = {v: round(float(s), 4) for v, s in zip(names, shares)}
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
