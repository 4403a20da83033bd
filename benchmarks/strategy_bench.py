"""Compare the strategy engine with simple policies against the simulated audience, without rendering.

For each audience seed, four policies each make N videos a day for D days, every video posted on
the three platforms. The posts are real simulated-platform manifests (one outbox account per
policy, the same video ids and post ids across policies, so every policy meets the same luck) and
their metrics come from ``SimulatedAudience.fetch_metrics``. Metrics arrive as they would in the
loop: at the end of each day the policy reads its last seven days' cohorts at their current age
(a few hours to six days), then picks the next day's arms.

- engine: the shipped learning step (``loop.strategy.learn``, the one the strategy asset runs):
  its learning state, Bayesian model and Thompson allocation (ε = 0.1), steered by its A/B
  experiments (``--no-experiments`` leaves them out);
- heuristic: 70 % the best-known recipe (the full arm combination with the highest mean reward
  so far), 30 % a random recipe;
- random: every arm uniformly at random;
- oracle: always the arm combination with the highest hidden expected reward. Quality is additive
  in the arms and every signal rises with quality, so that is the combination of best arms.

Every video is scored with the engine's reward on its 7-day snapshots, against one yardstick per
seed (the per-platform reference of the random policy's videos), and each policy's mean reward over
the last 14 days is reported as a percentage of the oracle's.

    .venv/bin/python benchmarks/strategy_bench.py --seeds 5 --days 60 --videos-per-day 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shorts_assets.core.arms import ARM_SPACE, platform_arms  # noqa: E402
from shorts_assets.core.types import PLATFORMS, Publication
from shorts_assets.learning import Observation, Reference, choose_arms, score, signals  # noqa: E402
from shorts_assets.learning.experiments import ENDED, Experiment  # noqa: E402
from shorts_assets.loop.strategy import MemoryLedger, learn  # noqa: E402
from shorts_assets.providers.platforms.audience import PROFILES, AudiencePreferences, SimulatedAudience  # noqa: E402

START = date(2026, 1, 1)
WINDOW_DAYS = 7
EVAL_AGE = timedelta(days=7)
EXPLORATION = 0.1


class Policy:
    name = "policy"

    def choose(self, day: int, n: int, rng: np.random.Generator) -> list[dict[str, str]]:
        raise NotImplementedError

    def observe(self, day: int, observations: list[Observation]) -> None:
        pass


class Engine(Policy):
    name = "engine"

    def __init__(self, seed: int, experiments: bool = True, effects: dict[str, dict[str, float]] | None = None):
        self.seed = seed
        self.effects = effects or {}  # the audience's hidden effects, only to score the experiments' verdicts
        self.state: dict[str, Any] = {}
        self.allocation: dict[str, dict[str, float]] | None = None
        self.ledger = MemoryLedger() if experiments else None

    @property
    def experiments(self) -> list[Experiment]:
        return self.ledger.kept if self.ledger else []

    def observe(self, day, observations):
        learned = learn(
            self.state,
            observations,
            ARM_SPACE,
            EXPLORATION,
            seed=zlib.crc32(f"{self.seed}|{day}".encode()),
            channel="bench",
            today=START + timedelta(days=day),
            ledger=self.ledger,
        )
        self.state, self.allocation, self.last = learned.state, learned.allocation, learned

    def experiment_counts(self) -> dict[str, int]:
        return {
            "opened": len(self.experiments),
            "decided": sum(e.status == "decided" for e in self.experiments),
            "stopped": sum(e.status == "stopped" for e in self.experiments),
            # the winner kept is the one of the two the audience truly prefers
            "right": sum(
                e.status in ENDED
                and e.winner is not None
                and e.winner == max((e.arm_a, e.arm_b), key=self.effects.get(e.dimension, {}).get)
                for e in self.experiments
            ),
        }

    def choose(self, day, n, rng):
        if self.allocation is None:
            return [{d: str(rng.choice(v)) for d, v in ARM_SPACE.items()} for _ in range(n)]
        return [choose_arms(self.allocation, ARM_SPACE, rng) for _ in range(n)]


class Heuristic(Policy):
    name = "heuristic"

    def __init__(self):
        self.latest: dict[str, Observation] = {}

    def observe(self, day, observations):
        for obs in observations:
            self.latest[obs.key] = obs

    def best_recipe(self) -> dict[str, str] | None:
        reference = Reference.from_signals(o.signals for o in self.latest.values())
        totals: dict[tuple, list[float]] = {}
        for obs in self.latest.values():
            value = score(obs.signals, reference)
            if value is None:
                continue
            recipe = tuple(sorted(obs.arms.items()))
            totals.setdefault(recipe, []).append(value)
        if not totals:
            return None
        return dict(max(totals, key=lambda r: sum(totals[r]) / len(totals[r])))

    def choose(self, day, n, rng):
        best = self.best_recipe()
        out = []
        for _ in range(n):
            if best is not None and rng.random() < 0.7:
                out.append(dict(best))
            else:
                out.append({d: str(rng.choice(v)) for d, v in ARM_SPACE.items()})
        return out


class Random(Policy):
    name = "random"

    def choose(self, day, n, rng):
        return [{d: str(rng.choice(v)) for d, v in ARM_SPACE.items()} for _ in range(n)]


class Oracle(Policy):
    name = "oracle"

    def __init__(self, preferences: AudiencePreferences):
        self.preferences = preferences
        self.best: dict[date, dict[str, str]] = {}

    def choose(self, day, n, rng):
        on = START + timedelta(days=day)
        key = on if self.preferences.shift_on and on >= self.preferences.shift_on else START
        if key not in self.best:
            self.best[key] = self.preferences.best_arms(on=key)
        return [dict(self.best[key]) for _ in range(n)]


def post(outbox: Path, account: str, platform: str, video_id: str, arms: dict[str, str], day: date) -> Publication:
    remote_id = f"{platform[:2]}{zlib.crc32(video_id.encode()):08x}"
    hour = platform_arms(arms, platform)["posting_hour"]  # the platform's own hour, where the video has one
    published_at = datetime.combine(day, dtime(int(hour)), tzinfo=timezone.utc)
    folder = outbox / platform / account / remote_id
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "platform": platform,
        "account": account,
        "video_id": video_id,
        "remote_id": remote_id,
        "url": f"https://example.invalid/{remote_id}",
        "published_at": published_at.isoformat(),
        "duration_s": 30.0,
        "features": arms,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return Publication(platform, account, video_id, remote_id, manifest["url"], published_at)


def snapshot_dict(s) -> dict[str, Any]:
    return {
        "platform": s.platform,
        "window": s.window,
        "age_hours": s.age_hours,
        "views": s.views,
        "likes": s.likes,
        "comments": s.comments,
        "shares": s.shares,
        "avg_view_pct": s.avg_view_pct,
    }


@dataclass
class SeedResult:
    rewards: dict[str, list[list[float]]]  # policy -> day -> the 7-day rewards of that day's posts
    arms: dict[str, list[list[dict[str, str]]]]  # policy -> day -> the arms of that day's videos
    experiments: dict[str, int]
    preferences: AudiencePreferences


def run_seed(
    seed: int, days: int, per_day: int, outbox: Path, experiments: bool = True, profile: str = "additive"
) -> SeedResult:
    """Every policy over `days` days against one seeded audience."""
    preferences = AudiencePreferences.from_seed(seed, profile)
    audience = SimulatedAudience(outbox, seed, profile)
    engine = Engine(seed, experiments, preferences.effects)
    policies: list[Policy] = [engine, Heuristic(), Random(), Oracle(preferences)]
    posts: dict[str, list[list[tuple[Publication, dict[str, str]]]]] = {p.name: [] for p in policies}
    chosen: dict[str, list[list[dict[str, str]]]] = {p.name: [] for p in policies}
    for policy in policies:
        rng = np.random.default_rng([seed, zlib.crc32(policy.name.encode())])
        for d in range(days):
            day = START + timedelta(days=d)
            today = []
            picks = policy.choose(d, per_day, rng)
            chosen[policy.name].append(picks)
            for i, arms in enumerate(picks):
                video_id = f"s{seed}-{day:%Y%m%d}-{i:02d}"
                for platform in PLATFORMS:
                    today.append((post(outbox, policy.name, platform, video_id, arms, day), arms))
            posts[policy.name].append(today)
            now = datetime.combine(day, dtime(23, 30), tzinfo=timezone.utc)
            observations = []
            for cohort in posts[policy.name][max(0, d - WINDOW_DAYS + 1) : d + 1]:
                snapshots = audience.fetch_metrics([p for p, _ in cohort], now)
                for (publication, arms), s in zip(cohort, snapshots):
                    observations.append(
                        Observation(
                            key=f"{publication.video_id}|{publication.platform}",
                            arms=arms,
                            signals=signals(snapshot_dict(s)),
                            batch_date=publication.published_at.date().isoformat(),
                        )
                    )
            policy.observe(d, observations)

    matured: dict[str, list[list[Any]]] = {}
    for name, by_day in posts.items():
        matured[name] = [
            [signals(snapshot_dict(audience.fetch_metrics([p], p.published_at + EVAL_AGE)[0])) for p, _ in cohort]
            for cohort in by_day
        ]
    yardstick = Reference.from_signals(s for cohort in matured["random"] for s in cohort)
    scored = {
        name: [[score(s, yardstick) or 0.0 for s in cohort] for cohort in by_day] for name, by_day in matured.items()
    }
    return SeedResult(scored, chosen, engine.experiment_counts(), preferences)


def normalised(result: SeedResult, window: range) -> dict[str, float]:
    """Per policy: 100 × (its videos' true expected quality − random's) / (the oracle's − random's),
    each day's random and oracle taken exactly over every combination of arms."""
    prefs = result.preferences
    bounds: dict[bool, tuple[float, float]] = {}
    scores: dict[str, list[float]] = {name: [] for name in result.arms}
    for d in window:
        on = START + timedelta(days=d)
        shifted = bool(prefs.shift_on and on >= prefs.shift_on)
        if shifted not in bounds:
            ranked = prefs.ranked_recipes(on)
            # the oracle may post at each platform's own best hour, as the engine may
            bounds[shifted] = (
                float(np.mean([q for q, _ in ranked])),
                prefs.expected_quality(prefs.best_arms(on), None, on),
            )
        random_q, oracle_q = bounds[shifted]
        for name, by_day in result.arms.items():
            for arms in by_day[d]:
                scores[name].append(100.0 * (prefs.expected_quality(arms, None, on) - random_q) / (oracle_q - random_q))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", choices=PROFILES, default="additive", help="the simulated audience's profile")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--videos-per-day", type=int, default=3)
    parser.add_argument("--last", type=int, default=14, help="days the score is averaged over")
    parser.add_argument("--no-experiments", action="store_true", help="the engine without its A/B experiments")
    args = parser.parse_args()

    started = time.perf_counter()
    pct: dict[str, list[float]] = {"engine": [], "heuristic": [], "random": []}
    pre: dict[str, list[float]] = {"engine": [], "heuristic": []}
    post: dict[str, list[float]] = {"engine": [], "heuristic": []}
    wins = 0
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with tempfile.TemporaryDirectory(prefix="strategy-bench-") as tmp:
        for seed in seeds:
            result = run_seed(
                seed, args.days, args.videos_per_day, Path(tmp) / f"seed{seed}", not args.no_experiments, args.audience
            )
            rewards = result.rewards
            last = {n: float(np.mean([r for c in by_day[-args.last :] for r in c])) for n, by_day in rewards.items()}
            for name in pct:
                pct[name].append(100.0 * last[name] / last["oracle"])
            # Before the shift: the 14 days that end the day before it (mid-run for an audience that never shifts).
            shift_day = (result.preferences.shift_on - START).days if result.preferences.shift_on else args.days // 2
            before = normalised(result, range(max(0, shift_day - args.last), min(shift_day, args.days)))
            after = normalised(result, range(max(0, args.days - args.last), args.days))
            for name in pre:
                pre[name].append(before[name])
                post[name].append(after[name])
            wins += after["engine"] > after["heuristic"]
            print(
                f"seed {seed}: normalised score before the shift (day {shift_day}) engine={before['engine']:.1f} "
                f"heuristic={before['heuristic']:.1f}, last {args.last} days engine={after['engine']:.1f} "
                f"heuristic={after['heuristic']:.1f} | mean reward last {args.last} days "
                + "  ".join(f"{n}={v:.3f}" for n, v in last.items())
                + " | experiments "
                + " ".join(f"{k}={v}" for k, v in result.experiments.items()),
                flush=True,
            )
    for name, values in pct.items():
        print(f"{name}: % of the oracle's reward per seed " + " ".join(f"{v:.1f}" for v in values))
    print(
        f"reward view: engine_pct_oracle={np.mean(pct['engine']):.1f} heuristic_pct_oracle={np.mean(pct['heuristic']):.1f} "
        f"random_pct_oracle={np.mean(pct['random']):.1f} engine_beats_heuristic={wins}/{len(seeds)}"
    )
    print(f"wall {time.perf_counter() - started:.1f} s")
    worst = min(min(a, b) for a, b in zip(pre["engine"], post["engine"]))
    print(
        f"RESULT profile={args.audience} engine_pre={np.mean(pre['engine']):.1f} engine_post={np.mean(post['engine']):.1f} "
        f"engine_worst={worst:.1f} heuristic_post={np.mean(post['heuristic']):.1f} seeds={len(seeds)}"
    )


if __name__ == "__main__":
    main()
