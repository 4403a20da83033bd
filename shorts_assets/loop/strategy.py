"""The strategy update: what a channel makes next, learned from its trailing cohorts and its previous date.

The learning state carried from one date to the next is of bounded size (see learning.state): the
trailing week's observations whole, re-read every day because they are still maturing, and the
decayed sufficient statistics of everything older. The decision is
Thompson sampling over a Bayesian model of the arms' effects, shrunk toward the effects the other
channels in the database have learned, steered by the channel's A/B experiments (a dimension under
test is split evenly between its two contenders; a decided winner is promoted). The summary carries
hints for the script writer (best and worst recent videos, requested topics, winning arms). When the
writer is a language model, a topic enough viewers ask for in the comments joins the channel's topic
pool as a new arm (a few at a time), learned like the others from then on. A report (markdown and a
PNG) is written under the report root, and beside it, once there are enough observations to fit it,
the reward model of arms and script text, whose path the summary records so that the next batch's
scripts can be ranked with it.

``learn`` is the step every caller shares (the strategy asset, and the benchmark that measures it):
merge the new observations, decide, plan the experiments and record them in a ledger.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.db.reviews import ReviewStore
from shorts_assets.db.store import Store
from shorts_assets.learning import Observation, decide, merge, rows_of, signals
from shorts_assets.learning.experiments import RUNNING, Experiment, Plan, plan
from shorts_assets.learning.hints import HINT_DAYS, rejection_hints, winning_arms, writer_hints
from shorts_assets.learning.model import ModelReport, rank_recipes, save_model
from shorts_assets.learning.policy import MIN_WEIGHT_TO_LEARN, Decision
from shorts_assets.learning.report import markdown, plot
from shorts_assets.learning.state import read
from shorts_assets.learning.text import adopt_requested_topics, analyse
from shorts_assets.loop.batch import Log

# metrics and comments cohorts that a strategy update reads: the trailing week, today included.
LEARNING_WINDOW_DAYS = 7
REPORT_HISTORY_DAYS = 60


class ExperimentLedger(Protocol):
    """Where a channel's experiments are kept between dates."""

    def experiments(self, through: date) -> list[Experiment]: ...

    def record(self, result: Plan) -> Plan:
        """Keep what the plan changed; return it with the opened experiments as recorded (with ids)."""


@dataclass
class MemoryLedger:
    """Experiments kept in memory, numbered as they open (for simulations and benchmarks)."""

    kept: list[Experiment] = field(default_factory=list)

    def experiments(self, through: date) -> list[Experiment]:
        return [e for e in self.kept if e.started_on <= through]

    def record(self, result: Plan) -> Plan:
        opened = [replace(e, id=len(self.kept) + i + 1) for i, e in enumerate(result.opened)]
        self.kept = [e for e in result.experiments if e.id is not None] + opened
        result.experiments, result.opened = list(self.kept), opened
        return result


@dataclass
class StoreLedger:
    """A channel's experiments in the application database; what changes is logged."""

    store: Store
    channel: str
    log: Log

    def experiments(self, through: date) -> list[Experiment]:
        return [Experiment.of(row) for row in self.store.experiments(self.channel, started_through=through)]

    def record(self, result: Plan) -> Plan:
        for e in result.updated:
            self.store.update_experiment(e.id, p_superiority=e.p_superiority, videos_a=e.videos_a, videos_b=e.videos_b)
        for e in result.ended:
            self.store.record_experiment_decision(
                e.id,
                status=e.status,
                decided_on=e.decided_on,
                winner=e.winner,
                p_superiority=e.p_superiority,
                videos_a=e.videos_a,
                videos_b=e.videos_b,
                reason=e.reason or "",
            )
            self.log.info(f"{self.channel}: experiment on {e.dimension} {e.status}: {e.reason}")
        opened = []
        for e in result.opened:
            row = self.store.create_experiment(
                channel=self.channel, dimension=e.dimension, arm_a=e.arm_a, arm_b=e.arm_b, started_on=e.started_on
            )
            opened.append(Experiment.of(row))
            self.log.info(f"{self.channel}: experiment opened on {e.dimension}: {e.arm_a} vs {e.arm_b}")
        result.experiments = [e for e in result.experiments if e.id is not None] + opened
        result.opened = opened
        return result


@dataclass
class Learned:
    """One learning step: the merged state, the decision, and the experiments' plan (None without a ledger)."""

    state: dict[str, Any]
    decision: Decision
    plan: Plan | None

    @property
    def allocation(self) -> dict[str, dict[str, float]]:
        return self.plan.allocation if self.plan is not None else self.decision.allocation


def learn(
    previous_state: Mapping[str, Any],
    observations: Sequence[Observation],
    arm_space: Mapping[str, Sequence[str]],
    exploration: float,
    *,
    seed: int,
    channel: str,
    today: date,
    ledger: ExperimentLedger | None,
    others: Sequence[Mapping[str, Any]] = (),
) -> Learned:
    """Merge `observations` into the state, decide the next allocation and steer it by the experiments."""
    state = merge(previous_state, observations, window_days=LEARNING_WINDOW_DAYS)
    decision = decide(state, arm_space, exploration, seed=seed, others=list(others))
    if ledger is None:
        return Learned(state, decision, None)
    result = plan(
        ledger.experiments(today),
        channel=channel,
        today=today,
        state=state,
        posterior=decision.posterior,
        p_best=decision.p_best,
        allocation=decision.allocation,
        arm_space=arm_space,
        exploration=exploration,
    )
    return Learned(state, decision, ledger.record(result))


@dataclass
class StrategyUpdate:
    """What a strategy update decided and wrote, for the asset's report."""

    version: str
    summary: dict[str, Any]
    learned: Learned
    effects: dict[str, dict[str, dict[str, float]]]
    model: ModelReport
    model_file: Path | None
    skipped: Counter
    new_observations: int
    shown_experiments: list[dict[str, Any]]
    adopted_topics: list[str]
    candidate_topics: dict[str, int]
    report: str
    image: Path


def _observations(
    store: Store, channel: str, day: date, previous_state: Mapping[str, Any]
) -> tuple[list[Observation], Counter, dict[str, Any]]:
    """New or refreshed observations: every video of the trailing window, and older ones the state has
    neither held nor folded (a gap in the dates)."""
    carried = read(previous_state)
    known = {key.split("|")[0] for key in carried.window}
    window_start = day - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    folded_through = carried.folded_through
    videos = store.channel_video_arms(channel, through=day)
    refresh = [
        video_id
        for video_id, info in videos.items()
        if info["batch_date"] >= window_start
        or (video_id not in known and (folded_through is None or info["batch_date"] > folded_through))
    ]
    observations, skipped = [], Counter()
    for snapshot in store.latest_snapshots(refresh):
        read_signals = signals(snapshot)
        if read_signals.skipped:
            skipped[read_signals.skipped] += 1
            continue
        info = videos[snapshot["video_id"]]
        observations.append(
            Observation(
                key=f"{snapshot['video_id']}|{snapshot['platform']}",
                arms=info["arms"],
                signals=read_signals,
                batch_date=info["batch_date"].isoformat(),
                forced=tuple(info.get("forced_arms") or ()),
            )
        )
    return observations, skipped, videos


def update_strategy(
    log: Log,
    store: Store,
    channel: ChannelConfig,
    day: date,
    *,
    report_root: Path,
    writes_any_topic: bool,
    run_id: str | None = None,
) -> StrategyUpdate:
    """Learn from the channel's cohorts up to `day`, save the strategy row, the model and the report.

    `run_id` names the run: saving again in the same run returns the version it already saved.
    """
    arm_space = channel.arm_space()
    previous = store.latest_strategy(channel.name, before=day)
    adopted_topics = list(previous.summary.get("adopted_topics", [])) if previous else []
    previous_state = previous.state if previous else {}
    observations, skipped, videos = _observations(store, channel.name, day, previous_state)

    window_start = day - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    window_videos = sorted(v for v, info in videos.items() if info["batch_date"] >= window_start)
    insights = analyse(c["text"] for c in store.comments_for(window_videos))
    if writes_any_topic:
        adopted_topics = adopt_requested_topics(adopted_topics, insights.requests, arm_space["topic"])
        arm_space = {**arm_space, "topic": (*arm_space["topic"], *adopted_topics)}

    others = [
        row.summary["effects_centred"]
        for row in store.latest_strategies(before=day, exclude=channel.name)
        if row.summary.get("observations") and row.summary.get("effects_centred")
    ]
    learned = learn(
        previous_state,
        observations,
        arm_space,
        channel.exploration,
        seed=zlib.crc32(f"{channel.name}|{day}".encode()),
        channel=channel.name,
        today=day,
        ledger=StoreLedger(store, channel.name, log),
        others=others,
    )
    state, decision, experiments = learned.state, learned.decision, learned.plan
    assert experiments is not None
    allocation = learned.allocation
    effects = decision.effects(arm_space)
    scripts = store.scripts_for(sorted({key.split("|")[0] for key in state["observations"]}))  # the window
    model = rank_recipes(
        rows_of(state, decision.reference), arm_space, seed=zlib.crc32(channel.name.encode()), scripts=scripts
    )
    report_dir = report_root / channel.name
    model_file = _keep_model(model, report_dir / f"{day.isoformat()}.model.joblib")

    known_topics = {t.replace("_", " ") for t in arm_space["topic"]}
    candidate_topics = {t: n for t, n in insights.requests.most_common(10) if t not in known_topics}

    rejections = _rejections(store, channel.name, day)
    shown_experiments = [
        e.to_json()
        for e in experiments.experiments
        if e.status == RUNNING or e.decided_on is None or (day - e.decided_on).days < REPORT_HISTORY_DAYS
    ]
    summary = {
        "previous_version": previous.version if previous else None,
        "observations": read(state).observation_count(),
        "new_or_refreshed": len(observations),
        "skipped_snapshots": dict(skipped),
        "exploration": channel.exploration,
        "posterior": effects,
        "p_best": {d: {v: round(p, 4) for v, p in ps.items()} for d, ps in decision.p_best.items()},
        "effects_centred": decision.posterior.centred_effects(arm_space),
        "noise_sd": round(decision.posterior.noise_sd, 4),
        "pooled_from_channels": decision.pooled_from,
        "reference": decision.reference.to_json(),
        "lacking": decision.lacking,
        "model": model.to_json(),
        "candidate_topics": candidate_topics,
        "requested_topics": list(candidate_topics),
        "adopted_topics": adopted_topics,
        "experiments": shown_experiments,
        "promotions": experiments.promotions,
        "hints": writer_hints(
            state,
            scripts,
            reference=decision.reference,
            today=day,
            requested_topics=list(candidate_topics),
            winning=winning_arms(
                decision.p_best,
                experiments.winning_arms(),
                learned=decision.posterior.weight >= MIN_WEIGHT_TO_LEARN,
                under_test=[e.dimension for e in experiments.running()],
            ),
            rejected=rejection_hints(reversed(rejections), store.scripts_for([r["video_id"] for r in rejections])),
        ),
        # Rejected videos are never published, so they add no observation: excluded from the reward,
        # their reasons reach the writer (see README, "Review before publishing").
        "rejections": rejections,
    }
    if model_file is not None:
        summary["model_path"] = str(model_file)
    version = store.save_strategy(
        channel=channel.name,
        strategy_date=day,
        videos_per_day=channel.videos_per_day,
        allocation=allocation,
        state=state,
        summary=summary,
        run_id=run_id,
    )
    for item in decision.lacking:
        log.info(f"{channel.name}: {item}")
    if skipped:
        log.info(f"{channel.name}: snapshots skipped: {dict(skipped)}")

    history = [
        (d.isoformat(), a) for d, a in store.strategy_history(channel.name, through=day, days=REPORT_HISTORY_DAYS)
    ]
    image = plot(report_dir / f"{day.isoformat()}.png", history, effects, f"{channel.name} — strategy {version}")
    report = markdown(
        channel.name,
        day.isoformat(),
        allocation,
        effects,
        decision.lacking,
        candidate_topics,
        model.to_json(),
        experiments=shown_experiments,
        promotions=experiments.promotions,
    )
    (report_dir / f"{day.isoformat()}.md").write_text(report + "\n", encoding="utf-8")
    return StrategyUpdate(
        version=version,
        summary=summary,
        learned=learned,
        effects=effects,
        model=model,
        model_file=model_file,
        skipped=skipped,
        new_observations=len(observations),
        shown_experiments=shown_experiments,
        adopted_topics=adopted_topics,
        candidate_topics=candidate_topics,
        report=report,
        image=image,
    )


def _rejections(store: Store, channel: str, day: date) -> list[dict[str, Any]]:
    """The channel's videos of the last HINT_DAYS days whose latest review decision is a rejection, oldest first."""
    found = ReviewStore(store).rejections(channel, since=day - timedelta(days=HINT_DAYS - 1), through=day)
    scripts = store.scripts_for([d.video_id for d in found])
    return [
        {
            "video_id": d.video_id,
            "batch_date": d.batch_date.isoformat(),
            "title": str(scripts.get(d.video_id, {}).get("title", "")),
            "arms": dict(scripts.get(d.video_id, {}).get("arms") or {}),
            "reason": d.reason or "",
            "reviewer": d.reviewer,
            "decided_at": d.decided_at.isoformat(),
        }
        for d in found
    ]


def _keep_model(report: ModelReport, path: Path) -> Path | None:
    """Save the fitted model at `path` for the scripts asset; without one, no file is left there."""
    if report.model is None:
        path.unlink(missing_ok=True)
        return None
    return save_model(report.model, path)


def allocation_rows(update: StrategyUpdate) -> Iterable[list[str]]:
    """One row per arm: dimension, arm (★ best, A/B under test), share, P(best), effect, weight."""
    decision, experiments = update.learned.decision, update.learned.plan
    testing = {e.dimension: (e.arm_a, e.arm_b) for e in experiments.running()} if experiments else {}
    for dimension, shares in update.learned.allocation.items():
        best = max(shares, key=shares.get)
        for value, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            stats = update.effects[dimension][value]
            yield [
                dimension,
                value + (" ★" if value == best else "") + (" (A/B)" if value in testing.get(dimension, ()) else ""),
                f"{share:.0%}",
                f"{decision.p_best[dimension][value]:.2f}",
                f"{stats['mean']:+.3f} ± {stats['sd']:.3f}",
                f"{stats['n']:.1f}",
            ]
