"""scripts: the day's batch of scripts, arms drawn from the channel's latest strategy (see loop.scripting)."""

import dagster as dg

from shorts_assets.defs.constants import CREATE
from shorts_assets.defs.metadata import arm_summary, batch_failure, markdown_table, partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import (
    ChannelsResource,
    ClipGeneratorResource,
    DatabaseResource,
    RendererResource,
    ScriptWriterResource,
    SpendingResource,
    VoiceResource,
)
from shorts_assets.loop.scripting import write_batch
from shorts_assets.providers.estimate import estimate_video


@dg.asset(partitions_def=loop_partitions, group_name=CREATE, kinds={"python"})
def scripts(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    script_writer: ScriptWriterResource,
    clip_generator: ClipGeneratorResource,
    voice: VoiceResource,
    renderer: RendererResource,
    spending: SpendingResource,
) -> dg.MaterializeResult:
    """The batch's scripts, each recording the strategy version that chose its arms and kept as the
    best of its candidates by the reward model's prediction.

    Before anything is paid for, the batch is cut to the videos the channel's remaining daily budget
    covers at their estimated cost (every candidate paid for); a budget below one video stops the
    batch here.
    """
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()
    budget = spending.budget(channel_name, store)
    count = max(1, script_writer.candidates)
    estimate = estimate_video(
        budget.prices,
        script_provider=script_writer.provider,
        script_model=script_writer.model,
        video_provider=clip_generator.provider,
        video_model=clip_generator.model,
        tts_provider=voice.provider,
        tts_model=voice.model,
        renderer_provider=renderer.provider,
        script_candidates=count,
    )

    with batch_failure():
        batch = write_batch(
            context.log,
            store,
            channel,
            day,
            budget=budget,
            estimate=estimate,
            open_writer=lambda: script_writer.adapter(channel_name, budget),
            writer_name=script_writer.provider,
            candidates=count,
            writes_any_topic=script_writer.writes_any_topic,
        )
    costs, chosen = batch.costs, batch.chosen

    rows = store.batch(channel_name, day)
    return dg.MaterializeResult(
        metadata={
            "videos": len(rows),
            "written": len(batch.written),
            "kept_from_earlier_run": len(batch.existing),
            "failed": len(batch.failed),
            "strategy_version": batch.version,
            "writer": batch.writer,
            "script_candidates": batch.candidates,
            "ranked_by": batch.ranked_by,
            "candidates": dg.MetadataValue.json(chosen),
            "cost_usd": round(sum(costs.values()), 6),
            "estimated_cost_per_video_usd": round(estimate.total_usd, 6),
            "spent_today_usd": round(budget.spent_usd(), 6),
            "batch": markdown_table(
                ["video", "title", "arms", "strategy", "candidates", "predicted reward", "cost"],
                [
                    [
                        r.video_id,
                        r.script.title,
                        arm_summary(r.arms),
                        r.strategy_version,
                        *_candidate_cells(chosen.get(r.video_id)),
                        f"${costs[r.video_id]:.4f}" if r.video_id in costs else "—",
                    ]
                    for r in rows
                ],
            ),
        }
    )


def _candidate_cells(chosen) -> list[str]:
    if chosen is None:
        return ["—", "—"]
    reward = chosen["predicted_reward"]
    return [f"{chosen['kept']} of {chosen['written']}", "—" if reward is None else f"{reward:.3f}"]
