"""How big the carried learning state grows and how long a decision takes, at a long history.

A channel makes `--videos-per-day` videos a day, each posted on the three platforms, until it has
`--observations` (video, platform) observations. Every `--merge-every` days the shipped learning
step's merge is given the cohorts made since the last merge, with the trailing week's (as the
strategy asset re-reads them), and the state it returns is carried on through JSON, as the
database stores it. At the end the strategy row (the
state, the allocation and the decision's effects, as JSON) is measured, and ``decide`` on that
state is timed (the best of three, wall and processor time).

    .venv/bin/python benchmarks/state_bench.py --observations 100000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shorts_assets.core.arms import ARM_SPACE  # noqa: E402
from shorts_assets.core.types import PLATFORMS  # noqa: E402
from shorts_assets.learning import Observation, decide, merge, signals  # noqa: E402
from shorts_assets.learning.bandit import choose_arms, uniform_allocation  # noqa: E402

START = date(2020, 1, 1)
WINDOW_DAYS = 7


def cohort(day: int, per_day: int, allocation, rng: np.random.Generator, effects) -> list[Observation]:
    batch = (START + timedelta(days=day)).isoformat()
    out = []
    for i in range(per_day):
        arms = choose_arms(allocation, ARM_SPACE, rng)
        luck = rng.normal(0, 0.3)
        for platform in PLATFORMS:
            quality = sum(effects[d].get(v, 0.0) for d, v in arms.items() if d in effects) + luck
            views = int(2000 * np.exp(quality + rng.normal(0, 0.5)))
            snapshot = {
                "platform": platform,
                "age_hours": 24.0 * 7,
                "views": views,
                "likes": int(views * 0.04 * np.exp(0.6 * quality)),
                "comments": int(views * 0.003),
                "shares": int(views * 0.004),
                "avg_view_pct": float(100 / (1 + np.exp(-(0.4 + 0.8 * quality)))),
            }
            out.append(Observation(f"v{day}-{i}|{platform}", arms, signals(snapshot), batch))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--videos-per-day", type=int, default=10)
    parser.add_argument("--merge-every", type=int, default=7, help="days between merges (1: daily, slow)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    effects = {d: dict(zip(values, rng.normal(0, 0.3, len(values)))) for d, values in ARM_SPACE.items()}
    per_day = args.videos_per_day
    days = -(-args.observations // (per_day * len(PLATFORMS)))
    allocation = uniform_allocation(ARM_SPACE)
    state: dict = {}
    cohorts: list[list[Observation]] = []
    started = time.perf_counter()
    for day in range(days):
        made = cohort(day, per_day, allocation, rng, effects)
        cohorts.append(made[: args.observations - day * per_day * len(PLATFORMS)])  # exactly that many in all
        if day % args.merge_every and day != days - 1:
            continue
        window = [o for c in cohorts[-(WINDOW_DAYS + args.merge_every) :] for o in c]
        state = json.loads(json.dumps(merge(state, window)))  # carried as the database carries it
        cohorts = cohorts[-WINDOW_DAYS:]
        if day % 30 == 29:  # a decision now and then, so the allocation the videos follow moves on
            allocation = decide(state, ARM_SPACE, 0.1, seed=day).allocation
    merging = time.perf_counter() - started

    timings, cpu = [], []
    for n in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        decision = decide(state, ARM_SPACE, 0.1, seed=n)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    row = {"state": state, "allocation": decision.allocation, "effects": decision.effects(ARM_SPACE)}
    row_kb = len(json.dumps(row).encode()) / 1024
    observations = decision.posterior.observations
    print(f"days={days} videos_per_day={per_day} merging_s={merging:.1f} window={len(state['observations'])}")
    print(f"state_kb={len(json.dumps(state).encode()) / 1024:.1f} features={len(decision.posterior.features)}")
    # the processor time beside the wall time: on a shared machine the wall time is mostly waiting for a core
    print(
        f"RESULT decide_s={min(timings):.3f} decide_cpu_s={min(cpu):.3f} row_kb={row_kb:.1f} "
        f"observations={observations}"
    )


if __name__ == "__main__":
    main()
