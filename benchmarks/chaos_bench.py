"""Runs of one partition started together, killed at random points, then counted for side effects.

Every count after `runs` and `kills` must be 0: each video uploaded once, each scene's paid job made
once, no snapshot lost, no half-written file or orphaned work folder, no ffmpeg left running, no row
stuck in a transient state. Each run is the README's `dg launch --job shorts_loop_job --partition …` in a
process and a Dagster instance of its own; the application database is shared: SQLite by default,
or PostgreSQL with `--postgres URL` (a server URL; a fresh database is made there and dropped).

    .venv/bin/python benchmarks/chaos_bench.py --runs 20 --kills 10
    .venv/bin/python benchmarks/chaos_bench.py --runs 20 --kills 10 --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shorts_assets.fakes.chaos import Chaos  # noqa: E402


@contextmanager
def database(root: Path, postgres: str | None):
    if not postgres:
        yield f"sqlite:///{root / 'shorts.db'}"
        return
    name = f"shorts_chaos_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=2, help="runs of the partition started together")
    parser.add_argument("--videos-per-day", type=int, default=2)
    parser.add_argument("--max-kill-after", type=float, default=25.0, help="latest kill, seconds after start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL for the application database")
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chaos-bench-") as tmp:
        root = Path(tmp)
        with database(root, args.postgres) as url:
            with Chaos(root, url, date(2026, 11, 20), videos_per_day=args.videos_per_day, seed=args.seed) as chaos:
                report = chaos.run(
                    runs=args.runs, kills=args.kills, concurrency=args.concurrency, max_kill_after_s=args.max_kill_after
                )
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"backend {backend}: {report.runs} runs ({report.succeeded} finished), {report.kills} kills, "
          f"wall {time.perf_counter() - started:.0f} s")  # fmt: skip
    print("killed in: " + ", ".join(f"{step} {n}" for step, n in sorted(report.killed_in.items())))
    print(report.result_line())


if __name__ == "__main__":
    main()
