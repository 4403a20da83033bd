"""The loop's cost beside its work on Celery workers: part b of `loop_bench.py`, which runs it.

Part b (`loop_bench.py --part b`): a backfill of N channels × D dates (draft renders, offline providers) queued on
PostgreSQL and started by the daemon, its steps executed by 1 and then 2 Celery workers (Redis), each
on fresh databases. For each it measures the wall time from submitting the backfill to its last run's
end and the sum of the step times (each step's start to its success, in the worker), and reports:

- overhead_ratio: with one worker, (wall − sum of step times) / sum of step times: what distribution
  adds to the work itself (queueing, handing each step to a worker over the broker, the worker loading
  the code location for it, starting each run's process), target ≤ 0.15;
- overhead_ratio_2w: the same with two workers, against twice the wall time (two workers' time);
- videos_per_min_1w, videos_per_min_2w: videos made per minute of wall time.

On a machine with two cores two workers will not be faster than one: a render uses every core. The
figure shows the overhead; more machines add throughput (see README, "Running on many machines").

    .venv/bin/python benchmarks/loop_bench.py --part b --channels 2 --dates 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402

from shorts_assets.db.store import Store  # noqa: E402
from shorts_assets.fakes.cluster import Cluster  # noqa: E402

PG_ADMIN_URL = os.environ.get("SHORTS_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SHORTS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@contextmanager
def fresh_database(purpose: str):
    name = f"shorts_bench_{purpose}_{uuid.uuid4().hex[:10]}"
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


@dataclass(frozen=True)
class Measured:
    workers: int
    wall_s: float
    step_s: float
    videos: int
    failed_runs: int


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> float:
    starts: dict[str, float] = {}
    total = 0.0
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            total += entry.timestamp - starts.pop(entry.step_key, entry.timestamp)
    return total


def backfill(workers: int, channels: list[str], dates: list[str], videos_per_day: int, timeout: float) -> Measured:
    partitions = [f"{c}|{d}" for c in channels for d in dates]
    with (
        tempfile.TemporaryDirectory(prefix="loop-bench-") as base,
        fresh_database("dagster") as dagster_url,
        fresh_database("app") as app_url,
    ):
        Store(app_url).dispose()
        with Cluster(
            Path(base) / "cluster", dagster_url, app_url, REDIS_URL, tuple(channels), workers, videos_per_day
        ) as cluster:
            os.environ.update(cluster.env(cluster.home))
            start = time.time()
            cluster.backfill("shorts_loop_job", partitions)
            cluster.start_daemon()
            with dg.DagsterInstance.from_config(str(cluster.home)) as instance:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    runs = instance.get_runs(filters=dg.RunsFilter(job_name="shorts_loop_job"))
                    if len(runs) == len(partitions) and all(r.status in FINISHED for r in runs):
                        break
                    time.sleep(1)
                else:
                    raise SystemExit(f"the backfill did not finish in {timeout:.0f} s")
                end = max(instance.get_run_stats(r.run_id).end_time or time.time() for r in runs)
                steps = sum(step_seconds(instance, r.run_id) for r in runs)
                failed = sum(r.status != dg.DagsterRunStatus.SUCCESS for r in runs)
    return Measured(workers, end - start, steps, len(partitions) * videos_per_day, failed)


def part_b(args: argparse.Namespace) -> str:
    channels = [f"bench{i + 1}" for i in range(args.channels)]
    dates = [f"2026-11-{day:02d}" for day in range(1, args.dates + 1)]
    one = backfill(1, channels, dates, args.videos_per_day, args.timeout)
    print(f"1 worker: wall {one.wall_s:.1f} s, steps {one.step_s:.1f} s, {one.videos} videos", flush=True)
    two = backfill(2, channels, dates, args.videos_per_day, args.timeout)
    print(f"2 workers: wall {two.wall_s:.1f} s, steps {two.step_s:.1f} s, {two.videos} videos", flush=True)
    return (
        "RESULT part=b"
        f" channels={args.channels} dates={args.dates} videos_per_day={args.videos_per_day}"
        f" wall_1w_s={one.wall_s:.1f} step_sum_1w_s={one.step_s:.1f}"
        f" wall_2w_s={two.wall_s:.1f} step_sum_2w_s={two.step_s:.1f}"
        f" overhead_ratio={(one.wall_s - one.step_s) / one.step_s:.2f}"
        f" overhead_ratio_2w={(2 * two.wall_s - two.step_s) / two.step_s:.2f}"
        f" videos_per_min_1w={one.videos / one.wall_s * 60:.2f}"
        f" videos_per_min_2w={two.videos / two.wall_s * 60:.2f}"
        f" failed_runs={one.failed_runs + two.failed_runs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["b"], required=True, help="b: a backfill on Celery workers")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--dates", type=int, default=2)
    parser.add_argument("--videos-per-day", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    print(part_b(args))


if __name__ == "__main__":
    main()
