"""scripts: the day's batch of scripts, arms drawn from the channel's latest strategy.

Each video's arms are written up as several candidate scripts (SCRIPT_CANDIDATES), the first from
the video's own seed, and the reward model the latest strategy saved keeps the one it predicts to
earn the most. Without a model that can be loaded, the first candidate is kept.
"""


import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import dagster as dg
import numpy as np

from shorts_assets.assets.batch import arm_summary, markdown_table, partition_of, video_id_for
from shorts_assets.constants import CREATE
from shorts_assets.db.store import StrategyRow
from shorts_assets.learning import choose_arms, uniform_allocation
from shorts_assets.learning.model import RankedScript, RewardModel, load_model, rank_scripts
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import to_json
from shorts_assets.providers.costs import Budget
from shorts_assets.providers.generation import VideoEstimate, estimate_video
from shorts_assets.providers.http import BudgetExhausted
from shorts_assets.providers.interfaces import Script, ScriptWriter
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


def candidate_seeds(video_id: str, strategy_version: str, count: int) -> list[int]:
    """The seeds of a video's candidate scripts: first the video's own seed, which also draws its arms,
    then seeds derived from it."""
    seed = _seed(video_id, strategy_version)
    return [seed] + [_seed(str(seed), str(n)) for n in range(1, count)]


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

    strategy = store.latest_strategy(channel_name, before=day)
    arm_space = channel.arm_space()
    if strategy and script_writer.writes_any_topic:
        arm_space = {**arm_space, "topic": (*arm_space["topic"], *strategy.summary.get("adopted_topics", []))}
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
    ranker, ranked_by = _ranking_model(context, strategy) if wanted[:affordable] else (None, "nothing to write")
    written, failed, costs, chosen = [], {}, {}, {}
    for position in wanted[:affordable]:
        video_id = video_id_for(channel_name, day, position)
        seeds = candidate_seeds(video_id, version, count)
        arms = choose_arms(allocation, arm_space, np.random.default_rng(seeds[0]))
        spent_before = budget.spent_usd()
        drafts, errors, refused = _write_candidates(context, writer, video_id, arms, seeds, hints)
        costs[video_id] = budget.spent_usd() - spent_before
        if not drafts:
            failed[video_id] = errors[-1]
            if refused:
                break
            continue
        kept = _best(context, ranker, video_id, drafts)
        store.add_script(
            video_id=video_id,
            channel=channel_name,
            batch_date=day,
            position=position,
            strategy_version=version,
            arms=arms,
            script=to_json(kept.candidate),
            writer=getattr(writer, "name", script_writer.provider),
        )
        written.append(video_id)
        chosen[video_id] = {"written": len(drafts), "kept": kept.index + 1, "predicted_reward": kept.predicted_reward}
        if refused:
            break
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
            "script_candidates": count,
            "ranked_by": ranked_by,
            "candidates": dg.MetadataValue.json(chosen),
            "cost_usd": round(sum(costs.values()), 6),
            "estimated_cost_per_video_usd": round(estimate.total_usd, 6),
            "spent_today_usd": round(budget.spent_usd(), 6),
            "batch": markdown_table(
                ["video", "title", "arms", "strategy", "candidates", "predicted reward", "cost"],
                [
                    [r.video_id, r.script["title"], arm_summary(r.arms), r.strategy_version,
                     *_candidate_cells(chosen.get(r.video_id)),
                     f"${costs[r.video_id]:.4f}" if r.video_id in costs else "—"]
                    for r in rows
                ],
            ),
        }
    )


def _ranking_model(context: dg.AssetExecutionContext, strategy: StrategyRow | None) -> tuple[RewardModel | None, str]:
    """The reward model the latest strategy saved, and what the metadata says ranked the candidates."""
    path = strategy.summary.get("model_path") if strategy else None
    if not path:
        return None, "no fitted model yet: each video keeps its first candidate"
    try:
        return load_model(Path(path)), str(path)
    except Exception as exc:  # a missing or damaged model file must never stop the batch
        context.log.warning(
            f"the reward model at {path} could not be loaded ({type(exc).__name__}: {exc}); "
            "each video keeps its first candidate"
        )
        return None, f"unreadable model {path}: each video keeps its first candidate"


def _write_candidates(
    context: dg.AssetExecutionContext,
    writer: ScriptWriter,
    video_id: str,
    arms: Mapping[str, str],
    seeds: Sequence[int],
    hints: Mapping[str, Any],
) -> tuple[list[Script], list[str], bool]:
    """The candidates that could be written, the errors of those that could not, and whether the
    budget refused one (every later script would be refused the same way, so writing stops there)."""
    drafts, errors = [], []
    for n, seed in enumerate(seeds, start=1):
        which = video_id if len(seeds) == 1 else f"{video_id} (candidate {n} of {len(seeds)})"
        try:
            drafts.append(writer.write(video_id, arms, seed, hints=hints))
        except BudgetExhausted as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            context.log.warning(f"{which}: script refused: {errors[-1]}")
            return drafts, errors, True
        except Exception as exc:  # one script's failure leaves the others written
            errors.append(f"{type(exc).__name__}: {exc}")
            context.log.warning(f"{which}: script failed: {errors[-1]}")
    return drafts, errors, False


def _best(
    context: dg.AssetExecutionContext, model: RewardModel | None, video_id: str, drafts: list[Script]
) -> RankedScript:
    """The candidate the model predicts to earn the most; the first when it cannot tell."""
    try:
        return rank_scripts(model, drafts)[0]
    except Exception as exc:  # a model that cannot read these scripts must never stop the batch
        context.log.warning(
            f"{video_id}: the reward model could not rank its scripts ({type(exc).__name__}: {exc}); "
            "the first candidate is kept"
        )
        return RankedScript(0, None, drafts[0])


def _candidate_cells(chosen: Mapping[str, Any] | None) -> list[str]:
    if chosen is None:
        return ["—", "—"]
    reward = chosen["predicted_reward"]
    return [f"{chosen['kept']} of {chosen['written']}", "—" if reward is None else f"{reward:.3f}"]


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
