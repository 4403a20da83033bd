"""The application database, specified on SQLite and on the real PostgreSQL server alike."""

import multiprocessing
import time
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


SAVES_PER_RUN = 15


def save_in_a_process(database_url: str, run: int, start, results) -> None:
    """One process saving strategies for DAY as fast as it can (one run id each), released with the others."""
    store = Store(database_url)
    start.wait(timeout=60)
    saved = []
    for n in range(SAVES_PER_RUN):
        try:
            saved.append(
                store.save_strategy(
                    channel="demo",
                    strategy_date=DAY,
                    videos_per_day=3,
                    allocation={},
                    state={},
                    summary={},
                    run_id=f"run-{run}-{n}",
                )
            )
        except Exception as exc:  # reported, so the test says what went wrong
            saved.append(f"{type(exc).__name__}: {exc}")
    results.put(saved)
    store.dispose()


def test_concurrent_runs_saving_a_strategy_for_one_date_get_distinct_versions(database_url):
    Store(database_url).dispose()  # migrated before the runs start
    runs = 4
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(runs), spawn.Queue()
    processes = [spawn.Process(target=save_in_a_process, args=(database_url, n, start, results)) for n in range(runs)]
    for process in processes:
        process.start()
    saved = [version for _ in processes for version in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)

    expected = sorted(f"demo:2026-11-28:v{n}" for n in range(1, runs * SAVES_PER_RUN + 1))
    assert sorted(saved) == expected, [v for v in saved if v not in expected]


def test_a_run_saving_its_strategy_again_keeps_its_version(store):
    kwargs = dict(channel="demo", strategy_date=DAY, videos_per_day=3, state={}, summary={})
    first = store.save_strategy(allocation={"topic": {"space": 1.0}}, run_id="run-a", **kwargs)
    other = store.save_strategy(allocation={"topic": {"space": 0.5}}, run_id="run-b", **kwargs)
    again = store.save_strategy(allocation={"topic": {"space": 0.2}}, run_id="run-a", **kwargs)

    assert (first, other, again) == ("demo:2026-11-28:v1", "demo:2026-11-28:v2", "demo:2026-11-28:v1")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM content_strategy")).scalar_one() == 2
    assert store.latest_strategy("demo", on=DAY).version == other


def test_a_strategy_run_id_longer_than_its_column_is_refused_by_name(store):
    with pytest.raises(ValueError, match="run_id"):
        store.save_strategy(
            channel="demo", strategy_date=DAY, videos_per_day=3, allocation={}, state={}, summary={}, run_id="r" * 65
        )


# ##### publish claims


def claim(store, owner, **overrides):
    kwargs = dict(
        video_id="demo-20261128-01",
        channel="demo",
        batch_date=DAY,
        platform="youtube",
        account="demo",
        scheduled_at=NOW,
        owner=owner,
    )
    return store.begin_publish(**{**kwargs, **overrides})


def test_a_publish_claim_is_held_by_one_owner_until_it_is_released(store):
    add(store)
    first = claim(store, "host:1:a")
    second = claim(store, "host:2:b")
    assert (first.granted, first.taken_over) == (True, False)
    assert (second.granted, second.holder, second.row.attempts) == (False, "host:1:a", 1)
    assert claim(store, "host:1:a").granted  # its owner may claim it again

    store.fail_publish("demo-20261128-01", "youtube", "demo", "ProviderError: busy", owner="host:1:a")
    retried = claim(store, "host:2:b")
    assert (retried.granted, retried.taken_over, retried.row.attempts) == (True, False, 3)


def test_a_lapsed_claim_is_taken_over_and_says_so(store):
    add(store)
    claim(store, "host:1:dead", lease=timedelta(milliseconds=20))
    time.sleep(0.05)
    taken = claim(store, "host:2:next")
    assert (taken.granted, taken.taken_over, taken.row.status, taken.row.attempts) == (True, True, "uploading", 2)
    assert not claim(store, "host:1:dead").granted


def test_a_run_whose_claim_was_taken_over_cannot_fail_the_successors_post(store):
    add(store)
    claim(store, "host:1:slow", lease=timedelta(milliseconds=20))
    time.sleep(0.05)
    claim(store, "host:2:next")
    store.fail_publish("demo-20261128-01", "youtube", "demo", "ProviderError: late", owner="host:1:slow")
    assert store.publication("demo-20261128-01", "youtube", "demo").status == "uploading"
    store.finish_publish(Publication("youtube", "demo", "demo-20261128-01", "abc", "https://y/abc", NOW), "host:2:next")
    store.fail_publish("demo-20261128-01", "youtube", "demo", "ProviderError: late")
    row = store.publication("demo-20261128-01", "youtube", "demo")
    assert (row.status, row.remote_id) == ("published", "abc")
    assert not claim(store, "host:3:later").granted


def test_a_claim_renews_only_for_its_owner(store):
    add(store)
    claim(store, "host:1:a")
    assert store.renew_claim("demo-20261128-01", "youtube", "demo", "host:1:a")
    assert not store.renew_claim("demo-20261128-01", "youtube", "demo", "host:2:b")


def test_a_claim_needs_an_owner_and_a_positive_lease(store):
    add(store)
    with pytest.raises(ValueError, match="owner"):
        claim(store, "")
    with pytest.raises(ValueError, match="lease"):
        claim(store, "host:1:a", lease=timedelta(0))


def _open_store(url: str, barrier) -> str:
    barrier.wait()
    try:
        Store(url)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_fresh_database_together_migrate_it_once(database_url):
    """Runs of one partition started at the same moment each open the database first."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as pool:
            results = pool.starmap(_open_store, [(database_url, barrier)] * 4)
    assert results == ["ok"] * 4
    assert current_revision(Store(database_url).engine) == head_revision()


def _write_script(url: str, barrier) -> bool:
    store = Store(url)
    barrier.wait()
    return store.add_script(
        video_id="demo-20261128-01", channel="demo", batch_date=DAY, position=1, strategy_version="demo:prior",
        arms={"topic": "space"}, script=script_json("demo-20261128-01"), writer="template",
    )  # fmt: skip


def test_two_processes_writing_one_video_script_at_once_store_it_once(database_url):
    import multiprocessing

    Store(database_url)  # migrated first: the race under test is the script's, not the schema's
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as pool:
            results = pool.starmap(_write_script, [(database_url, barrier)] * 4)
    assert sorted(results) == [False, False, False, True]
    assert len(Store(database_url).batch("demo", DAY)) == 1
