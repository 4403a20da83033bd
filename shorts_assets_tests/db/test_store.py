"""The application database, specified on SQLite and on the real PostgreSQL server alike."""

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from shorts_assets.core.types import Comment, MetricSnapshot, Publication
from shorts_assets.db.migrate import current_revision, head_revision
from shorts_assets.db.store import Store
from shorts_assets_tests.helpers import script_json

DAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.dispose()


def add(store, video_id="demo-20261128-01", position=1):
    return store.add_script(
        video_id=video_id,
        channel="demo",
        batch_date=DAY,
        position=position,
        strategy_version="demo:prior",
        arms={"topic": "space"},
        script=script_json(video_id, title="T", narration="N"),
        writer="template",
    )


def snapshot(views, fetched_at=NOW):
    return MetricSnapshot(
        platform="youtube",
        remote_id="abc",
        fetched_at=fetched_at,
        window="lifetime",
        age_hours=3.0,
        views=views,
        likes=1,
        comments=0,
        shares=0,
        avg_view_pct=50.0,
        watch_time_s=10.0,
    )


def test_migrations_create_every_table(store):
    assert current_revision(store.engine) == head_revision()
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {
        "videos",
        "video_requests",
        "publish_results",
        "performance_metrics",
        "comments",
        "content_strategy",
        "provider_state",
        "quota_usage",
    } <= tables


def test_a_script_is_written_once_per_video_id(store):
    assert add(store) is True
    assert add(store) is False
    (row,) = store.batch("demo", DAY)
    assert (row.video_id, row.stage, row.status, row.arms) == ("demo-20261128-01", "scripted", "ok", {"topic": "space"})


def test_stage_failures_and_completions_are_recorded_per_video(store):
    add(store, "demo-20261128-01", 1)
    add(store, "demo-20261128-02", 2)
    store.fail_stage("demo-20261128-01", "clips", "ProviderError: bad clip")
    store.complete_stage("demo-20261128-02", "clips", {"files": ["a.mp4"]})
    store.complete_stage("demo-20261128-01", "voiceover", {"files": ["v.wav"]})
    first, second = store.batch("demo", DAY)
    assert (first.status, first.failed_stage, first.error) == ("failed", "clips", "ProviderError: bad clip")
    assert first.outputs == {"voiceover": {"files": ["v.wav"]}}
    assert second.status == "ok" and second.outputs["clips"] == {"files": ["a.mp4"]}
    store.complete_stage("demo-20261128-01", "clips", {"files": ["b.mp4"]})
    assert store.batch("demo", DAY)[0].status == "ok"


def test_publishing_keeps_one_row_per_video_platform_and_account(store):
    add(store)
    kwargs = dict(
        video_id="demo-20261128-01",
        channel="demo",
        batch_date=DAY,
        platform="youtube",
        account="demo",
        scheduled_at=NOW,
        owner="host:1:run",
    )
    store.begin_publish(**kwargs)
    store.fail_publish("demo-20261128-01", "youtube", "demo", "ProviderError: rejected")
    retried = store.begin_publish(**kwargs).row
    assert (retried.status, retried.attempts) == ("uploading", 2)
    store.finish_publish(Publication("youtube", "demo", "demo-20261128-01", "abc", "https://y/abc", NOW))
    store.begin_publish(**kwargs)
    (row,) = store.publications("demo", DAY)
    assert (row.status, row.remote_id, row.attempts, row.published_at) == ("published", "abc", 2, NOW)
    with pytest.raises(sa.exc.IntegrityError):
        with store.engine.begin() as conn:
            from shorts_assets.db.schema import publish_results

            conn.execute(
                publish_results.insert().values(
                    video_id="demo-20261128-01",
                    channel="demo",
                    batch_date=DAY,
                    platform="youtube",
                    account="demo",
                    status="pending",
                    attempts=0,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


def test_metric_snapshots_are_appended_never_overwritten(store):
    store.append_snapshots([("v1", snapshot(10))])
    store.append_snapshots([("v1", snapshot(25, NOW + timedelta(hours=1)))])
    assert store.snapshot_count(["v1"]) == 2
    (latest,) = store.latest_snapshots(["v1"])
    assert latest["views"] == 25 and latest["fetched_at"] == NOW + timedelta(hours=1)


def test_comments_are_stored_once_each(store):
    comment = Comment("youtube", "abc", "abc_c1", "ana", "do one about volcanoes", NOW, 2)
    assert store.add_comments([("v1", comment), ("v1", comment)]) == 1
    assert store.add_comments([("v1", comment)]) == 0
    assert [c["text"] for c in store.comments_for(["v1"])] == ["do one about volcanoes"]


def test_strategy_versions_accumulate_and_the_latest_before_a_date_is_found(store):
    first = store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=3,
        allocation={"topic": {"space": 1.0}},
        state={},
        summary={},
    )
    second = store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=3,
        allocation={"topic": {"space": 0.5}},
        state={},
        summary={},
    )
    store.save_strategy(channel="demo", strategy_date=DAY, videos_per_day=3, allocation={}, state={}, summary={})
    assert (first, second) == ("demo:2026-11-27:v1", "demo:2026-11-27:v2")
    latest = store.latest_strategy("demo", before=DAY)
    assert latest.version == second and latest.allocation == {"topic": {"space": 0.5}}
    assert store.latest_strategy("other", before=DAY) is None
