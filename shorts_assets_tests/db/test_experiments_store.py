"""The experiments table and the scripts read, on SQLite and PostgreSQL."""

from datetime import date

import pytest
import sqlalchemy as sa

from shorts_assets.db.migrate import current_revision, head_revision
from shorts_assets.db.store import Store

DAY = date(2026, 11, 10)


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.dispose()


def test_the_migration_adds_the_experiments_table(store):
    assert head_revision() == current_revision(store.engine) and int(head_revision()) >= 4
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("experiments")}
    assert {
        "id",
        "channel",
        "dimension",
        "arm_a",
        "arm_b",
        "started_on",
        "status",
        "decided_on",
        "winner",
        "p_superiority",
        "videos_a",
        "videos_b",
        "reason",
    } <= columns


def test_an_experiment_is_opened_once_per_channel_dimension_and_date(store):
    first = store.create_experiment(channel="demo", dimension="hook", arm_a="question", arm_b="story", started_on=DAY)
    again = store.create_experiment(channel="demo", dimension="hook", arm_a="question", arm_b="story", started_on=DAY)
    assert first == again and first.status == "running" and (first.videos_a, first.videos_b) == (0, 0)
    store.create_experiment(channel="other", dimension="hook", arm_a="a", arm_b="b", started_on=DAY)
    assert [e.channel for e in store.running_experiments("demo")] == ["demo"]


def test_progress_and_the_decision_are_recorded_and_the_decision_only_once(store):
    e = store.create_experiment(channel="demo", dimension="voice", arm_a="en-us", arm_b="en-gb", started_on=DAY)
    store.update_experiment(e.id, p_superiority=0.7, videos_a=4, videos_b=5)
    (running,) = store.running_experiments("demo")
    assert (running.p_superiority, running.videos_a, running.videos_b) == (0.7, 4, 5)
    later = date(2026, 11, 20)
    assert store.record_experiment_decision(
        e.id,
        status="decided",
        decided_on=later,
        winner="en-us",
        p_superiority=0.97,
        videos_a=9,
        videos_b=9,
        reason="P ≥ 0.95",
    )
    assert not store.record_experiment_decision(
        e.id,
        status="stopped",
        decided_on=later,
        winner="en-gb",
        p_superiority=0.5,
        videos_a=9,
        videos_b=9,
        reason="x",
    )
    store.update_experiment(e.id, p_superiority=0.1, videos_a=1, videos_b=1)
    (decided,) = store.decided_experiments("demo")
    assert (decided.status, decided.winner, decided.decided_on, decided.p_superiority) == (
        "decided",
        "en-us",
        later,
        0.97,
    )
    assert store.running_experiments("demo") == []
    # as of a date before the decision, it was still running
    assert [r.id for r in store.running_experiments("demo", as_of=date(2026, 11, 15))] == [e.id]
    assert store.decided_experiments("demo", as_of=date(2026, 11, 15)) == []
    assert store.running_experiments("demo", as_of=date(2026, 11, 1)) == []
    with pytest.raises(ValueError):
        store.record_experiment_decision(
            e.id, status="running", decided_on=later, winner=None, p_superiority=None, videos_a=0, videos_b=0, reason=""
        )


def test_scripts_are_read_by_video_id(store):
    for n, script in enumerate([{"title": "A", "hook": "H?"}, {"title": "B"}]):
        store.add_script(
            video_id=f"v{n}",
            channel="demo",
            batch_date=DAY,
            position=n + 1,
            strategy_version="demo:prior",
            arms={"topic": "space"},
            script=script,
            writer="template",
        )
    assert store.scripts_for(["v0", "v1", "missing", "v0"]) == {
        "v0": {"title": "A", "hook": "H?"},
        "v1": {"title": "B"},
    }
    assert store.scripts_for([]) == {}
