"""scripts: the day's batch of scripts, arms drawn from the channel's latest strategy."""


import zlib

import dagster as dg
import numpy as np

from shorts_assets.assets.batch import arm_summary, markdown_table, partition_of, video_id_for
from shorts_assets.constants import CREATE
from shorts_assets.learning import choose_arms, uniform_allocation
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import to_json
from shorts_assets.providers.costs import Budget
from shorts_assets.providers.generation import VideoEstimate, estimate_video
from shorts_assets.providers.http import BudgetExhausted
from shorts_assets.resources import (
    ChannelsResource,
    ClipGeneratorResource,
    DatabaseResource,
    RendererResource,
    ScriptWriterResource,
    SpendingResource,
    VoiceResource,
)


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


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
    """The batch's scripts, each recording the strategy version that chose its arms.

    Before anything is paid for, the batch is cut to the videos the channel's remaining daily budget
    covers at their estimated cost; a budget below one video stops the batch here.
    """
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()
    budget = spending.budget(channel_name, store)
    estimate = estimate_video(
        budget.prices,
        script_provider=script_writer.provider,
        script_model=script_writer.model,
        video_provider=clip_generator.provider,
        video_model=clip_generator.model,
        tts_provider=voice.provider,
        tts_model=voice.model,
        renderer_provider=renderer.provider,
    )

    strategy = store.latest_strategy(channel_name, before=day)
    arm_space = channel.arm_space()
    allocation = strategy.allocation if strategy else uniform_allocation(arm_space)
    version = strategy.version if strategy else f"{channel_name}:prior"

    hints = (strategy.summary.get("hints") if strategy else None) or {}

    existing = {row.video_id for row in store.batch(channel_name, day)}
    wanted = [p for p in range(1, channel.videos_per_day + 1) if video_id_for(channel_name, day, p) not in existing]
    affordable = _affordable(budget, estimate, len(wanted), channel_name)
    if affordable < len(wanted):
        context.log.warning(
            f"{channel_name}: the daily budget covers {affordable} of {len(wanted)} videos at about "
            f"${estimate.total_usd:.4f} each; the rest wait for a later run"
        )
    writer = script_writer.adapter(channel_name, budget) if wanted else None
    written, failed, costs = [], {}, {}
    for position in wanted[:affordable]:
        video_id = video_id_for(channel_name, day, position)
        seed = _seed(video_id, version)
        arms = choose_arms(allocation, arm_space, np.random.default_rng(seed))
        spent_before = budget.spent_usd()
        try:
            script = writer.write(video_id, arms, seed, hints=hints)
        except BudgetExhausted as exc:  # every later script would be refused the same way
            failed[video_id] = f"{type(exc).__name__}: {exc}"
            context.log.warning(f"{video_id}: script refused: {failed[video_id]}")
            break
        except Exception as exc:  # one script's failure leaves the others written
            failed[video_id] = f"{type(exc).__name__}: {exc}"
            context.log.warning(f"{video_id}: script failed: {failed[video_id]}")
            continue
        finally:
            costs[video_id] = budget.spent_usd() - spent_before
        store.add_script(
            video_id=video_id,
            channel=channel_name,
            batch_date=day,
            position=position,
            strategy_version=version,
            arms=arms,
            script=to_json(script),
            writer=getattr(writer, "name", script_writer.provider),
        )
        written.append(video_id)
    if hasattr(writer, "close"):
        writer.close()
    if failed and not written and not existing:
        raise dg.Failure(description=f"no script could be written: {next(iter(failed.values()))}")

    rows = store.batch(channel_name, day)
    return dg.MaterializeResult(
        metadata={
            "videos": len(rows),
            "written": len(written),
            "kept_from_earlier_run": len(existing),
            "failed": len(failed),
            "strategy_version": version,
            "writer": getattr(writer, "name", script_writer.provider),
            "cost_usd": round(sum(costs.values()), 6),
            "estimated_cost_per_video_usd": round(estimate.total_usd, 6),
            "spent_today_usd": round(budget.spent_usd(), 6),
            "batch": markdown_table(
                ["video", "title", "arms", "strategy", "cost"],
                [
                    [r.video_id, r.script["title"], arm_summary(r.arms), r.strategy_version,
                     f"${costs[r.video_id]:.4f}" if r.video_id in costs else "—"]
                    for r in rows
                ],
            ),
        }
    )


def _affordable(budget: Budget, estimate: VideoEstimate, wanted: int, channel: str) -> int:
    """How many of the wanted videos the rest of today's budget covers; none raises before any call."""
    if wanted == 0 or estimate.total_usd <= 0 or budget.daily_limit_usd is None:
        return wanted
    remaining = budget.daily_limit_usd - budget.spent_usd()
    count = min(wanted, int(remaining // estimate.total_usd)) if remaining > 0 else 0
    if count == 0:
        raise dg.Failure(
            description=(
                f"channel {channel}: the daily budget of ${budget.daily_limit_usd:.2f} "
                f"(${budget.spent_usd():.2f} spent today, UTC) does not cover one video at its estimated "
                f"${estimate.total_usd:.4f} ({estimate.describe()}); nothing was sent to any paid provider. "
                "Raise SHORTS_DAILY_BUDGET_USD or choose cheaper providers."
            )
        )
    return count
