"""One strategy decision: from the learning state to the next batch's allocation, and what it lacked."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shorts_assets.core.arms import PLATFORM_SEPARATOR
from shorts_assets.learning.bandit import Posterior, allocate, fit, pooled_prior, prob_best
from shorts_assets.learning.features import PLATFORM_DIMENSIONS, arm_feature
from shorts_assets.learning.reward import Reference
from shorts_assets.learning.state import read, window_rows

# Below this many weighted observations the allocation leans on the prior, and says so.
MIN_WEIGHT_TO_LEARN = 10.0
# A reach this many reference standard deviations above its platform's mean is reported as an outlier.
OUTLIER_Z = 4.0


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
        for key in self.p_best:
            dimension, _, platform = key.partition(PLATFORM_SEPARATOR)
            if platform and dimension in arm_space:
                out[key] = {}
                for value in arm_space[dimension]:
                    mean, sd = self.posterior.platform_effect(dimension, value, platform)
                    n = self.posterior.counts.get(f"{platform}:{dimension}={value}", 0.0)
                    out[key][value] = {"mean": round(mean, 4), "sd": round(sd, 4), "n": round(n, 2)}
        return out


def decide(
    state: Mapping[str, Any],
    arm_space: Mapping[str, tuple[str, ...]],
    exploration: float,
    seed: int,
    others: list[Mapping[str, Any]] | None = None,
) -> Decision:
    """The allocation for the next batch; `others` are the other channels' centred arm effects.

    Whatever the state holds (an earlier format, a damaged part, one platform, arms that came and
    went, an outlier), it decides, and `lacking` says what it decided without.
    """
    parsed = read(state)
    reference = parsed.reference()
    rows = window_rows(parsed, reference)
    others = [o for o in (others or []) if o]
    prior = pooled_prior(others)
    post = fit(rows, arm_space, prior, parsed.stats)
    p_best = prob_best(post, arm_space, np.random.default_rng(seed))
    carried = state.get("repairs") if isinstance(state, Mapping) else None
    carried = [str(r) for r in carried] if isinstance(carried, list) else []
    lacking = list(dict.fromkeys([*parsed.repairs, *carried]))
    learned = post.observations > 0
    if not learned:
        lacking.append("no scored metrics yet: the allocation comes from the prior alone")
    elif post.weight < MIN_WEIGHT_TO_LEARN:
        lacking.append(
            f"little matured data ({post.weight:.1f} weighted observations, {MIN_WEIGHT_TO_LEARN:.0f} wanted)"
        )
    if not others:
        lacking.append("no other channel to pool a prior from: arm effects start at zero")
    platforms = post.platforms()
    if learned and len(platforms) == 1:
        lacking.append(
            f"one platform only ({platforms[0]}): its own tastes for {', '.join(PLATFORM_DIMENSIONS)} "
            "cannot be told from the shared ones, and the posting hour is chosen for it alone"
        )
    for dimension, values in arm_space.items():
        unseen = [v for v in values if post.counts.get(arm_feature(dimension, v), 0.0) <= 0]
        if unseen and learned:
            lacking.append(f"no observations yet of {dimension} = {', '.join(unseen)}")
    if learned:
        known = {f.split("=", 1)[0] for f in post.features if "=" in f and ":" not in f and "|" not in f}
        gone = sorted(known - set(arm_space) - {"platform"})
        if gone:
            lacking.append(
                f"dimension(s) {', '.join(gone)} no longer in the arm space: their past effects still explain "
                "old rewards but are not allocated"
            )
    lacking += _outliers(parsed.window, reference)
    return Decision(allocate(p_best, exploration), p_best, post, reference, len(others), lacking)


def _outliers(window: Mapping[str, Mapping[str, Any]], reference: Reference) -> list[str]:
    """A note for each observation whose reach is far above its platform's: it counts, but bounded."""
    notes = []
    for key, entry in window.items():
        signals = entry.get("signals") if isinstance(entry.get("signals"), Mapping) else {}
        reach = signals.get("reach")
        if not isinstance(reach, (int, float)):
            continue
        mean, sd = reference.of(str(entry.get("platform")), "reach")
        if (reach - mean) / sd > OUTLIER_Z:
            notes.append(
                f"{key} is an outlier (about {math.exp(reach - mean):.0f}x the platform's usual views): "
                "it counts as one observation at the top of the scale, not by its size"
            )
    return notes
