"""One strategy decision: from the learning state to the next batch's allocation, and what it lacked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shorts_assets.learning.bandit import Posterior, allocate, fit, pooled_prior, prob_best, reference_of, rows_of
from shorts_assets.learning.reward import Reference

# Below this many weighted observations the allocation leans on the prior, and says so.
MIN_WEIGHT_TO_LEARN = 10.0


@dataclass
class Decision:
    allocation: dict[str, dict[str, float]]
    p_best: dict[str, dict[str, float]]
    posterior: Posterior
    reference: Reference
    pooled_from: int
    lacking: list[str] = field(default_factory=list)

    def effects(self, arm_space: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, dict[str, float]]]:
        """dimension -> value -> {mean, sd, n}: each value's estimated effect on the reward."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for dimension, values in arm_space.items():
            out[dimension] = {}
            for value in values:
                mean, sd = self.posterior.effect(dimension, value)
                n = self.posterior.counts.get(f"{dimension}={value}", 0.0)
                out[dimension][value] = {"mean": round(mean, 4), "sd": round(sd, 4), "n": round(n, 2)}
        return out


def decide(
    state: Mapping[str, Any],
    arm_space: Mapping[str, tuple[str, ...]],
    exploration: float,
    seed: int,
    others: list[Mapping[str, Any]] | None = None,
) -> Decision:
    """The allocation for the next batch; `others` are the other channels' centred arm effects."""
    reference = reference_of(state)
    rows = rows_of(state, reference)
    others = [o for o in (others or []) if o]
    prior = pooled_prior(others)
    post = fit(rows, arm_space, prior)
    p_best = prob_best(post, arm_space, np.random.default_rng(seed))
    lacking = []
    if not rows:
        lacking.append("no scored metrics yet: the allocation comes from the prior alone")
    elif post.weight < MIN_WEIGHT_TO_LEARN:
        lacking.append(
            f"little matured data ({post.weight:.1f} weighted observations, {MIN_WEIGHT_TO_LEARN:.0f} wanted)"
        )
    if not others:
        lacking.append("no other channel to pool a prior from: arm effects start at zero")
    for dimension, values in arm_space.items():
        unseen = [v for v in values if post.counts.get(f"{dimension}={v}", 0.0) <= 0]
        if unseen and rows:
            lacking.append(f"no observations yet of {dimension} = {', '.join(unseen)}")
    return Decision(allocate(p_best, exploration), p_best, post, reference, len(others), lacking)
