"""A/B experiments: a clear winner is declared, equal arms stop at a cap, nothing is decided too early."""

from datetime import date, timedelta

import numpy as np
import pytest

from shorts_assets.learning import decide
from shorts_assets.learning.bandit import draws
from shorts_assets.learning.experiments import (
    Experiment,
    Look,
    Rules,
    contenders,
    plan,
    promote,
    split,
    superiority,
    verdict,
)

SPACE = {"hook": ("x", "y", "z"), "voice": ("p", "q")}
START = date(2026, 11, 1)
RULES = Rules()


def add_day(state, day, rewards_by_hook):
    """One batch: a video per (hook, reward), observed once, fully mature."""
    observations = state.setdefault("observations", {})
    for hook, rewards in rewards_by_hook.items():
        for n, value in enumerate(rewards):
            key = f"{day:%Y%m%d}-{hook}-{n}|youtube"
            observations[key] = {
                "arms": {"hook": hook, "voice": "p" if n % 2 else "q"},
                "reward": float(value),
                "weight": 1.0,
                "batch_date": day.isoformat(),
            }


def step(experiment, state, day, rules=RULES):
    decision = decide(state, SPACE, 0.1, seed=day.toordinal())
    result = plan(
        [experiment],
        channel="demo",
        today=day,
        state=state,
        posterior=decision.posterior,
        p_best=decision.p_best,
        allocation=decision.allocation,
        arm_space=SPACE,
        exploration=0.1,
        rules=rules,
    )
    (after,) = [e for e in result.experiments if e.id == experiment.id]
    return after, result


def running(dimension="hook", a="x", b="y"):
    return Experiment(1, "demo", dimension, a, b, START)


def test_a_clear_winner_is_declared():
    rng = np.random.default_rng(0)
    state, experiment = {}, running()
    history = []
    for d in range(1, 30):
        day = START + timedelta(days=d)
        add_day(state, day, {"x": 0.72 + rng.normal(0, 0.08, 2), "y": 0.45 + rng.normal(0, 0.08, 2)})
        experiment, _ = step(experiment, state, day)
        history.append(experiment)
        if experiment.status != "running":
            break
    assert experiment.status == "decided" and experiment.winner == "x"
    assert experiment.p_superiority >= 0.95 and experiment.loser == "y"
    assert min(experiment.videos_a, experiment.videos_b) >= RULES.min_videos_per_arm
    assert all(e.status == "running" for e in history[:-1])
    assert "P(x > y)" in experiment.reason


def test_the_other_arm_wins_when_the_probability_falls_below_the_lower_bound():
    seen = Look(p_superiority=0.01, videos_a=8, videos_b=8, mean_a=-0.1, mean_b=0.1)
    after = verdict(running(), seen, START + timedelta(days=5))
    assert after.status == "decided" and after.winner == "y" and after.decided_on == START + timedelta(days=5)


def test_identical_arms_stay_running_then_stop_inconclusive_at_the_cap():
    rules = Rules(max_videos_per_arm=12, max_days=60)
    rng = np.random.default_rng(1)
    state, experiment = {}, running()
    looks = []
    for d in range(1, 20):
        day = START + timedelta(days=d)
        same = 0.5 + rng.normal(0, 0.1, 2)
        add_day(state, day, {"x": same, "y": same})
        experiment, _ = step(experiment, state, day, rules)
        looks.append(experiment)
        if experiment.status != "running":
            break
    assert experiment.status == "stopped" and "inconclusive" in experiment.reason and "cap" in experiment.reason
    assert experiment.videos_a == experiment.videos_b == 12
    assert experiment.p_superiority == pytest.approx(0.5, abs=1e-3)
    assert experiment.winner in ("x", "y")
    assert all(e.status == "running" for e in looks[:-1]) and len(looks) == 6


def test_identical_arms_stop_at_the_time_cap_too():
    seen = Look(p_superiority=0.6, videos_a=9, videos_b=9, mean_a=0.01, mean_b=0.0)
    assert verdict(running(), seen, START + timedelta(days=RULES.max_days - 1)).status == "running"
    after = verdict(running(), seen, START + timedelta(days=RULES.max_days))
    assert after.status == "stopped" and after.winner == "x" and "days" in after.reason
    too_few = verdict(running(), Look(0.6, 2, 9, 0.01, 0.0), START + timedelta(days=RULES.max_days))
    assert too_few.status == "stopped" and too_few.winner is None


@pytest.mark.parametrize("videos", [(0, 0), (5, 40), (40, 5)])
def test_no_decision_before_the_minimum_sample(videos):
    seen = Look(p_superiority=0.9999, videos_a=videos[0], videos_b=videos[1], mean_a=0.3, mean_b=0.0)
    after = verdict(running(), seen, START + timedelta(days=3))
    assert after.status == "running" and after.winner is None
    assert (after.videos_a, after.videos_b) == videos and after.p_superiority == 0.9999


def test_a_huge_early_difference_waits_for_the_minimum_sample():
    state, experiment = {}, running()
    day = START + timedelta(days=1)
    add_day(state, day, {"x": [0.95, 0.96], "y": [0.05, 0.04]})
    experiment, _ = step(experiment, state, day)
    assert experiment.status == "running" and experiment.p_superiority > 0.95
    assert (experiment.videos_a, experiment.videos_b) == (2, 2)


def test_videos_from_before_the_experiment_do_not_count_toward_its_sample():
    state = {}
    add_day(state, START, {"x": [0.9] * 10, "y": [0.1] * 10})
    experiment, _ = step(running(), state, START + timedelta(days=1))
    assert (experiment.videos_a, experiment.videos_b) == (0, 0) and experiment.status == "running"


def test_superiority_is_the_normal_difference_of_the_joint_posterior():
    rng = np.random.default_rng(2)
    state = {}
    add_day(state, START, {"x": 0.55 + rng.normal(0, 0.1, 6), "y": 0.5 + rng.normal(0, 0.1, 6)})
    post = decide(state, SPACE, 0.1, seed=3).posterior
    p, mean_x, mean_y = superiority(post, "hook", "x", "y")
    samples = draws(post, 40000, np.random.default_rng(4))
    monte_carlo = float(np.mean(samples[:, post.index("hook=x")] > samples[:, post.index("hook=y")]))
    assert p == pytest.approx(monte_carlo, abs=0.01)
    assert mean_x > mean_y and 0.5 < p < 1.0


def test_close_contenders_open_an_experiment_once_the_model_has_data():
    p_best = {"hook": {"x": 0.45, "y": 0.4, "z": 0.15}, "voice": {"p": 0.9, "q": 0.1}}
    assert contenders(p_best) == {"hook": ("x", "y")}
    state = {}
    rng = np.random.default_rng(5)
    add_day(state, START, {h: 0.5 + rng.normal(0, 0.1, 6) for h in ("x", "y", "z")})
    post = decide(state, SPACE, 0.1, seed=6).posterior
    allocation = {"hook": {"x": 0.45, "y": 0.4, "z": 0.15}, "voice": {"p": 0.85, "q": 0.15}}
    common = dict(
        channel="demo",
        today=START,
        state=state,
        posterior=post,
        p_best=p_best,
        allocation=allocation,
        arm_space=SPACE,
        exploration=0.1,
    )
    opened = plan([], **common)
    assert [(e.dimension, e.arm_a, e.arm_b, e.status) for e in opened.opened] == [("hook", "x", "y", "running")]
    assert opened.allocation["hook"]["x"] == opened.allocation["hook"]["y"]
    assert opened.allocation["hook"]["z"] == pytest.approx(0.1 / 3, abs=1e-4)
    assert opened.allocation["voice"] == allocation["voice"]
    assert plan([running()], **common).opened == []  # one experiment per dimension at a time
    cold = plan([], **{**common, "state": {}, "posterior": decide({}, SPACE, 0.1, seed=6).posterior})
    assert cold.opened == []  # the prior alone is no reason to test


def test_a_winner_is_promoted_for_a_while_and_the_pair_is_not_retested_at_once():
    decided = Experiment(
        1, "demo", "hook", "x", "y", START, "decided", START + timedelta(days=10), "y", 0.02, 8, 8, "r"
    )
    state = {}
    add_day(state, START, {h: [0.5] * 6 for h in ("x", "y", "z")})
    post = decide(state, SPACE, 0.1, seed=7).posterior
    p_best = {"hook": {"x": 0.4, "y": 0.4, "z": 0.2}, "voice": {"p": 0.5, "q": 0.5}}
    allocation = {"hook": {"x": 0.4, "y": 0.3, "z": 0.3}, "voice": {"p": 0.5, "q": 0.5}}

    def on(days):
        return plan(
            [decided],
            channel="demo",
            today=START + timedelta(days=days),
            state=state,
            posterior=post,
            p_best=p_best,
            allocation=allocation,
            arm_space=SPACE,
            exploration=0.1,
        )

    soon = on(12)
    assert soon.promotions["hook"]["winner"] == "y" and soon.promotions["hook"]["loser"] == "x"
    assert soon.allocation["hook"]["y"] >= 0.5 and soon.allocation["hook"]["x"] == pytest.approx(0.1 / 3, abs=1e-4)
    assert sum(soon.allocation["hook"].values()) == pytest.approx(1.0, abs=1e-3)
    assert soon.winning_arms() == {"hook": "y"}
    assert [e.dimension for e in soon.opened] == ["voice"]
    later = on(10 + RULES.promotion_days)
    assert "hook" not in later.promotions and not any(e.dimension == "hook" for e in later.opened)
    much_later = on(10 + RULES.retest_days)
    assert any(e.dimension == "hook" for e in much_later.opened)


def test_a_promotion_lapses_once_the_evidence_since_makes_another_value_the_likely_best():
    decided = Experiment(
        1, "demo", "hook", "x", "y", START, "decided", START + timedelta(days=10), "y", 0.02, 8, 8, "r"
    )
    state = {}
    add_day(state, START, {h: [0.5] * 6 for h in ("x", "y", "z")})
    post = decide(state, SPACE, 0.1, seed=7).posterior
    allocation = {"hook": {"x": 0.1, "y": 0.1, "z": 0.8}, "voice": {"p": 0.5, "q": 0.5}}

    def with_p_best(z):
        rest = (1.0 - z) / 2
        return plan(
            [decided],
            channel="demo",
            today=START + timedelta(days=12),
            state=state,
            posterior=post,
            p_best={"hook": {"x": rest, "y": rest, "z": z}, "voice": {"p": 0.5, "q": 0.5}},
            allocation=allocation,
            arm_space=SPACE,
            exploration=0.1,
        )

    held = with_p_best(RULES.overturn_p_best - 0.05)
    assert held.promotions["hook"]["winner"] == "y" and held.allocation["hook"]["y"] >= 0.5
    overturned = with_p_best(RULES.overturn_p_best)
    assert "hook" not in overturned.promotions and overturned.winning_arms() == {}
    assert overturned.allocation["hook"] == allocation["hook"]


def test_an_experiment_decided_later_is_running_as_of_an_earlier_date():
    decided = Experiment(1, "demo", "hook", "x", "y", START, "decided", START + timedelta(days=9), "x", 0.99, 9, 9, "r")
    assert decided.as_of(START + timedelta(days=3)).status == "running"
    assert decided.as_of(START + timedelta(days=9)) == decided


def test_an_arm_leaving_the_arm_space_stops_its_experiment():
    state = {}
    add_day(state, START, {"x": [0.5] * 3, "y": [0.5] * 3})
    experiment, result = step(Experiment(1, "demo", "hook", "x", "gone", START), state, START + timedelta(days=1))
    assert experiment.status == "stopped" and experiment.winner == "x" and "gone" in experiment.reason
    assert result.ended == [experiment]


def test_split_and_promote_keep_shares_summing_to_one():
    shares = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    halves = split(shares, "b", "c", floor=0.025)
    assert halves["b"] == halves["c"] and halves["a"] == halves["d"] == 0.025
    assert sum(halves.values()) == pytest.approx(1.0, abs=1e-3)
    promoted = promote(shares, "b", "a", floor=0.025, promoted_share=0.5)
    assert promoted["b"] == pytest.approx(0.775, abs=1e-3) and promoted["a"] == 0.025
    assert min(promoted.values()) >= 0.025 and sum(promoted.values()) == pytest.approx(1.0, abs=1e-3)
    assert promote({"p": 0.9, "q": 0.1}, "q", "p", floor=0.05, promoted_share=0.5) == {"p": 0.05, "q": 0.95}
