"""strategy: what the channel makes next, learned from the trailing cohorts and its own previous date.

The learning state carries every (video, platform)'s newest scored signals from one date to the
next; the cohorts of the trailing week are re-read because they are still maturing. The decision is
Thompson sampling over a Bayesian model of the arms' effects, shrunk toward the effects the other
channels in the database have learned, steered by the channel's A/B experiments (a dimension under
test is split evenly between its two contenders; a decided winner is promoted). The summary carries
hints for the script writer (best and worst recent videos, requested topics, winning arms). When the
writer is a language model, a topic enough viewers ask for in the comments joins the channel's topic
pool as a new arm (a few at a time), learned like the others from then on. A report
(markdown and a PNG) is written under the data root, and beside it, once there are enough
observations to fit it, the reward model of arms and script text, whose path the summary records so
the next batch's scripts asset can rank its candidate scripts with it.
"""


import warnings
import zlib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

import dagster as dg

from shorts_assets.assets.batch import markdown_table, partition_of
from shorts_assets.assets.comments import comments
from shorts_assets.assets.metrics import metrics
from shorts_assets.constants import LEARN
from shorts_assets.db.store import Store
from shorts_assets.learning import Observation, decide, merge, rows_of, signals
from shorts_assets.learning.experiments import RUNNING, Experiment, Plan, plan
from shorts_assets.learning.hints import winning_arms, writer_hints
from shorts_assets.learning.model import ModelReport, rank_recipes, save_model
from shorts_assets.learning.policy import MIN_WEIGHT_TO_LEARN, Decision
from shorts_assets.learning.report import experiment_table, markdown, plot
from shorts_assets.learning.text import adopt_requested_topics, analyse
from shorts_assets.partitions import LEARNING_WINDOW_DAYS, loop_partitions
from shorts_assets.resources import ChannelsResource, DatabaseResource, MediaResource, ScriptWriterResource

REPORT_HISTORY_DAYS = 60


def _trailing(start_offset: int, end_offset: int) -> dg.MultiPartitionMapping:
    """Same channel, a window of dates relative to this one."""
    with warnings.catch_warnings():
        # Multi-dimensional mappings are marked beta; they are the documented way to offset one dimension.
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _mapping(start_offset, end_offset)


def _mapping(start_offset: int, end_offset: int) -> dg.MultiPartitionMapping:
    return dg.MultiPartitionMapping(
        {
            "channel": dg.DimensionPartitionMapping("channel", dg.IdentityPartitionMapping()),
            "date": dg.DimensionPartitionMapping(
                "date",
                dg.TimeWindowPartitionMapping(
                    start_offset=start_offset, end_offset=end_offset, allow_nonexistent_upstream_partitions=True
                ),
            ),
        }
    )


@dg.asset(
    partitions_def=loop_partitions,
    group_name=LEARN,
    deps=[
        dg.AssetDep(metrics, partition_mapping=_trailing(-(LEARNING_WINDOW_DAYS - 1), 0)),
        dg.AssetDep(comments, partition_mapping=_trailing(-(LEARNING_WINDOW_DAYS - 1), 0)),
        dg.AssetDep("strategy", partition_mapping=_trailing(-1, -1)),
    ],
    kinds={"python"},
)
def strategy(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    media: MediaResource,
    script_writer: ScriptWriterResource,
) -> dg.MaterializeResult:
    """The next batch's allocation over the content arms (Thompson sampling with an exploration floor)."""
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    arm_space = channel.arm_space()
    store = database.store()

    previous = store.latest_strategy(channel_name, before=day)
    adopted_topics = list(previous.summary.get("adopted_topics", [])) if previous else []
    previous_state = previous.state if previous else {}
    known = set(previous_state.get("observations", {}))
    window_start = day - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    videos = store.channel_video_arms(channel_name, through=day)
    refresh = [
        video_id
        for video_id, info in videos.items()
        if info["batch_date"] >= window_start or not any(k.startswith(f"{video_id}|") for k in known)
    ]
    observations, skipped = [], Counter()
    for snapshot in store.latest_snapshots(refresh):
        read = signals(snapshot)
        if read.skipped:
            skipped[read.skipped] += 1
            continue
        info = videos[snapshot["video_id"]]
        observations.append(
            Observation(
                key=f"{snapshot['video_id']}|{snapshot['platform']}",
                arms=info["arms"],
                signals=read,
                batch_date=info["batch_date"].isoformat(),
            )
        )
    state = merge(previous_state, observations)

    window_videos = sorted(v for v, info in videos.items() if info["batch_date"] >= window_start)
    insights = analyse(c["text"] for c in store.comments_for(window_videos))
    if script_writer.writes_any_topic:
        adopted_topics = adopt_requested_topics(adopted_topics, insights.requests, arm_space["topic"])
        arm_space = {**arm_space, "topic": (*arm_space["topic"], *adopted_topics)}

    others = [
        row.summary["effects_centred"]
        for row in store.latest_strategies(before=day, exclude=channel_name)
        if row.summary.get("observations") and row.summary.get("effects_centred")
    ]
    decision = decide(
        state, arm_space, channel.exploration, seed=zlib.crc32(f"{channel_name}|{day}".encode()), others=others
    )
    experiments = _run_experiments(context, store, channel_name, day, state, decision, arm_space, channel.exploration)
    allocation = experiments.allocation
    effects = decision.effects(arm_space)
    scripts = store.scripts_for(sorted({key.split("|")[0] for key in state["observations"]}))
    model = rank_recipes(
        rows_of(state, decision.reference), arm_space, seed=zlib.crc32(channel_name.encode()), scripts=scripts
    )
    report_dir = Path(media.data_dir) / "reports" / "strategy" / channel_name
    model_file = _keep_model(model, report_dir / f"{day.isoformat()}.model.joblib")

    known_topics = {t.replace("_", " ") for t in arm_space["topic"]}
    candidate_topics = {t: n for t, n in insights.requests.most_common(10) if t not in known_topics}

    observed = len(state["observations"])
    shown_experiments = [
        e.to_json()
        for e in experiments.experiments
        if e.status == RUNNING or e.decided_on is None or (day - e.decided_on).days < REPORT_HISTORY_DAYS
    ]
    summary = {
        "previous_version": previous.version if previous else None,
        "observations": observed,
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
        ),
    }
    if model_file is not None:
        summary["model_path"] = str(model_file)
    version = store.save_strategy(
        channel=channel_name,
        strategy_date=day,
        videos_per_day=channel.videos_per_day,
        allocation=allocation,
        state=state,
        summary=summary,
    )
    for item in decision.lacking:
        context.log.info(f"{channel_name}: {item}")
    if skipped:
        context.log.info(f"{channel_name}: snapshots skipped: {dict(skipped)}")

    history = [(d.isoformat(), a) for d, a in store.strategy_history(channel_name, through=day, days=REPORT_HISTORY_DAYS)]
    image = plot(report_dir / f"{day.isoformat()}.png", history, effects, f"{channel_name} — strategy {version}")
    report = markdown(
        channel_name,
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

    testing = {e.dimension: (e.arm_a, e.arm_b) for e in experiments.running()}
    rows = []
    for dimension, shares in allocation.items():
        best = max(shares, key=shares.get)
        for value, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            stats = effects[dimension][value]
            rows.append(
                [
                    dimension,
                    value + (" ★" if value == best else "") + (" (A/B)" if value in testing.get(dimension, ()) else ""),
                    f"{share:.0%}",
                    f"{decision.p_best[dimension][value]:.2f}",
                    f"{stats['mean']:+.3f} ± {stats['sd']:.3f}",
                    f"{stats['n']:.1f}",
                ]
            )
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "previous_version": summary["previous_version"] or "none (uniform prior)",
            "observations": observed,
            "new_or_refreshed_observations": len(observations),
            "skipped_snapshots": dg.MetadataValue.json(dict(skipped)),
            "videos_next_batch": channel.videos_per_day,
            "allocation": markdown_table(
                ["dimension", "arm", "share", "P(best)", "effect on reward", "weight"], rows
            ),
            "allocation_json": dg.MetadataValue.json(allocation),
            "lacking": dg.MetadataValue.md("\n".join(f"- {item}" for item in decision.lacking) or "nothing"),
            "pooled_from_channels": decision.pooled_from,
            "model": dg.MetadataValue.json(model.to_json()),
            "model_file": dg.MetadataValue.path(str(model_file)) if model_file else "none (not fitted)",
            "feature_importances": dg.MetadataValue.json({k: round(v, 3) for k, v in model.importances.items()}),
            "candidate_topics": dg.MetadataValue.json(candidate_topics),
            "adopted_topics": dg.MetadataValue.json(adopted_topics),
            "experiments": dg.MetadataValue.md(
                "\n".join(experiment_table(shown_experiments)) if shown_experiments else "none"
            ),
            "experiments_json": dg.MetadataValue.json(
                {"experiments": shown_experiments, "promotions": experiments.promotions}
            ),
            "writer_hints": dg.MetadataValue.json(summary["hints"]),
            "report": dg.MetadataValue.md(report),
            "report_plot": dg.MetadataValue.path(str(image)),
        }
    )


def _keep_model(report: ModelReport, path: Path) -> Path | None:
    """Save the fitted model at `path` for the scripts asset; without one, no file is left there."""
    if report.model is None:
        path.unlink(missing_ok=True)
        return None
    return save_model(report.model, path)


def _run_experiments(
    context: dg.AssetExecutionContext,
    store: Store,
    channel_name: str,
    day: date,
    state: dict[str, Any],
    decision: Decision,
    arm_space: Mapping[str, tuple[str, ...]],
    exploration: float,
) -> Plan:
    """The plan for the channel's experiments on this date, with what changed written to the store."""
    stored = [Experiment.of(row) for row in store.experiments(channel_name, started_through=day)]
    result = plan(
        stored,
        channel=channel_name,
        today=day,
        state=state,
        posterior=decision.posterior,
        p_best=decision.p_best,
        allocation=decision.allocation,
        arm_space=arm_space,
        exploration=exploration,
    )
    for e in result.updated:
        store.update_experiment(e.id, p_superiority=e.p_superiority, videos_a=e.videos_a, videos_b=e.videos_b)
    for e in result.ended:
        store.record_experiment_decision(
            e.id,
            status=e.status,
            decided_on=e.decided_on,
            winner=e.winner,
            p_superiority=e.p_superiority,
            videos_a=e.videos_a,
            videos_b=e.videos_b,
            reason=e.reason or "",
        )
        context.log.info(f"{channel_name}: experiment on {e.dimension} {e.status}: {e.reason}")
    opened = []
    for e in result.opened:
        row = store.create_experiment(
            channel=channel_name, dimension=e.dimension, arm_a=e.arm_a, arm_b=e.arm_b, started_on=e.started_on
        )
        opened.append(Experiment.of(row))
        context.log.info(f"{channel_name}: experiment opened on {e.dimension}: {e.arm_a} vs {e.arm_b}")
    result.experiments = [e for e in result.experiments if e.id is not None] + opened
    result.opened = opened
    return result
