"""The strategy decision: it finds the better arms, keeps exploring, starts warm, says what it lacked."""

from datetime import date, timedelta

import numpy as np
import pytest

from shorts_assets.learning import Observation, allocate, choose_arms, decide, merge, signals, uniform_allocation
from shorts_assets.learning.bandit import MIN_EXPLORATION

SPACE = {"topic": ("a", "b", "c"), "hook": ("x", "y")}
TRUTH = {"a": 1.0, "b": 0.0, "c": -1.0, "x": 0.3, "y": -0.3}


def observations(n, seed=0, space=SPACE):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        arms = {d: str(rng.choice(values)) for d, values in space.items()}
        quality = sum(TRUTH.get(v, 0.0) for v in arms.values()) + rng.normal(0, 0.3)
        pct = 100 / (1 + np.exp(-(0.3 + 0.8 * quality)))
        views = int(2000 * np.exp(quality))
        snapshot = {
            "platform": "youtube",
            "age_hours": 96.0,
            "views": views,
            "likes": int(views * 0.05),
            "comments": 1,
            "shares": 1,
            "avg_view_pct": float(pct),
        }
        out.append(
            Observation(key=f"v{seed}-{i}|youtube", arms=arms, signals=signals(snapshot), batch_date="2026-11-01")
        )
    return out


def paired_observations(n, seed=0):
    """Hook x doubles topic a's appeal and halves topic b's: a pure topic x hook interaction."""
    rng = np.random.default_rng(seed)
    pair = {("a", "x"): 0.8, ("a", "y"): -0.8, ("b", "x"): -0.8, ("b", "y"): 0.8}
    out = []
    for i in range(n):
        arms = {"topic": str(rng.choice(["a", "b"])), "hook": str(rng.choice(["x", "y"]))}
        quality = pair[(arms["topic"], arms["hook"])] + rng.normal(0, 0.2)
        views = int(2000 * np.exp(quality))
        snapshot = {"platform": "youtube", "age_hours": 96.0, "views": views, "likes": int(views * 0.05),
                    "comments": 1, "shares": 1, "avg_view_pct": float(100 / (1 + np.exp(-(0.3 + 0.8 * quality))))}  # fmt: skip
        out.append(
            Observation(key=f"p{seed}-{i}|youtube", arms=arms, signals=signals(snapshot), batch_date="2026-11-01")
        )
    return out


def test_with_no_data_it_decides_evenly_and_says_why():
    decision = decide(merge(None, []), SPACE, exploration=0.1, seed=1)
    for values in decision.allocation.values():
        assert max(values.values()) - min(values.values()) < 0.15
    assert any("no scored metrics" in reason for reason in decision.lacking)


def test_it_moves_to_the_best_arms_and_keeps_an_exploration_floor_that_shrinks_as_it_becomes_sure():
    decision = decide(merge(None, observations(60)), SPACE, exploration=0.15, seed=2)
    assert decision.allocation["topic"]["a"] > 0.8
    assert decision.allocation["hook"]["x"] > decision.allocation["hook"]["y"]
    assert sum(decision.allocation["topic"].values()) == pytest.approx(1.0, abs=1e-3)
    # Never below the smallest floor, and lower than the fixed ε/K once the best topic is near certain.
    least = min(decision.allocation["topic"].values())
    assert MIN_EXPLORATION * 0.15 / 3 - 1e-4 <= least < 0.15 / 3


def test_an_uncertain_dimension_keeps_the_whole_floor():
    p_best = {"topic": {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, "hook": {"x": 1.0, "y": 0.0}}
    shares = allocate(p_best, 0.3)
    assert shares["topic"] == {"a": pytest.approx(1 / 3, abs=1e-3), "b": pytest.approx(1 / 3, abs=1e-3),
                               "c": pytest.approx(1 / 3, abs=1e-3)}  # fmt: skip
    assert shares["hook"]["y"] == pytest.approx(MIN_EXPLORATION * 0.3 / 2, abs=1e-4)


def test_old_batches_count_less_than_new_ones():
    from shorts_assets.learning.bandit import HALF_LIFE_DAYS, age_weight

    newest = date(2026, 3, 1)
    assert age_weight("2026-03-01", newest) == 1.0
    assert age_weight((newest - timedelta(days=round(HALF_LIFE_DAYS))).isoformat(), newest) == pytest.approx(
        0.5, rel=0.05
    )
    assert age_weight("not a date", newest) == 1.0


def test_a_hook_that_works_for_one_topic_only_is_learned_as_their_pair():
    """The data: hook x is good with topic a and bad with topic b; additively the two cancel out."""
    state = merge(None, paired_observations(120))
    decision = decide(state, SPACE, exploration=0.1, seed=9)
    from shorts_assets.learning.bandit import pair_feature

    i = decision.posterior.index(pair_feature("topic", "a", "hook", "x"))
    j = decision.posterior.index(pair_feature("topic", "b", "hook", "x"))
    assert decision.posterior.mean[i] > decision.posterior.mean[j] + 0.05


def test_a_new_channel_starts_warm_from_the_others():
    experienced = decide(merge(None, observations(80, seed=3)), SPACE, 0.1, seed=3)
    others = [experienced.posterior.centred_effects(SPACE)]
    warm = decide(merge(None, []), SPACE, 0.1, seed=4, others=others)
    cold = decide(merge(None, []), SPACE, 0.1, seed=4)
    assert warm.allocation["topic"]["a"] > cold.allocation["topic"]["a"] + 0.2
    assert warm.pooled_from == 1


def test_a_new_arm_joins_without_resetting_what_was_learned():
    state = merge(None, observations(60, seed=5))
    grown = {"topic": ("a", "b", "c", "d"), "hook": ("x", "y")}
    decision = decide(state, grown, 0.1, seed=6)
    assert decision.allocation["topic"]["a"] > 0.5
    assert decision.allocation["topic"]["d"] > 0.0
    assert any("topic = d" in reason for reason in decision.lacking)


def test_later_snapshots_replace_earlier_ones_of_the_same_post():
    first = observations(1, seed=7)[0]
    state = merge(merge(None, [first]), [first])
    assert len(state["observations"]) == 1


def test_choose_arms_follows_the_allocation_and_ignores_retired_values():
    rng = np.random.default_rng(0)
    allocation = {"topic": {"a": 0.9, "b": 0.05, "c": 0.05, "retired": 5.0}, "hook": {"x": 0.5, "y": 0.5}}
    picks = [choose_arms(allocation, SPACE, rng)["topic"] for _ in range(400)]
    assert 0.84 < picks.count("a") / 400 < 0.96 and "retired" not in picks
    assert uniform_allocation(SPACE)["hook"] == {"x": 0.5, "y": 0.5}


def test_a_state_from_before_signals_were_kept_still_counts():
    legacy = {
        "observations": {
            f"v{i}|youtube": {
                "arms": {"topic": "a" if i % 2 else "b", "hook": "x"},
                "reward": 0.9 if i % 2 else 0.2,
                "weight": 1.0,
                "batch_date": "2026-10-01",
            }
            for i in range(40)
        }
    }
    decision = decide(merge(legacy, observations(2, seed=9)), SPACE, 0.1, seed=10)
    assert decision.posterior.observations == 42
    assert decision.allocation["topic"]["a"] > decision.allocation["topic"]["b"]
