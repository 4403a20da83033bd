"""Many machines, played by processes: a backfill of 2 channels × 3 dates (draft renders, offline
providers) submitted as a person would, started by the daemon from the PostgreSQL run queue, with
every step executed in one of two Celery workers (real Redis) that share with the rest only the data
store and the databases.

It holds when every step ran in a worker, never in the run's own process; every video was posted
exactly once per platform; each channel's dates learned in order (a date's scripts drew their arms
from the strategy its previous date saved); and no process wrote a file outside the shared store.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg
import pytest
import redis
import sqlalchemy as sa

from shorts_assets.core.types import PLATFORMS
from shorts_assets.db.schema import content_strategy
from shorts_assets.db.store import Store
from shorts_assets.fakes.cluster import Cluster
from shorts_assets_tests.conftest import PG_ADMIN_URL, require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = os.environ.get("SHORTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CHANNELS = ("north", "south")
DATES = ("2026-11-01", "2026-11-02", "2026-11-03")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
# The margin is for a machine busy with other work; an idle one needs a fraction of it.
TIMEOUT_S = 1500


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is not reachable: {type(exc).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def fresh_database(purpose: str) -> Iterator[str]:
    name = f"shorts_test_{purpose}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def cluster(tmp_path, monkeypatch) -> Iterator[Cluster]:
    require_postgres()
    require_redis()
    with fresh_database("dagster") as dagster_url, fresh_database("app") as app_url:
        Store(app_url).dispose()  # migrated once here, not raced by the first steps
        with Cluster(tmp_path / "cluster", dagster_url, app_url, REDIS_URL, CHANNELS, workers=2) as running:
            for key, value in running.env(running.home).items():
                monkeypatch.setenv(key, value)
            yield running


def wait_for_runs(instance: dg.DagsterInstance, cluster: Cluster, expected: int) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="shorts_loop_job"))
        if len(runs) == expected and all(run.status in FINISHED for run in runs):
            return runs
        daemon = cluster.processes["daemon"]
        assert daemon.poll() is None, cluster.log("daemon")[-3000:]
        time.sleep(2)
    pytest.fail(f"the backfill did not finish in {TIMEOUT_S} s; daemon log: {cluster.log('daemon')[-2000:]}")


def events(instance, run_id, event_type):
    return [e for e in instance.all_logs(run_id, of_type=event_type) if e.dagster_event is not None]


def test_a_backfill_runs_every_step_in_celery_workers_and_publishes_each_video_once(cluster):
    partitions = [f"{channel}|{day}" for channel in CHANNELS for day in DATES]
    cluster.backfill("shorts_loop_job", partitions)
    cluster.start_daemon()
    with dg.DagsterInstance.from_config(str(cluster.home)) as instance:
        runs = wait_for_runs(instance, cluster, expected=len(partitions))
        worker_pids = {name: cluster.process_tree(name) for name in cluster.worker_names()}
        worker_names = {f"{cluster.queue}-{name}" for name in cluster.worker_names()}

        assert {run.tags["dagster/partition"]: run.status for run in runs} == dict.fromkeys(
            partitions, dg.DagsterRunStatus.SUCCESS
        )
        used_workers: Counter[str] = Counter()
        for run in runs:
            (run_start,) = events(instance, run.run_id, dg.DagsterEventType.RUN_START)
            starts = events(instance, run.run_id, dg.DagsterEventType.STEP_START)
            successes = {e.step_key for e in events(instance, run.run_id, dg.DagsterEventType.STEP_SUCCESS)}
            assert {e.step_key for e in starts} == successes and "renders" in successes
            for start in starts:
                pid = start.dagster_event.pid
                assert pid != run_start.dagster_event.pid, f"{start.step_key} ran in the run's own process"
                owners = [name for name, pids in worker_pids.items() if pid in pids]
                assert owners, f"{start.step_key} of {run.tags['dagster/partition']} ran in no worker (pid {pid})"
                used_workers[owners[0]] += 1
            handed = {
                e.step_key: e.dagster_event.engine_event_data.metadata["Celery worker"].value
                for e in events(instance, run.run_id, dg.DagsterEventType.ENGINE_EVENT)
                if "in celery worker" in (e.dagster_event.message or "")
            }
            assert set(handed) == successes
            assert {name.split("@")[0] for name in handed.values()} <= worker_names
        assert set(used_workers) == set(cluster.worker_names()), f"steps per worker: {dict(used_workers)}"

    store = Store(cluster.app_database_url)
    try:
        posts = Counter()
        for channel in CHANNELS:
            for day in DATES:
                published = store.published(channel, date.fromisoformat(day))
                assert sorted(p.platform for p in published) == sorted(PLATFORMS), (channel, day)
                posts.update((p.platform, p.video_id) for p in published)
        outbox = cluster.data_dir / "outbox"
        uploads = Counter(
            (path.parts[-4], json.loads(path.read_text())["video_id"]) for path in outbox.rglob("manifest.json")
        )
        assert uploads == posts and set(uploads.values()) == {1}, "a video was posted twice, or not at all"

        with store.engine.connect() as conn:
            saved = conn.execute(
                sa.select(
                    content_strategy.c.channel, content_strategy.c.strategy_date, content_strategy.c.version
                ).order_by(content_strategy.c.id)
            ).all()
        for channel in CHANNELS:
            learned = [(row.strategy_date.isoformat(), row.version) for row in saved if row.channel == channel]
            assert [d for d, _ in learned] == list(DATES), f"{channel} learned its dates as {learned}"
            for (_, previous_version), day in zip(learned, DATES[1:]):
                drawn_from = {row.strategy_version for row in store.batch(channel, date.fromisoformat(day))}
                assert drawn_from == {previous_version}, (channel, day)
    finally:
        store.dispose()

    assert cluster.stray_files() == {}
