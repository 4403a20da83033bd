"""The learner: a bounded reward, maturity weighting, and an allocation that finds the better arms."""

import numpy as np
import pytest

from shorts_assets.learner import (
    Observation,
    allocate,
    choose_arms,
    maturity,
    merge,
    posterior,
    reward,
    uniform_allocation,
)

SPACE = {"topic": ("a", "b", "c"), "hook": ("x", "y")}


def test_reward_blends_retention_and_engagement():
    assert reward({"views": 100, "avg_view_pct": 50.0, "likes": 0, "comments": 0, "shares": 0}) == pytest.approx(0.35)
    full = reward({"views": 100, "avg_view_pct": 100.0, "likes": 15, "comments": 0, "shares": 0})
    assert full == pytest.approx(1.0)


@pytest.mark.parametrize("views", [0, -5, float("nan"), None])
def test_no_reward_without_views(views):
    assert reward({"views": views, "avg_view_pct": 80.0}) is None


def test_maturity_rises_to_one_at_two_days():
    assert maturity(0) == 0.0
    assert maturity(24) == pytest.approx(0.5)
    assert maturity(200) == 1.0


def test_no_data_means_a_uniform_allocation():
    allocation = allocate(posterior({}, SPACE), exploration=0.1, seed=1)
    for dimension, values in SPACE.items():
        for value in values:
            assert allocation[dimension][value] == pytest.approx(1 / len(values), abs=0.05)


def _observations(rng, n):
    truth = {"a": 0.6, "b": 0.4, "c": 0.3, "x": 0.05, "y": 0.0}
    out = []
    for i in range(n):
        arms = {"topic": str(rng.choice(["a", "b", "c"])), "hook": str(rng.choice(["x", "y"]))}
        value = truth[arms["topic"]] + truth[arms["hook"]] + rng.normal(0, 0.08)
        out.append(Observation(key=f"v{i}|youtube", arms=arms, reward=value, weight=1.0, batch_date="2026-01-01"))
    return out


def test_allocation_moves_to_the_best_arm_and_keeps_an_exploration_floor():
    state = merge(None, _observations(np.random.default_rng(3), 40))
    allocation = allocate(posterior(state, SPACE), exploration=0.15, seed=2)
    assert allocation["topic"]["a"] > 0.8
    assert min(allocation["topic"].values()) >= 0.15 / 3 - 1e-9
    assert sum(allocation["topic"].values()) == pytest.approx(1.0, abs=1e-3)


def test_newer_snapshots_replace_older_ones_of_the_same_video():
    first = Observation(key="v1|youtube", arms={"topic": "a"}, reward=0.2, weight=0.1, batch_date="2026-01-01")
    later = Observation(key="v1|youtube", arms={"topic": "a"}, reward=0.7, weight=1.0, batch_date="2026-01-01")
    state = merge(merge(None, [first]), [later])
    assert state["observations"] == {"v1|youtube": {"arms": {"topic": "a"}, "reward": 0.7, "weight": 1.0, "batch_date": "2026-01-01"}}


def test_unweighted_observations_are_ignored():
    state = merge(None, [Observation(key="v|tiktok", arms={"topic": "a"}, reward=0.9, weight=0.0, batch_date="d")])
    assert state["observations"] == {}


def test_choose_arms_follows_the_allocation():
    rng = np.random.default_rng(0)
    allocation = {"topic": {"a": 0.9, "b": 0.05, "c": 0.05}, "hook": {"x": 0.5, "y": 0.5}}
    picks = [choose_arms(allocation, SPACE, rng)["topic"] for _ in range(400)]
    assert 0.84 < picks.count("a") / 400 < 0.96


def test_choose_arms_ignores_values_outside_the_arm_space():
    allocation = {"topic": {"retired": 1.0}}
    arms = choose_arms(allocation, SPACE, np.random.default_rng(0))
    assert arms["topic"] in SPACE["topic"]
    assert uniform_allocation(SPACE)["hook"] == {"x": 0.5, "y": 0.5}
