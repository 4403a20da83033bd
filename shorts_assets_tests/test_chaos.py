"""Runs of one partition started together and killed at random points leave every side effect
exactly once, on SQLite and on PostgreSQL: no second upload, no second paid job, no lost snapshot, no
half-written file, no ffmpeg left behind, no row stuck mid-way (benchmarks/chaos_bench.py runs the
same harness longer)."""

from datetime import date

import pytest

from shorts_assets.fakes.chaos import Chaos

pytestmark = pytest.mark.slow


def test_concurrent_and_killed_runs_leave_every_side_effect_once(tmp_path, database_url):
    with Chaos(tmp_path, database_url, date(2026, 11, 20), videos_per_day=2, seed=7) as chaos:
        report = chaos.run(runs=3, kills=1, concurrency=2, max_kill_after_s=15.0)
    assert report.kills == 1
    assert report.succeeded >= 1
    assert report.counts == {
        "duplicate_posts": 0,
        "duplicate_paid_jobs": 0,
        "lost_snapshots": 0,
        "orphans": 0,
        "leftover_processes": 0,
        "stuck_rows": 0,
    }
    assert chaos.youtube.created_videos == 2  # both videos of the batch were posted, once each
