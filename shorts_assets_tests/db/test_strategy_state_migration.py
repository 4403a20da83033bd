"""Migration 0009 turns every strategy row's learning state into the bounded format, on SQLite and PostgreSQL:
a row of the previous format keeps what it taught, a corrupt row still lets the strategy decide and say why."""

import json
from datetime import date, timedelta

import sqlalchemy as sa

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.db.migrate import current_revision, head_revision, upgrade
from shorts_assets.db.store import Store
from shorts_assets.learning import decide
from shorts_assets.learning.state import STATE_FORMAT, read

DAY = date(2026, 3, 1)


def previous_format_state(days: int) -> dict:
    """Every observation ever, with its signals: the format a strategy row held before 0009."""
    observations = {}
    for d in range(days):
        batch = (DAY - timedelta(days=days - d)).isoformat()
        for i, topic in enumerate(("space", "ocean")):
            arms = {**{dim: values[0] for dim, values in ARM_SPACE.items()}, "topic": topic}
            retention = 1.2 if topic == "space" else -0.4
            for platform in ("youtube", "tiktok"):
                observations[f"v{d}-{i}|{platform}"] = {
                    "arms": arms,
                    "platform": platform,
                    "age_hours": 96.0,
                    "signals": {"retention": retention + 0.01 * d, "engagement": -2.7, "reach": 7.5},
                    "batch_date": batch,
                }
    return {"format": 2, "observations": observations}


def insert(engine, version: str, day: date, state) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO content_strategy (version, channel, strategy_date, videos_per_day, allocation, state, "
                "summary, created_at) VALUES (:v, 'demo', :d, 3, '{}', :s, '{}', :c)"
            ),
            {"v": version, "d": day, "s": json.dumps(state), "c": "2026-03-01 00:00:00+00:00"},
        )


def test_previous_and_corrupt_rows_become_bounded_states_the_strategy_decides_from(database_url):
    engine = sa.create_engine(database_url)
    upgrade(engine, "0005")
    old = previous_format_state(40)
    insert(engine, "demo:v1", DAY - timedelta(days=2), old)
    insert(engine, "demo:v2", DAY - timedelta(days=1), {"format": 3, "stats": "garbage", "observations": 7})
    upgrade(engine)
    assert current_revision(engine) == head_revision()

    store = Store(database_url)
    converted = store.latest_strategy("demo", on=DAY - timedelta(days=2)).state
    assert converted["format"] == STATE_FORMAT
    assert read(converted).observation_count() == len(old["observations"])
    assert len(converted["observations"]) == 7 * 2 * 2  # only the batches still maturing are held whole
    decision = decide(converted, ARM_SPACE, 0.1, seed=1)
    assert decision.allocation["topic"]["space"] > decision.allocation["topic"]["ocean"]

    corrupt = store.latest_strategy("demo", on=DAY - timedelta(days=1)).state
    decision = decide(corrupt, ARM_SPACE, 0.1, seed=2)
    assert any("observations were not readable" in r for r in decision.lacking)
    assert any("no scored metrics yet" in r for r in decision.lacking)
    store.dispose()
    engine.dispose()
