"""clips: one generated clip per scene of every scripted video, made for the render profile's size.

Each video's clips record the size they were made for; a profile of another size makes them again
(a draft's clips never go into a final render).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from shorts_assets.core.records import to_json
from shorts_assets.db.store import VideoRow
from shorts_assets.defs.constants import CREATE, VIDEO_GEN_POOL
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.metadata import batch_failure, column, partition_of, run_stage, stage_report
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import (
    ChannelsResource,
    ClipGeneratorResource,
    DatabaseResource,
    MediaResource,
    SpendingResource,
)
from shorts_assets.defs.retries import generation_retry
from shorts_assets.loop.review import AT_GENERATION, gate
from shorts_assets.loop.stages import CLIPS_STAGE
from shorts_assets.providers.render.ffmpeg import PROFILES

FINAL_SIZE = (PROFILES["final"].width, PROFILES["final"].height)

CLIP_COLUMNS = [
    column("clips", int, "scene clips generated"),
    column("cost_usd", float, "what the video's clips cost"),
    column("credits", str, "where each found clip came from: provider, id, author, licence, page"),
]


def size_key(width: int, height: int) -> str:
    """The render size a video's clips were made for, as recorded with them: `1080x1920`."""
    return f"{width}x{height}"


def made_for_other(kept: Mapping[str, Any], size: str) -> str | None:
    """Why a video's recorded clips do not fit renders of `size`, or None when they do.

    Clips recorded before sizes were recorded were all made at the final size.
    """
    made = kept.get("size", size_key(*FINAL_SIZE))
    return None if made == size else f"its clips were made for {made} renders, these are {size}"


def credit_line(clips: list[dict]) -> str:
    """The credits of a video's found clips (stock footage, library files), one after another."""
    parts = []
    for credit in (c.get("credit") or {} for c in clips):
        if not credit:
            continue
        text = f"{credit.get('provider', '')} {credit.get('clip_id', '')}".strip()
        text += f" by {credit['author']}" if credit.get("author") else ""
        text += f" ({credit['licence']})" if credit.get("licence") else ""
        text += f" {credit['source_url']}" if credit.get("source_url") else ""
        parts.append(text)
    return "; ".join(parts)


@dg.asset(
    partitions_def=loop_partitions,
    group_name=CREATE,
    deps=[scripts],
    pool=VIDEO_GEN_POOL,
    kinds={"ffmpeg"},
    retry_policy=generation_retry("VIDEO_GEN_PROVIDER"),
)
def clips(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    clip_generator: ClipGeneratorResource,
    spending: SpendingResource,
    channels: ChannelsResource,
) -> dg.MaterializeResult:
    """Scene clips for every scripted video of the batch, with what each video's clips cost; a video the
    review gate holds (awaiting review before generation, or rejected) is not paid for."""
    channel, day = partition_of(context)
    store = database.store()
    review = gate(
        context.log, store, channels.get(channel), store.batch(channel, day), AT_GENERATION, database.notifier(store)
    )
    budget = spending.budget(channel, store)

    size = size_key(*clip_generator.clip_size)

    def work(row: VideoRow) -> dict:
        out_dir = media.video_dir(channel, day, row.video_id) / "clips"
        spent_before = budget.spent_usd()
        made = generator.generate(row.script, out_dir)
        return {
            "clips": to_json(made),
            "files": [str(c.path) for c in made],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
            "size": size,
        }

    with batch_failure(), clip_generator.adapter(channel, budget, store) as generator:
        outcome = run_stage(
            context,
            store,
            review.allowed,
            CLIPS_STAGE,
            (),
            work,
            media.store(),
            unfit=lambda kept: made_for_other(kept, size),
        )
    outcome.held.update(review.held)
    rows = store.batch(channel, day)

    def cells(row: VideoRow) -> dict:
        made = row.outputs.get(CLIPS_STAGE)
        if not made:
            return {}
        return {
            "clips": len(made.get("files", [])),
            "cost_usd": made.get("cost_usd", 0.0),
            "credits": credit_line(made.get("clips", [])),
        }

    metadata = stage_report(rows, outcome, CLIPS_STAGE, CLIP_COLUMNS, cells)
    metadata["generator"] = generator.name
    metadata["cost_usd"] = round(sum(r.outputs.get(CLIPS_STAGE, {}).get("cost_usd", 0.0) for r in rows), 6)
    return dg.MaterializeResult(metadata=metadata)
