"""The carried learning state: fixed-size at any age, equal to learning from every observation, and
readable whatever it holds (an earlier format, damage, one platform, arms that change, an outlier)."""

import json
import math
from datetime import date, timedelta

import numpy as np
import pytest

from shorts_assets.learning import Observation, decide, fit, merge, signals
from shorts_assets.learning.bandit import choose_arms
from shorts_assets.learning.state import HALF_LIFE_DAYS, STATE_FORMAT, Row, age_weight, read, videos_since

SPACE = {"topic": ("a", "b", "c"), "hook": ("x", "y"), "posting_hour": ("09", "21")}
TRUTH = {"a": 0.8, "b": 0.0, "c": -0.8, "x": 0.2, "y": -0.2}
START = date(2026, 1, 1)


def snapshot(platform, quality, rng, views_factor=1.0):
    views = int(2000 * views_factor * np.exp(quality + rng.normal(0, 0.1)))
    return {
        "platform": platform,
        "age_hours": 96.0,
        "views": views,
        "likes": int(views * 0.05 * np.exp(0.5 * quality)),
        "comments": 1,
        "shares": 1,
        "avg_view_pct": float(100 / (1 + np.exp(-(0.3 + 0.8 * quality)))),
    }


def day_of(d, per_day=3, platforms=("youtube", "tiktok"), seed=0, hour_taste=None, space=SPACE, forced=()):
    """One day's observations: `per_day` videos, each on every platform, quality from TRUTH (plus each
    platform's taste for its posting hour)."""
    rng = np.random.default_rng([seed, d])
    batch = (START + timedelta(days=d)).isoformat()
    out = []
    for i in range(per_day):
        arms = {dim: str(rng.choice(values)) for dim, values in space.items()}
        for platform in platforms:
            quality = sum(TRUTH.get(v, 0.0) for v in arms.values())
            quality += (hour_taste or {}).get(platform, {}).get(arms.get("posting_hour"), 0.0)
            out.append(
                Observation(
                    f"v{d}-{i}|{platform}", arms, signals(snapshot(platform, quality, rng)), batch, tuple(forced)
                )
            )
    return out


def history(days, **kw):
    state = None
    for d in range(days):
        window = [o for dd in range(max(0, d - 6), d + 1) for o in day_of(dd, **kw)]
        state = merge(state, window)
    return state


def size_kb(state):
    return len(json.dumps(state)) / 1024


def test_the_state_holds_only_the_maturing_window_and_stays_the_same_size_as_it_ages():
    young, old = history(40), history(120)
    assert old["format"] == STATE_FORMAT
    assert {e["batch_date"] for e in old["observations"].values()} == {
        (START + timedelta(days=d)).isoformat() for d in range(113, 120)
    }
    assert read(old).observation_count() == 120 * 3 * 2
    assert size_kb(old) < 1.1 * size_kb(young)
    assert decide(old, SPACE, 0.1, seed=1).allocation["topic"]["a"] > 0.6


def test_folded_statistics_give_the_posterior_of_every_observation_weighted_by_age():
    """With recorded rewards (no reference to renormalise), folding loses nothing."""
    rng = np.random.default_rng(3)
    entries, rows = {}, []
    newest = START + timedelta(days=59)
    for d in range(60):
        for i in range(2):
            arms = {"topic": str(rng.choice(SPACE["topic"])), "hook": str(rng.choice(SPACE["hook"]))}
            reward = 0.5 + 0.1 * TRUTH[arms["topic"]] + rng.normal(0, 0.05)
            batch = (START + timedelta(days=d)).isoformat()
            entries[f"v{d}-{i}|youtube"] = {"arms": arms, "reward": reward, "weight": 1.0, "batch_date": batch}
            rows.append(Row(arms, "youtube", reward, age_weight(batch, newest), f"v{d}-{i}"))
    bounded = read(merge({"format": 2, "observations": entries}, []))
    assert bounded.stats.rows == 53 * 2 and len(bounded.window) == 7 * 2
    space = {"topic": SPACE["topic"], "hook": SPACE["hook"]}
    from shorts_assets.learning.state import window_rows

    folded = fit(window_rows(bounded), space, stats=bounded.stats)
    direct = fit(rows, space)
    for feature in ("topic=a", "topic=c", "hook=x", "topicxhook=a|x"):
        i, j = folded.index(feature), direct.index(feature)
        assert folded.mean[i] == pytest.approx(direct.mean[j], abs=1e-4)
        assert folded.cov[i, i] == pytest.approx(direct.cov[j, j], rel=1e-3)


def test_what_was_folded_counts_less_as_newer_batches_arrive():
    state = history(10)  # newest batch: day 9
    before = read(state).stats.weight
    later = merge(state, day_of(9 + 42), window_days=60)  # six weeks on, nothing new folded
    assert read(later).stats.weight == pytest.approx(before * 0.5 ** (42 / HALF_LIFE_DAYS), rel=1e-4)
    assert read(later).stats.rows == read(state).stats.rows


def test_once_a_platform_has_a_settled_reference_every_later_reward_is_scored_on_that_same_scale():
    """Folded rewards cannot be rescored, so the yardstick must stop moving once it has settled."""
    young = read(history(5))
    assert young.yardstick == {} and young.reference() == young.live_reference()  # nothing folded yet: it follows
    state = history(40)
    settled = read(state).reference()
    assert set(read(state).yardstick) == {"youtube", "tiktok"}
    warmer = {p: {"09": 1.0, "21": 1.0} for p in ("youtube", "tiktok")}  # the audience warms to every video
    later = state
    for d in range(40, 60):
        later = json.loads(
            json.dumps(merge(later, [o for dd in range(d - 6, d + 1) for o in day_of(dd, hour_taste=warmer)]))
        )
    parsed = read(later)
    for platform in ("youtube", "tiktok"):
        for name in ("retention", "engagement", "reach"):
            assert parsed.reference().of(platform, name) == pytest.approx(settled.of(platform, name), abs=1e-5)
        assert parsed.live_reference().of(platform, "retention")[0] > settled.of(platform, "retention")[0] + 0.1


def test_an_observation_of_a_batch_already_folded_is_not_counted_again():
    state = history(20)
    again = merge(state, day_of(3))
    assert read(again).observation_count() == read(state).observation_count()


def test_a_state_of_the_previous_format_becomes_the_bounded_one_and_keeps_what_it_taught():
    legacy = {
        "format": 2,
        "observations": {
            o.key: {
                "arms": dict(o.arms),
                "platform": o.signals.platform,
                "age_hours": o.signals.age_hours,
                "signals": dict(o.signals.values),
                "batch_date": o.batch_date,
            }
            for d in range(50)
            for o in day_of(d)
        },
    }
    converted = merge(legacy, [])
    assert converted["format"] == STATE_FORMAT and read(converted).observation_count() == 50 * 3 * 2
    assert len(converted["observations"]) == 7 * 3 * 2
    decision = decide(converted, SPACE, 0.1, seed=2)
    assert not any("damaged" in r or "not readable" in r for r in decision.lacking)
    assert decision.allocation["topic"]["a"] > 0.6


@pytest.mark.parametrize(
    "corrupt, said",
    [
        ("not a state", "not readable (str)"),
        ([1, 2, 3], "not readable (list)"),
        ({"format": 3, "newest": "2026-01-20", "stats": {"features": ["intercept"], "xtwx": [[1, 2]]}}, "damaged"),
        ({"format": 3, "newest": "2026-01-20", "stats": {"features": "x"}}, "damaged"),
        ({"format": 3, "observations": {"k|youtube": "garbage"}, "stats": {}}, "unreadable"),
        ({"format": "seven", "observations": []}, "not readable"),
    ],
)
def test_a_corrupt_state_still_decides_and_says_what_it_lacked(corrupt, said):
    state = merge(corrupt, day_of(20))
    decision = decide(state, SPACE, 0.1, seed=3)
    assert any(said in reason for reason in decision.lacking), decision.lacking
    assert all(math.isclose(sum(shares.values()), 1.0, abs_tol=1e-3) for shares in decision.allocation.values())
    # the next day's state is whole again: the repair is reported once
    assert not merge(state, day_of(21))["repairs"]


def test_non_finite_statistics_are_dropped_not_learned_from():
    good = history(15)
    good["stats"]["xtwy"][1] = float("nan")
    decision = decide(merge(good, day_of(15)), SPACE, 0.1, seed=4)
    assert any("damaged" in r for r in decision.lacking)
    assert np.all(np.isfinite(decision.posterior.mean))


def test_each_platform_gets_its_own_posting_hour_where_their_audiences_differ():
    taste = {"tiktok": {"21": 0.6, "09": -0.6}, "youtube": {"09": 0.6, "21": -0.6}}
    state = history(40, hour_taste=taste)
    decision = decide(state, SPACE, 0.1, seed=5)
    assert decision.allocation["posting_hour@tiktok"]["21"] > 0.7
    assert decision.allocation["posting_hour@youtube"]["09"] > 0.7
    arms = choose_arms(decision.allocation, SPACE, np.random.default_rng(0))
    assert {"posting_hour@tiktok", "posting_hour@youtube"} <= set(arms)
    assert decision.effects(SPACE)["posting_hour@tiktok"]["21"]["mean"] > 0


def test_a_channel_on_one_platform_still_decides_and_says_so():
    decision = decide(history(20, platforms=("youtube",)), SPACE, 0.1, seed=6)
    assert any("one platform only (youtube)" in r for r in decision.lacking)
    assert not any("@" in key for key in decision.allocation)
    assert decision.allocation["topic"]["a"] > 0.5


def test_an_arm_space_that_changes_mid_history_keeps_what_was_learned():
    state = history(20)
    grown = {"topic": ("a", "b", "c", "d"), "hook": ("x", "y"), "length": ("short", "long")}
    for d in range(20, 27):
        state = merge(state, day_of(d, space=grown))
    decision = decide(state, grown, 0.1, seed=7)
    assert decision.allocation["topic"]["a"] > 0.4 and decision.allocation["topic"]["d"] > 0
    assert any("posting_hour no longer in the arm space" in r for r in decision.lacking)
    shrunk = {"topic": ("b", "c"), "hook": ("x", "y")}
    assert decide(state, shrunk, 0.1, seed=8).allocation["topic"]["b"] > 0.5


def test_a_viral_outlier_counts_once_at_the_top_of_the_scale_and_is_named():
    state = history(20)
    rng = np.random.default_rng(9)
    arms = {"topic": "c", "hook": "y", "posting_hour": "09"}
    viral = Observation("viral|youtube", arms, signals(snapshot("youtube", 0.0, rng, 1000.0)), "2026-01-21")
    decision = decide(merge(state, [viral]), SPACE, 0.1, seed=10)
    assert any("viral|youtube is an outlier" in r for r in decision.lacking)
    assert decision.allocation["topic"]["a"] > 0.5 and decision.allocation["topic"]["c"] < 0.2


def test_videos_whose_arm_a_person_forced_are_not_the_learners_experiment_sample():
    state = None
    for d in range(12):
        state = merge(state, day_of(d, forced=("topic",) if d % 2 else ()))
    since = START
    counted = videos_since(state, "topic", SPACE["topic"], since)
    # odd days were forced: only the even days after `since` (2, 4, ..., 10) count, 3 videos each
    assert sum(counted.values()) == 5 * 3
    hooks = videos_since(state, "hook", SPACE["hook"], since)
    assert sum(hooks.values()) == 11 * 3  # the hook was the learner's every day
