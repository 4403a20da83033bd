"""clips: one generated clip per scene of every scripted video."""


import dagster as dg

from shorts_assets.assets.batch import partition_of, run_per_video, stage_report
from shorts_assets.assets.scripts import scripts
from shorts_assets.constants import CLIPS_STAGE, CREATE
from shorts_assets.db.store import VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import script_from_json, to_json
from shorts_assets.resources import ClipGeneratorResource, DatabaseResource, MediaResource


@dg.asset(partitions_def=loop_partitions, group_name=CREATE, deps=[scripts], kinds={"ffmpeg"})
def clips(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    clip_generator: ClipGeneratorResource,
) -> dg.MaterializeResult:
    """Scene clips for every scripted video of the batch."""
    channel, day = partition_of(context)
    store = database.store()
    generator = clip_generator.adapter()

    def work(row: VideoRow) -> dict:
        out_dir = media.video_dir(channel, day, row.video_id) / "clips"
        made = generator.generate(script_from_json(row.script), out_dir)
        return {"clips": to_json(made), "files": [str(c.path) for c in made]}

    outcome = run_per_video(context, store, store.batch(channel, day), CLIPS_STAGE, (), work)
    rows = store.batch(channel, day)
    return dg.MaterializeResult(
        metadata=stage_report(
            rows, outcome, lambda r: f"{len(r.outputs.get(CLIPS_STAGE, {}).get('files', []))} clips"
        )
    )
