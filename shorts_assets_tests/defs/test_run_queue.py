"""The PostgreSQL instance (deploy/postgres/dagster.yaml) queues one run per channel at a time: dates of
one channel learn in order, since a date's scripts read the strategy the date before learned, while
other channels run beside it.

Runs are submitted the way a backfill submits them, through the queued run coordinator, and the
daemon's queue starts them, on Dagster storage in a fresh PostgreSQL database.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.pools import set_pools

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHANNEL_TAG = "dagster/partition/channel"
PARTITIONS = ("demo|2026-11-01", "demo|2026-11-02", "other|2026-11-01")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@pytest.fixture
def postgres_instance(tmp_path, postgres_database, monkeypatch):
    """An instance configured by deploy/postgres/dagster.yaml, on a fresh database, and the environment
    its command-line tools and runs share."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    app_url = f"sqlite:///{tmp_path / 'shorts.db'}"
    Store(app_url)  # migrated once here, not raced by the first runs
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": postgres_database,
        "SHORTS_CHANNELS": "demo,other",
        "SHORTS_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": app_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTS_", "DATABASE_URL", "DAGSTER_"))}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        set_pools(instance, {})  # as a new instance is set up: runs starting together race to create them
        yield instance, {**full_env, **env}


def backfill(env: dict[str, str], partitions: tuple[str, ...]) -> None:
    result = subprocess.run(
        [
            f"{BIN}/dagster",
            "job",
            "backfill",
            "-w",
            "workspace.yaml",
            "-j",
            "learn_job",
            "--partitions",
            ",".join(partitions),
            "--noprompt",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def drain_queue(instance: dg.DagsterInstance, env: dict[str, str], run_ids: list[str], timeout: float = 300) -> None:
    """Run the daemon until every run has finished."""
    daemon = subprocess.Popen(
        [f"{BIN}/dagster-daemon", "run", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(instance.get_run_by_id(run_id).status in FINISHED for run_id in run_ids):
                return
            assert daemon.poll() is None, daemon.stderr.read()[-3000:]
            time.sleep(1)
        pytest.fail(f"the queue did not finish {run_ids} in {timeout:.0f} s")
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


def overlaps(a, b) -> bool:
    """Whether two runs (their stats: start and end times) were running at some same moment."""
    return a.start_time < b.end_time and b.start_time < a.end_time


def test_dates_of_one_channel_run_one_after_another_on_postgres(postgres_instance):
    instance, env = postgres_instance
    limits = instance.get_settings("concurrency")["runs"]["tag_concurrency_limits"]
    assert limits == [{"key": CHANNEL_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]

    backfill(env, PARTITIONS)
    runs = {run.tags["dagster/partition"]: run for run in instance.get_runs()}
    assert sorted(runs) == sorted(PARTITIONS)
    for key, run in runs.items():
        # The limit keys on the per-dimension tag, so every backfill run must carry it.
        assert run.status == dg.DagsterRunStatus.QUEUED
        assert run.tags[CHANNEL_TAG] == key.split("|")[0]
        assert run.tags["dagster/partition/date"] == key.split("|")[1]

    drain_queue(instance, env, [run.run_id for run in runs.values()])

    statuses = {key: instance.get_run_by_id(run.run_id).status for key, run in runs.items()}
    assert statuses == dict.fromkeys(PARTITIONS, dg.DagsterRunStatus.SUCCESS)
    stats = {key: instance.get_run_stats(run.run_id) for key, run in runs.items()}
    first, second = stats["demo|2026-11-01"], stats["demo|2026-11-02"]
    assert not overlaps(first, second), "two runs of one channel ran at the same time"
