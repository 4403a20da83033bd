"""The reward model ranks recipes and explains itself; the report renders."""

import numpy as np

from shorts_assets.learning import Row
from shorts_assets.learning.model import rank_recipes
from shorts_assets.learning.report import markdown, plot

SPACE = {"topic": ("a", "b", "c"), "hook": ("x", "y"), "voice": ("p", "q")}


def rows(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        arms = {d: str(rng.choice(v)) for d, v in SPACE.items()}
        value = 0.5 + 0.3 * (arms["topic"] == "a") + 0.1 * (arms["hook"] == "x") + rng.normal(0, 0.03)
        out.append(Row(arms, "youtube", float(value), 1.0, f"v{i}"))
    return out


def test_the_model_finds_the_best_recipe_and_the_dimension_that_matters():
    report = rank_recipes(rows(120), SPACE)
    assert report.fitted and report.cv_r2 is not None and report.cv_r2 > 0.5
    assert report.top[0]["arms"]["topic"] == "a" and report.top[0]["arms"]["hook"] == "x"
    assert max(report.importances, key=report.importances.get) == "topic"


def test_the_model_waits_for_enough_data():
    report = rank_recipes(rows(10), SPACE)
    assert not report.fitted and "wanted" in report.to_json()["description"]


def test_the_report_plots_the_allocation_over_time(tmp_path):
    allocation = {d: {v: 1 / len(vs) for v in vs} for d, vs in SPACE.items()}
    effects = {d: {v: {"mean": 0.0, "sd": 0.1, "n": 0.0} for v in vs} for d, vs in SPACE.items()}
    path = plot(tmp_path / "r" / "p.png", [("2026-11-01", allocation), ("2026-11-02", allocation)], effects, "t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    text = markdown("demo", "2026-11-02", allocation, effects, ["no data"], {"volcanoes": 2}, None)
    assert "volcanoes (2)" in text and "- no data" in text


def test_the_report_lists_experiments_and_promotions():
    allocation = {"hook": {"x": 0.5, "y": 0.5}}
    effects = {"hook": {v: {"mean": 0.0, "sd": 0.1, "n": 1.0} for v in ("x", "y")}}
    experiments = [
        {
            "dimension": "hook",
            "arm_a": "x",
            "arm_b": "y",
            "started_on": "2026-11-01",
            "status": "decided",
            "decided_on": "2026-11-09",
            "winner": "y",
            "p_superiority": 0.031,
            "videos_a": 8,
            "videos_b": 9,
            "reason": "P(x > y) = 0.031 ≤ 0.05",
        },
        {
            "dimension": "voice",
            "arm_a": "p",
            "arm_b": "q",
            "started_on": "2026-11-08",
            "status": "running",
            "decided_on": None,
            "winner": None,
            "p_superiority": None,
            "videos_a": 0,
            "videos_b": 0,
            "reason": None,
        },
    ]
    promotions = {"hook": {"winner": "y", "loser": "x", "until": "2026-11-30"}}
    text = markdown(
        "demo", "2026-11-10", allocation, effects, [], {}, None, experiments=experiments, promotions=promotions
    )
    assert "| hook | x | y | 2026-11-01 | decided 2026-11-09 | 0.031 | 8/9 | y |" in text
    assert "| voice | p | q | 2026-11-08 | running | — | 0/0 | — | — |" in text
    assert "hook: y over x until 2026-11-30" in text
