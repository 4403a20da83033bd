"""The strategy report of one channel living through a shift of its audience's taste, without rendering.

The shipped learning step (as in ``strategy_bench.py``: the engine, its A/B experiments and the
simulated platforms' metrics) runs one seed of the shifting audience for `--days` days, and the
strategy report (``learning.report``: markdown and PNG) is written for the last day with the
allocation of every day in its plot, so the topic the audience turned to can be seen taking over
after the shift. The markdown names the shift day and the topics it moved.

    .venv/bin/python benchmarks/shift_report.py --seed 3 --days 90 --out reports/shift
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zlib
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strategy_bench import START, WINDOW_DAYS, Engine, post, snapshot_dict  # noqa: E402

from shorts_assets.core.arms import ARM_SPACE  # noqa: E402
from shorts_assets.core.types import PLATFORMS  # noqa: E402
from shorts_assets.learning import Observation, signals  # noqa: E402
from shorts_assets.learning.report import markdown, plot  # noqa: E402
from shorts_assets.providers.platforms.audience import AudiencePreferences, SimulatedAudience  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--videos-per-day", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("reports/shift"))
    args = parser.parse_args()

    preferences = AudiencePreferences.from_seed(args.seed, "shifting")
    engine = Engine(args.seed, True, preferences.effects)
    history: list[tuple[str, dict]] = []
    posts: list[list] = []
    with tempfile.TemporaryDirectory(prefix="shift-report-") as tmp:
        audience = SimulatedAudience(Path(tmp), args.seed, "shifting")
        rng = np.random.default_rng([args.seed, zlib.crc32(b"engine")])
        for d in range(args.days):
            day = START + timedelta(days=d)
            today = []
            for i, arms in enumerate(engine.choose(d, args.videos_per_day, rng)):
                video_id = f"s{args.seed}-{day:%Y%m%d}-{i:02d}"
                today += [(post(Path(tmp), "engine", p, video_id, arms, day), arms) for p in PLATFORMS]
            posts.append(today)
            now = datetime.combine(day, dtime(23, 30), tzinfo=timezone.utc)
            observations = []
            for cohort in posts[max(0, d - WINDOW_DAYS + 1) : d + 1]:
                for (publication, arms), s in zip(cohort, audience.fetch_metrics([p for p, _ in cohort], now)):
                    observations.append(
                        Observation(
                            f"{publication.video_id}|{publication.platform}",
                            arms,
                            signals(snapshot_dict(s)),
                            publication.published_at.date().isoformat(),
                        )
                    )
            engine.observe(d, observations)
            history.append((day.isoformat(), engine.allocation))
    decision_effects = engine.last.decision.effects(ARM_SPACE)
    args.out.mkdir(parents=True, exist_ok=True)
    last = history[-1][0]
    image = plot(args.out / f"{last}.png", history, decision_effects, f"shifting audience, seed {args.seed}")
    shift = ", ".join(f"{t} {v:+.1f}" for t, v in preferences.shift.items())
    text = markdown("shifting", last, engine.allocation, decision_effects, engine.last.decision.lacking, {}, None)
    before = history[min(len(history), (preferences.shift_on - START).days) - 1][1]["topic"]
    after = history[-1][1]["topic"]
    text += (
        f"\n\n**The shift:** on {preferences.shift_on} the audience's taste for topics moved ({shift}). "
        f"Topic shares the day before: {', '.join(f'{t} {s:.0%}' for t, s in before.items())}; "
        f"on the last day: {', '.join(f'{t} {s:.0%}' for t, s in after.items())}.\n"
    )
    (args.out / f"{last}.md").write_text(text, encoding="utf-8")
    print(f"report {args.out / f'{last}.md'} plot {image}")
    print(
        f"RESULT shift_on={preferences.shift_on} topic_before={max(before, key=before.get)} "
        f"topic_after={max(after, key=after.get)} days={args.days}"
    )


if __name__ == "__main__":
    main()
