"""renders: the finished vertical shorts, one MP4 and thumbnail per video."""

import dagster as dg

from shorts_assets.core.records import clips_from_json, voiceover_from_json
from shorts_assets.db.store import VideoRow
from shorts_assets.defs.constants import CREATE, RENDER_POOL
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.voiceovers import voiceovers
from shorts_assets.defs.metadata import partition_of, run_stage, stage_report
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import DatabaseResource, MediaResource, RendererResource, SpendingResource
from shorts_assets.loop.stages import CLIPS_STAGE, RENDER_STAGE, VOICEOVER_STAGE
from shorts_assets.providers.render.quality import reject_if_below_contract


@dg.asset(
    partitions_def=loop_partitions,
    group_name=CREATE,
    deps=[clips, voiceovers],
    pool=RENDER_POOL,
    kinds={"ffmpeg"},
)
def renders(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    renderer: RendererResource,
    spending: SpendingResource,
) -> dg.MaterializeResult:
    """The batch's shorts rendered to 1080×1920 MP4 with narration and burned-in captions."""
    channel, day = partition_of(context)
    store = database.store()
    budget = spending.budget(channel, store)

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "short.mp4"
        spent_before = budget.spent_usd()
        result = engine.render(
            clips_from_json(row.outputs[CLIPS_STAGE]),
            voiceover_from_json(row.outputs[VOICEOVER_STAGE]),
            row.script,
            out_path,
        )
        reject_if_below_contract(result.video_path, renderer.contract())
        return {
            "video_path": str(result.video_path),
            "thumbnail_path": str(result.thumbnail_path),
            "duration_s": result.duration_s,
            "width": result.width,
            "height": result.height,
            "fps": result.fps,
            "files": [str(result.video_path), str(result.thumbnail_path)],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
        }

    with renderer.adapter(channel, budget, store) as engine:
        outcome = run_stage(
            context, store, store.batch(channel, day), RENDER_STAGE, (CLIPS_STAGE, VOICEOVER_STAGE), work
        )
    rows = store.batch(channel, day)
    finished = [r.outputs[RENDER_STAGE] for r in rows if RENDER_STAGE in r.outputs]
    metadata = stage_report(rows, outcome, lambda r: r.outputs.get(RENDER_STAGE, {}).get("video_path", ""))
    if finished:
        metadata["first_short"] = dg.MetadataValue.path(finished[0]["video_path"])
        metadata["total_seconds"] = round(sum(f["duration_s"] for f in finished), 1)
    metadata["renderer"] = engine.name
    metadata["cost_usd"] = round(sum(f.get("cost_usd", 0.0) for f in finished), 6)
    return dg.MaterializeResult(metadata=metadata)
