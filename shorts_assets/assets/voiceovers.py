"""voiceovers: the narration of every scripted video, spoken, with word timings."""


import dagster as dg

from shorts_assets.assets.batch import partition_of, run_per_video, stage_report
from shorts_assets.assets.scripts import scripts
from shorts_assets.constants import CREATE, VOICEOVER_STAGE
from shorts_assets.db.store import VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import to_json
from shorts_assets.resources import DatabaseResource, MediaResource, SpendingResource, VoiceResource


@dg.asset(partitions_def=loop_partitions, group_name=CREATE, deps=[scripts], kinds={"python"})
def voiceovers(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    voice: VoiceResource,
    spending: SpendingResource,
) -> dg.MaterializeResult:
    """Narration audio with per-word timings for every scripted video of the batch."""
    channel, day = partition_of(context)
    store = database.store()
    budget = spending.budget(channel, store)
    narrator = voice.adapter(channel, budget)

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "voiceover.wav"
        spent_before = budget.spent_usd()
        spoken = narrator.synthesize(row.script["narration"], row.arms["voice"], out_path)
        return {
            **to_json(spoken),
            "files": [str(spoken.audio_path)],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
        }

    try:
        outcome = run_per_video(context, store, store.batch(channel, day), VOICEOVER_STAGE, (), work)
    finally:
        if hasattr(narrator, "close"):
            narrator.close()
    rows = store.batch(channel, day)

    def detail(row: VideoRow) -> str:
        spoken = row.outputs.get(VOICEOVER_STAGE)
        return f"{spoken['duration_s']:.1f} s, {len(spoken['words'])} words" if spoken else ""

    metadata = stage_report(rows, outcome, detail)
    metadata["voice"] = getattr(narrator, "name", voice.provider)
    metadata["cost_usd"] = round(sum(r.outputs.get(VOICEOVER_STAGE, {}).get("cost_usd", 0.0) for r in rows), 6)
    return dg.MaterializeResult(metadata=metadata)
