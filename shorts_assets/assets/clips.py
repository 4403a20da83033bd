"""clips: one generated clip per scene of every scripted video."""


import dagster as dg

from shorts_assets.assets.batch import partition_of, run_per_video, stage_report
from shorts_assets.assets.scripts import scripts
from shorts_assets.constants import CLIPS_STAGE, CREATE, VIDEO_GEN_POOL
from shorts_assets.db.store import VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import script_from_json, to_json
from shorts_assets.resources import ClipGeneratorResource, DatabaseResource, MediaResource, SpendingResource


@dg.asset(
    partitions_def=loop_partitions, group_name=CREATE, deps=[scripts], pool=VIDEO_GEN_POOL, kinds={"ffmpeg"}
)
def clips(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    clip_generator: ClipGeneratorResource,
    spending: SpendingResource,
) -> dg.MaterializeResult:
    """Scene clips for every scripted video of the batch, with what each video's clips cost."""
    channel, day = partition_of(context)
    store = database.store()
    budget = spending.budget(channel, store)
    generator = clip_generator.adapter(channel, budget, store)

    def work(row: VideoRow) -> dict:
        out_dir = media.video_dir(channel, day, row.video_id) / "clips"
        spent_before = budget.spent_usd()
        made = generator.generate(script_from_json(row.script), out_dir)
        return {
            "clips": to_json(made),
            "files": [str(c.path) for c in made],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
        }

    try:
        outcome = run_per_video(context, store, store.batch(channel, day), CLIPS_STAGE, (), work)
    finally:
        if hasattr(generator, "close"):
            generator.close()
    rows = store.batch(channel, day)
    metadata = stage_report(
        rows,
        outcome,
        lambda r: "{} clips, ${:.4f}".format(
            len(r.outputs.get(CLIPS_STAGE, {}).get("files", [])), r.outputs.get(CLIPS_STAGE, {}).get("cost_usd", 0.0)
        ),
    )
    metadata["generator"] = getattr(generator, "name", clip_generator.provider)
    metadata["cost_usd"] = round(sum(r.outputs.get(CLIPS_STAGE, {}).get("cost_usd", 0.0) for r in rows), 6)
    return dg.MaterializeResult(metadata=metadata)
