"""strategy: what the channel makes next, learned from the trailing cohorts and its own previous date
(see loop.strategy for how).

Its page reads at a glance: a line saying what changed since the previous date, the report's plot
inline, the allocation and the experiments as tables; the raw JSON comes last, under `raw_` names.
"""

import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from shorts_assets.core.errors import ProviderError
from shorts_assets.defs.constants import LEARN
from shorts_assets.defs.learn.comments import comments
from shorts_assets.defs.learn.metrics import metrics
from shorts_assets.defs.metadata import arm_summary, column, markdown_table, partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.previews import PLOT_WIDTH, inline_image
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, MediaResource, ScriptWriterResource
from shorts_assets.loop.strategy import LEARNING_WINDOW_DAYS, StrategyUpdate, allocation_rows, update_strategy


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


ALLOCATION_COLUMNS = ["dimension", "arm", "share", "P(best)", "effect on reward", "weight"]
ALLOCATION_SCHEMA = dg.TableSchema(
    columns=[
        column("dimension"),
        column("arm", description="★ the likely best; (A/B) under test"),
        column("share", description="share of the next batch's videos"),
        column("P(best)", description="posterior probability that this arm is the dimension's best"),
        column("effect on reward", description="posterior mean ± standard deviation of the arm's effect"),
        column("weight", description="weighted observations behind it"),
    ]
)

EXPERIMENT_SCHEMA = dg.TableSchema(
    columns=[
        column("id", int),
        column("dimension"),
        column("A"),
        column("B"),
        column("since", description="the date it opened"),
        column("status", description="running, decided or stopped"),
        column("decided_on"),
        column("P(A > B)", float, "posterior probability of superiority at the last look"),
        column("videos_A", int),
        column("videos_B", int),
        column("winner"),
        column("reason"),
    ]
)


def allocation_table(update: StrategyUpdate) -> dg.TableMetadataValue:
    """One row per arm, each dimension's best first (see loop.strategy.allocation_rows)."""
    records = [dg.TableRecord(dict(zip(ALLOCATION_COLUMNS, row))) for row in allocation_rows(update)]
    return dg.MetadataValue.table(records, ALLOCATION_SCHEMA)


def experiments_table(experiments: Sequence[Mapping[str, Any]]) -> dg.TableMetadataValue:
    """The experiments the report shows, running or recently ended."""
    records = []
    for e in experiments:
        p = e.get("p_superiority")
        records.append(
            dg.TableRecord(
                {
                    "id": e.get("id"),
                    "dimension": e.get("dimension"),
                    "A": e.get("arm_a"),
                    "B": e.get("arm_b"),
                    "since": e.get("started_on"),
                    "status": e.get("status"),
                    "decided_on": e.get("decided_on"),
                    "P(A > B)": None if p is None else round(float(p), 3),
                    "videos_A": e.get("videos_a", 0),
                    "videos_B": e.get("videos_b", 0),
                    "winner": e.get("winner"),
                    "reason": e.get("reason"),
                }
            )
        )
    return dg.MetadataValue.table(records, EXPERIMENT_SCHEMA)


def changes_since(
    previous: Mapping[str, Mapping[str, float]] | None,
    allocation: Mapping[str, Mapping[str, float]],
    experiments: Sequence[Mapping[str, Any]],
    day: date,
    *,
    most: int = 3,
) -> str:
    """One line of what changed since the previous strategy: the arms whose share moved most (one per
    dimension, at least a percentage point, at most `most` dimensions) and the experiments that opened
    or ended on `day`."""
    parts = []
    if previous is None:
        parts.append("first strategy of the channel (from a uniform prior)")
    else:
        moves = []
        for dimension, shares in allocation.items():
            before = previous.get(dimension, {})
            deltas = {v: 100 * s - 100 * before.get(v, 0.0) for v, s in shares.items()}
            # The arm that moved most; of two that moved alike, the one that gained.
            value = max(deltas, key=lambda v: (round(abs(deltas[v]), 6), deltas[v]), default=None)
            if value is not None and round(abs(deltas[value])) >= 1:
                was, now = 100 * before.get(value, 0.0), 100 * shares[value]
                moves.append(
                    (abs(deltas[value]), f"{dimension}: {value} {was:.0f}% → {now:.0f}% ({deltas[value]:+.0f})")
                )
        moves.sort(key=lambda m: -m[0])
        parts += [text for _, text in moves[:most]] or ["no share moved by a percentage point"]
    today = day.isoformat()
    for e in experiments:
        if e.get("started_on") == today:
            parts.append(f"experiment on {e['dimension']} opened: {e['arm_a']} vs {e['arm_b']}")
        if e.get("decided_on") == today:
            outcome = e.get("winner") or "no winner"
            parts.append(f"experiment on {e['dimension']} {e['status']}: {outcome}")
    return ", ".join(parts)


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
    store = database.store()
    previous = store.latest_strategy(channel_name, before=day)
    update = update_strategy(
        context.log,
        store,
        channels.get(channel_name),
        day,
        report_root=Path(media.data_dir) / "reports" / "strategy",
        writes_any_topic=script_writer.writes_any_topic,
        run_id=context.run.run_id,
    )
    summary, decision, model = update.summary, update.learned.decision, update.model
    experiments = update.learned.plan
    metadata: dict[str, Any] = {
        "changes_since_yesterday": changes_since(
            previous.allocation if previous else None, update.learned.allocation, update.shown_experiments, day
        ),
        "version": update.version,
        "previous_version": summary["previous_version"] or "none (uniform prior)",
        "observations": summary["observations"],
        "new_or_refreshed_observations": update.new_observations,
        "videos_next_batch": channels.get(channel_name).videos_per_day,
    }
    try:
        metadata["plot"] = dg.MetadataValue.md(
            inline_image(update.image, PLOT_WIDTH).markdown(f"{channel_name} strategy {update.version}")
        )
    except (OSError, ProviderError, ValueError) as exc:
        context.log.warning(f"{channel_name}: the plot could not be inlined: {exc}")
    metadata.update(
        {
            "allocation": allocation_table(update),
            "experiments": experiments_table(update.shown_experiments),
            "lacking": dg.MetadataValue.md("\n".join(f"- {item}" for item in decision.lacking) or "nothing"),
            "pooled_from_channels": decision.pooled_from,
            "skipped_snapshots": dg.MetadataValue.json(dict(update.skipped)),
            "feature_importances": dg.MetadataValue.json({k: round(v, 3) for k, v in model.importances.items()}),
            "candidate_topics": dg.MetadataValue.json(update.candidate_topics),
            "adopted_topics": dg.MetadataValue.json(update.adopted_topics),
            "model_file": dg.MetadataValue.path(str(update.model_file)) if update.model_file else "none (not fitted)",
            "report": dg.MetadataValue.md(update.report),
            "report_plot": dg.MetadataValue.path(str(update.image)),
            "raw_allocation_json": dg.MetadataValue.json(update.learned.allocation),
            "raw_experiments_json": dg.MetadataValue.json(
                {"experiments": update.shown_experiments, "promotions": experiments.promotions if experiments else {}}
            ),
            "raw_model_json": dg.MetadataValue.json(model.to_json()),
            "raw_writer_hints_json": dg.MetadataValue.json(summary["hints"]),
        }
    )
    # What reviewers rejected: kept out of the reward (never published), told to the writer as what to avoid.
    rejections = summary.get("rejections", [])
    metadata["rejected_videos"] = len(rejections)
    metadata["rejections"] = markdown_table(
        ["video", "batch", "title", "arms", "reason", "reviewer", "when"],
        [
            [
                r["video_id"],
                r["batch_date"],
                r["title"],
                arm_summary(r["arms"]),
                r["reason"],
                r["reviewer"],
                r["decided_at"],
            ]
            for r in reversed(rejections)
        ],
    )
    # The raw JSON stays last.
    metadata = {k: v for k, v in metadata.items() if not k.startswith("raw_")} | {
        k: v for k, v in metadata.items() if k.startswith("raw_")
    }
    return dg.MaterializeResult(metadata=metadata)
