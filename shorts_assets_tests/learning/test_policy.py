"""The strategy decision: it finds the better arms, keeps exploring, starts warm, says what it lacked."""

import numpy as np
import pytest

from shorts_assets.learning import Observation, choose_arms, decide, merge, signals, uniform_allocation

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


def test_with_no_data_it_decides_evenly_and_says_why():
    decision = decide(merge(None, []), SPACE, exploration=0.1, seed=1)
    for values in decision.allocation.values():
        assert max(values.values()) - min(values.values()) < 0.15
    assert any("no scored metrics" in reason for reason in decision.lacking)


def test_it_moves_to_the_best_arms_and_keeps_an_exploration_floor():
    decision = decide(merge(None, observations(60)), SPACE, exploration=0.15, seed=2)
    assert decision.allocation["topic"]["a"] > 0.8
    assert decision.allocation["hook"]["x"] > decision.allocation["hook"]["y"]
    assert min(decision.allocation["topic"].values()) >= 0.15 / 3 - 1e-9
    assert sum(decision.allocation["topic"].values()) == pytest.approx(1.0, abs=1e-3)


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
