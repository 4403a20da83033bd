"""strategy: what the channel makes next, learned from the trailing cohorts and its own previous date
(see loop.strategy for how)."""

import warnings
from pathlib import Path

import dagster as dg

from shorts_assets.defs.constants import LEARN
from shorts_assets.defs.learn.comments import comments
from shorts_assets.defs.learn.metrics import metrics
from shorts_assets.defs.metadata import markdown_table, partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, MediaResource, ScriptWriterResource
from shorts_assets.learning.report import experiment_table
from shorts_assets.loop.strategy import LEARNING_WINDOW_DAYS, allocation_rows, update_strategy


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
    update = update_strategy(
        context.log,
        database.store(),
        channels.get(channel_name),
        day,
        report_root=Path(media.data_dir) / "reports" / "strategy",
        writes_any_topic=script_writer.writes_any_topic,
    )
    summary, decision, model = update.summary, update.learned.decision, update.model
    experiments = update.learned.plan
    return dg.MaterializeResult(
        metadata={
            "version": update.version,
            "previous_version": summary["previous_version"] or "none (uniform prior)",
            "observations": summary["observations"],
            "new_or_refreshed_observations": update.new_observations,
            "skipped_snapshots": dg.MetadataValue.json(dict(update.skipped)),
            "videos_next_batch": channels.get(channel_name).videos_per_day,
            "allocation": markdown_table(
                ["dimension", "arm", "share", "P(best)", "effect on reward", "weight"], list(allocation_rows(update))
            ),
            "allocation_json": dg.MetadataValue.json(update.learned.allocation),
            "lacking": dg.MetadataValue.md("\n".join(f"- {item}" for item in decision.lacking) or "nothing"),
            "pooled_from_channels": decision.pooled_from,
            "model": dg.MetadataValue.json(model.to_json()),
            "model_file": dg.MetadataValue.path(str(update.model_file)) if update.model_file else "none (not fitted)",
            "feature_importances": dg.MetadataValue.json({k: round(v, 3) for k, v in model.importances.items()}),
            "candidate_topics": dg.MetadataValue.json(update.candidate_topics),
            "adopted_topics": dg.MetadataValue.json(update.adopted_topics),
            "experiments": dg.MetadataValue.md(
                "\n".join(experiment_table(update.shown_experiments)) if update.shown_experiments else "none"
            ),
            "experiments_json": dg.MetadataValue.json(
                {"experiments": update.shown_experiments, "promotions": experiments.promotions if experiments else {}}
            ),
            "writer_hints": dg.MetadataValue.json(summary["hints"]),
            "report": dg.MetadataValue.md(update.report),
            "report_plot": dg.MetadataValue.path(str(update.image)),
        }
    )
