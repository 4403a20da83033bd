"""scripts: the day's batch of scripts, arms drawn from the channel's latest strategy (see loop.scripting),
or forced for the run by a person through its config."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import dagster as dg
from pydantic import Field

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.errors import ConfigError
from shorts_assets.defs.constants import CREATE, SCRIPT_GEN_POOL
from shorts_assets.defs.jobs import FORCEABLE_ARMS, LEARNER_CHOOSES, partition_from_tags
from shorts_assets.defs.metadata import arm_summary, batch_failure, markdown_table
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
from shorts_assets.defs.retries import generation_retry
from shorts_assets.loop.review import AT_GENERATION, gate
from shorts_assets.loop.scripting import arm_list, write_batch
from shorts_assets.providers.estimate import estimate_video

_FORCE = f"{LEARNER_CHOOSES!r} leaves it to the strategy; any other value is forced on every video this run writes"


def _choice(dimension: str, note: str = ""):
    """A closed choice over one dimension's arms, or the strategy's draw."""
    values = (LEARNER_CHOOSES, *ARM_SPACE[dimension])
    return Field(default=LEARNER_CHOOSES, description=f"{dimension}: one of {', '.join(values[1:])}{note}. {_FORCE}.")


class ScriptsConfig(dg.Config):
    """Arms a person forces for the run's videos: the dimensions left at 'strategy' are drawn by the learner."""

    topic: str = Field(
        default=LEARNER_CHOOSES,
        description=f"topic: one of the channel's topics (by default {', '.join(ARM_SPACE['topic'])}). {_FORCE}.",
    )
    hook: Literal[(LEARNER_CHOOSES, *ARM_SPACE["hook"])] = _choice("hook")  # type: ignore[valid-type]
    length: Literal[(LEARNER_CHOOSES, *ARM_SPACE["length"])] = _choice("length")  # type: ignore[valid-type]
    voice: Literal[(LEARNER_CHOOSES, *ARM_SPACE["voice"])] = _choice("voice")  # type: ignore[valid-type]
    caption_style: Literal[(LEARNER_CHOOSES, *ARM_SPACE["caption_style"])] = _choice("caption_style")  # type: ignore[valid-type]
    posting_hour: Literal[(LEARNER_CHOOSES, *ARM_SPACE["posting_hour"])] = _choice(  # type: ignore[valid-type]
        "posting_hour", " (UTC, quoted in YAML: '09')"
    )

    def forced(self) -> dict[str, str]:
        """The dimensions a person chose, with their values."""
        return {d: v for d in FORCEABLE_ARMS if (v := getattr(self, d)) != LEARNER_CHOOSES}


@dg.asset(
    partitions_def=loop_partitions,
    group_name=CREATE,
    kinds={"python"},
    pool=SCRIPT_GEN_POOL,
    retry_policy=generation_retry("SCRIPT_PROVIDER"),
)
def scripts(
    context: dg.AssetExecutionContext,
    config: ScriptsConfig,
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

    Arms forced in the run's config replace the strategy's draw for every video written now, and each
    row records them as forced. A malformed partition tag set or a forced value outside the channel's
    arm space stops the run here, naming it, before anything is written.

    Before anything is paid for, the batch is cut to the videos the channel's remaining daily budget
    covers at their estimated cost (every candidate paid for); a budget below one video stops the
    batch here.
    """
    try:
        channel_name, day = partition_from_tags(context.run.tags)
    except ConfigError as exc:
        raise dg.Failure(description=str(exc)) from None
    forced = config.forced()
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
        image_quality=clip_generator.image_quality,
    )

    with batch_failure(), _refused_config():
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
            forced=forced,
        )
    costs, chosen = batch.costs, batch.chosen
    # Under review before generation, each new script waits here as awaiting_review (see loop.review).
    held = gate(
        context.log, store, channel, store.batch(channel_name, day), AT_GENERATION, database.notifier(store)
    ).held

    rows = store.batch(channel_name, day)
    return dg.MaterializeResult(
        metadata={
            "videos": len(rows),
            "written": len(batch.written),
            "kept_from_earlier_run": len(batch.existing),
            "failed": len(batch.failed),
            "strategy_version": batch.version,
            "forced_arms": arm_list(batch.forced) if batch.forced else "none: the strategy drew every arm",
            "writer": batch.writer,
            "script_candidates": batch.candidates,
            "ranked_by": batch.ranked_by,
            "candidates": dg.MetadataValue.json(chosen),
            "cost_usd": round(sum(costs.values()), 6),
            "estimated_cost_per_video_usd": round(estimate.total_usd, 6),
            "spent_today_usd": round(budget.spent_usd(), 6),
            "review": channel.review,
            "held_for_review": len(held),
            "batch": markdown_table(
                ["video", "title", "arms", "forced", "strategy", "candidates", "predicted reward", "cost"],
                [
                    [
                        r.video_id,
                        r.script.title,
                        arm_summary(r.arms),
                        ", ".join(r.forced_arms) or "—",
                        r.strategy_version,
                        *_candidate_cells(chosen.get(r.video_id)),
                        f"${costs[r.video_id]:.4f}" if r.video_id in costs else "—",
                    ]
                    for r in rows
                ],
            ),
        }
    )


@contextmanager
def _refused_config() -> Iterator[None]:
    """A forced arm the channel does not have fails the run with its name, not a stack trace."""
    try:
        yield
    except ConfigError as exc:
        raise dg.Failure(description=f"ops.scripts.config: {exc}") from None


def _candidate_cells(chosen) -> list[str]:
    if chosen is None:
        return ["—", "—"]
    reward = chosen["predicted_reward"]
    return [f"{chosen['kept']} of {chosen['written']}", "—" if reward is None else f"{reward:.3f}"]
