"""The reward: platform-normalised, bounded, and never raised on bad numbers."""

import math

import pytest

from shorts_assets.learning import Reference, maturity, reward, signals

GOOD = {
    "platform": "youtube",
    "age_hours": 72.0,
    "window": "lifetime",
    "views": 5000,
    "likes": 400,
    "comments": 30,
    "shares": 20,
    "avg_view_pct": 85.0,
}
POOR = {**GOOD, "views": 300, "likes": 2, "comments": 0, "shares": 0, "avg_view_pct": 30.0}


def test_rewards_are_bounded_and_order_good_above_poor():
    good, poor = reward(GOOD), reward(POOR)
    assert 0.0 < poor < 0.5 < good < 1.0


def test_each_platform_is_judged_against_its_own_videos():
    tiktok = [signals({**GOOD, "platform": "tiktok", "avg_view_pct": 20.0 + pct % 16}) for pct in range(60)]
    youtube = [signals({**GOOD, "avg_view_pct": 70.0 + pct % 16}) for pct in range(60)]
    reference = Reference.from_signals(tiktok + youtube)
    best_tiktok = reward({**GOOD, "platform": "tiktok", "avg_view_pct": 36.0}, reference)
    worst_youtube = reward({**GOOD, "avg_view_pct": 69.0}, reference)
    assert best_tiktok > worst_youtube


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"views": 0}, "no views"),
        ({"views": -3}, "negative"),
        ({"views": float("nan")}, "views"),
        ({"views": None}, "views"),
        ({"age_hours": -1}, "age"),
        ({"window": "fortnight"}, "window"),
    ],
)
def test_unusable_snapshots_are_skipped_with_a_reason(change, reason):
    read = signals({**GOOD, **change})
    assert read.skipped and reason in read.skipped
    assert reward({**GOOD, **change}) is None


def test_missing_retention_or_counts_leave_the_other_signals():
    read = signals({**GOOD, "avg_view_pct": -1, "likes": float("nan")})
    assert read.skipped is None
    assert set(read.values) == {"reach"}
    assert "retention missing" in read.notes
    assert math.isfinite(reward({**GOOD, "avg_view_pct": -1}))


def test_reach_counts_only_once_a_snapshot_is_mature():
    assert "reach" not in signals({**GOOD, "age_hours": 5.0}).values
    assert "reach" in signals(GOOD).values
    assert maturity(24) == pytest.approx(0.5) and maturity(float("nan")) == 0.0
