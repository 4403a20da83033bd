"""voiceovers: the narration of every scripted video, spoken, with word timings."""


import dagster as dg

from shorts_assets.assets.batch import partition_of, run_per_video, stage_report
from shorts_assets.assets.scripts import scripts
from shorts_assets.constants import CREATE, VOICEOVER_STAGE
from shorts_assets.db.store import VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import to_json
from shorts_assets.resources import DatabaseResource, MediaResource, VoiceResource


@dg.asset(partitions_def=loop_partitions, group_name=CREATE, deps=[scripts], kinds={"python"})
def voiceovers(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    voice: VoiceResource,
) -> dg.MaterializeResult:
    """Narration audio with per-word timings for every scripted video of the batch."""
    channel, day = partition_of(context)
    store = database.store()
    narrator = voice.adapter()

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "voiceover.wav"
        spoken = narrator.synthesize(row.script["narration"], row.arms["voice"], out_path)
        return {**to_json(spoken), "files": [str(spoken.audio_path)]}

    outcome = run_per_video(context, store, store.batch(channel, day), VOICEOVER_STAGE, (), work)
    rows = store.batch(channel, day)

    def detail(row: VideoRow) -> str:
        spoken = row.outputs.get(VOICEOVER_STAGE)
        return f"{spoken['duration_s']:.1f} s, {len(spoken['words'])} words" if spoken else ""

    return dg.MaterializeResult(metadata=stage_report(rows, outcome, detail))
