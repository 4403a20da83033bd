"""voiceovers: the narration of every scripted video, spoken, with word timings."""

import dagster as dg

from shorts_assets.core.records import to_json
from shorts_assets.db.store import VideoRow
from shorts_assets.defs.constants import CREATE, TTS_POOL
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.metadata import batch_failure, column, partition_of, run_stage, stage_report
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import (
    ChannelsResource,
    DatabaseResource,
    MediaResource,
    SpendingResource,
    VoiceResource,
)
from shorts_assets.defs.retries import generation_retry
from shorts_assets.loop.review import AT_GENERATION, gate
from shorts_assets.loop.stages import VOICEOVER_STAGE

VOICEOVER_COLUMNS = [
    column("duration_s", float, "length of the narration in seconds"),
    column("words", int, "words spoken, each with its timing"),
]


@dg.asset(
    partitions_def=loop_partitions,
    group_name=CREATE,
    deps=[scripts],
    kinds={"python"},
    pool=TTS_POOL,
    retry_policy=generation_retry("TTS_PROVIDER"),
)
def voiceovers(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    voice: VoiceResource,
    spending: SpendingResource,
    channels: ChannelsResource,
) -> dg.MaterializeResult:
    """Narration audio with per-word timings for every scripted video of the batch, in the channel's language;
    a video the review gate holds (awaiting review before generation, or rejected) is not paid for."""
    channel, day = partition_of(context)
    store = database.store()
    review = gate(
        context.log, store, channels.get(channel), store.batch(channel, day), AT_GENERATION, database.notifier(store)
    )
    budget = spending.budget(channel, store)

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "voiceover.wav"
        spent_before = budget.spent_usd()
        spoken = narrator.synthesize(row.script.narration, row.arms["voice"], out_path)
        return {
            **to_json(spoken),
            "files": [str(spoken.audio_path)],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
        }

    language = channels.get(channel).language
    with batch_failure(), voice.adapter(channel, budget, language) as narrator:
        outcome = run_stage(context, store, review.allowed, VOICEOVER_STAGE, (), work, media.store())
    outcome.held.update(review.held)
    rows = store.batch(channel, day)

    def cells(row: VideoRow) -> dict:
        spoken = row.outputs.get(VOICEOVER_STAGE)
        return {"duration_s": round(spoken["duration_s"], 2), "words": len(spoken["words"])} if spoken else {}

    metadata = stage_report(rows, outcome, VOICEOVER_STAGE, VOICEOVER_COLUMNS, cells)
    metadata["voice"] = narrator.name
    metadata["cost_usd"] = round(sum(r.outputs.get(VOICEOVER_STAGE, {}).get("cost_usd", 0.0) for r in rows), 6)
    return dg.MaterializeResult(metadata=metadata)
