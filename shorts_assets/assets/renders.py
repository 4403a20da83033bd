"""renders: the finished vertical shorts, one MP4 and thumbnail per video."""


import dagster as dg

from shorts_assets.assets.batch import partition_of, run_per_video, stage_report
from shorts_assets.assets.clips import clips
from shorts_assets.assets.voiceovers import voiceovers
from shorts_assets.checks.render_checks import reject_if_below_contract
from shorts_assets.constants import CLIPS_STAGE, CREATE, RENDER_POOL, RENDER_STAGE, VOICEOVER_STAGE
from shorts_assets.db.store import VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import clips_from_json, script_from_json, voiceover_from_json
from shorts_assets.resources import DatabaseResource, MediaResource, RendererResource, SpendingResource


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
    engine = renderer.adapter(channel, budget, store)

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "short.mp4"
        spent_before = budget.spent_usd()
        result = engine.render(
            clips_from_json(row.outputs[CLIPS_STAGE]),
            voiceover_from_json(row.outputs[VOICEOVER_STAGE]),
            script_from_json(row.script),
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

    try:
        outcome = run_per_video(
            context, store, store.batch(channel, day), RENDER_STAGE, (CLIPS_STAGE, VOICEOVER_STAGE), work
        )
    finally:
        if hasattr(engine, "close"):
            engine.close()
    rows = store.batch(channel, day)
    finished = [r.outputs[RENDER_STAGE] for r in rows if RENDER_STAGE in r.outputs]
    metadata = stage_report(rows, outcome, lambda r: r.outputs.get(RENDER_STAGE, {}).get("video_path", ""))
    if finished:
        metadata["first_short"] = dg.MetadataValue.path(finished[0]["video_path"])
        metadata["total_seconds"] = round(sum(f["duration_s"] for f in finished), 1)
    metadata["renderer"] = getattr(engine, "name", renderer.provider)
    metadata["cost_usd"] = round(sum(f.get("cost_usd", 0.0) for f in finished), 6)
    return dg.MaterializeResult(metadata=metadata)
