"""Backfill shorts_loop_job over consecutive dates in simulation and measure what the strategy learned.

Runs the real job, partition by partition in date order (as a backfill does), in a temporary data
root with its own SQLite database and Dagster instance. Reports the share of videos whose arms are
the simulated audience's preferred ones, over the first and the last dates, and the strategy's
allocation to those arms, plus the wall time split into render and the rest.

    .venv/bin/python benchmarks/learning_bench.py --days 10 --videos-per-day 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--videos-per-day", type=int, default=3)
    parser.add_argument("--end", default=(date.today() - timedelta(days=1)).isoformat(), help="last date")
    parser.add_argument("--edge", type=int, default=3, help="dates averaged at each end")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="learning-bench-"))
    channels = root / "channels.json"
    channels.write_text(json.dumps({"channels": [{"name": "demo", "videos_per_day": args.videos_per_day}]}))
    os.environ.update({"SHORTS_DATA_DIR": str(root / "data"), "SHORTS_CHANNELS_FILE": str(channels)})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SHORTS_CHANNELS", None)

    import dagster as dg

    from shorts_assets.db.store import Store
    from shorts_assets.definitions import defs
    from shorts_assets.providers.platforms.audience import AudiencePreferences
    from shorts_assets.settings import load_settings

    settings = load_settings()
    channel = settings.channel("demo")
    best = AudiencePreferences.from_seed(channel.audience_seed).best_arms()
    job = defs().resolve_job_def("shorts_loop_job")
    end = date.fromisoformat(args.end)
    days = [end - timedelta(days=i) for i in reversed(range(args.days))]

    render_s = total_s = 0.0
    (root / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
        for day in days:
            started = time.perf_counter()
            result = job.execute_in_process(
                partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}), instance=instance
            )
            total_s += time.perf_counter() - started
            if not result.success:
                sys.exit(f"{day}: the loop failed")
            for stats in instance.get_run_step_stats(result.run_id):
                if stats.step_key == "renders" and stats.end_time and stats.start_time:
                    render_s += stats.end_time - stats.start_time
            print(f"{day}: done in {time.perf_counter() - started:.1f} s", flush=True)

    store = Store(settings.database_url)

    def best_share(batch_days: list[date]) -> tuple[float, float]:
        rows = [r for d in batch_days for r in store.batch("demo", d)]
        per_dimension = [sum(r.arms[k] == v for r in rows) / len(rows) for k, v in best.items()]
        topic = sum(r.arms["topic"] == best["topic"] for r in rows) / len(rows)
        return sum(per_dimension) / len(per_dimension), topic

    def allocation_to_best(day: date) -> float:
        strategy = store.latest_strategy("demo", on=day)
        return sum(strategy.allocation[k][v] for k, v in best.items()) / len(best)

    first_all, first_topic = best_share(days[: args.edge])
    last_all, last_topic = best_share(days[-args.edge :])
    print(f"audience's preferred arms (hidden from the engine): {best}")
    print(
        f"share of arms on the preferred value, first {args.edge} dates: {first_all:.2f}  last {args.edge}: {last_all:.2f}"
    )
    print(f"share of videos on the preferred topic, first: {first_topic:.2f}  last: {last_topic:.2f}")
    print(
        f"strategy allocation to preferred arms, day 1: {allocation_to_best(days[0]):.2f}  last day: {allocation_to_best(days[-1]):.2f}"
    )
    print(f"data root: {root}")
    print(
        f"RESULT days={args.days} videos_per_day={args.videos_per_day} best_arm_share_first={first_all:.3f} "
        f"best_arm_share_last={last_all:.3f} best_topic_share_first={first_topic:.3f} best_topic_share_last={last_topic:.3f} "
        f"allocation_first={allocation_to_best(days[0]):.3f} allocation_last={allocation_to_best(days[-1]):.3f} "
        f"wall_s={total_s:.1f} render_s={render_s:.1f} rest_s={total_s - render_s:.1f}"
    )


if __name__ == "__main__":
    main()
