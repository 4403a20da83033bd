"""renders: the finished vertical shorts, one MP4 and thumbnail per video, shown on the asset's page.

Each video's thumbnail and a contact sheet of its frames are inlined in the metadata, so a person can
see the shorts in the UI; the batch is a table with each video's duration, loudness, render profile,
status and full error, and each MP4's key under the media root (and URL, where the media root is
served at CLOUD_RENDER_MEDIA_BASE_URL) is listed.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.records import clips_from_json, voiceover_from_json
from shorts_assets.db.store import VideoRow
from shorts_assets.defs.constants import CREATE, RENDER_POOL
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.voiceovers import voiceovers
from shorts_assets.defs.metadata import batch_failure, column, partition_of, run_stage, stage_report
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.previews import THUMBNAIL_WIDTH, contact_sheet, inline_file, inline_image
from shorts_assets.defs.resources import (
    ChannelsResource,
    DatabaseResource,
    MediaResource,
    RendererResource,
    SpendingResource,
)
from shorts_assets.defs.retries import generation_retry
from shorts_assets.loop.batch import verify_output
from shorts_assets.loop.review import AT_GENERATION, AT_PUBLISH, gate
from shorts_assets.loop.stages import CLIPS_STAGE, RENDER_STAGE, VOICEOVER_STAGE
from shorts_assets.providers.render.ffmpeg import PROFILES
from shorts_assets.providers.render.quality import MEASURED, CheckResult, check_render, reject_if_below_contract
from shorts_assets.providers.render.sheet import sheet_path
from shorts_assets.storage import MediaStore
from shorts_assets.storage.fetch import fetch_verified

_LUFS_RE = re.compile(r"^(-?[\d.]+|-inf) LUFS")

RENDER_COLUMNS = [
    column("duration_s", float, "length of the short in seconds"),
    column("LUFS", float, "integrated loudness of the finished short"),
    column("profile", description="render profile and size: final is what platforms get, draft is for previews"),
]


def integrated_lufs(checks: list[CheckResult]) -> float | None:
    """The integrated loudness `check_render` measured, or None when it measured none (or silence)."""
    for name, _, detail in checks:
        found = _LUFS_RE.match(detail) if name == "loudness" else None
        if found and found.group(1) != "-inf":
            return round(float(found.group(1)), 1)
    return None


def profile_of(render: Mapping[str, Any]) -> str:
    """The render profile whose size the output has, with the size (`draft 540×960`)."""
    size = (render.get("width"), render.get("height"))
    names = [name for name, p in PROFILES.items() if (p.width, p.height) == size]
    return " ".join([*names[:1], f"{size[0]}×{size[1]}"])


def rendered_at_other_size(kept: Mapping[str, Any], contract: Mapping[str, float]) -> str | None:
    """Why a recorded render does not fit the renderer's contract's size (a draft kept for a final run)."""
    made, wanted = (kept.get("width"), kept.get("height")), (contract["width"], contract["height"])
    return None if made == wanted else f"it was rendered at {made[0]}x{made[1]}, the profile is {wanted[0]}x{wanted[1]}"


def contact_sheet_path(video_path: str | Path) -> Path:
    """Where a short's contact sheet lives: beside it, `short.contact.jpg` for `short.mp4` (the renderer
    writes it there from its own frames; otherwise it is made here from the file)."""
    return sheet_path(video_path)


def media_url(base_url: str, key: str) -> str | None:
    """The URL of a file of the media root (by its key) where the media root is served at `base_url`.

    A key recorded before the media root (an absolute path) has none.
    """
    if not base_url or str(key).startswith("/"):
        return None
    return f"{base_url.rstrip('/')}/{quote(str(key))}"


def _local(log: Any, row: VideoRow, render: Mapping[str, Any], files: MediaStore) -> Mapping[str, Any] | None:
    """The render's files fetched from the media store for its preview, or None (saying why) when they cannot be."""
    try:
        local, problem = fetch_verified(render, files, verify_output)
    except ProviderError as exc:
        problem = str(exc)
    if problem is not None:
        log.warning(f"{row.video_id}: no preview: {problem}")
        return None
    return local


def _preview(log: Any, row: VideoRow, render: Mapping[str, Any] | None, url: str | None) -> str:
    """Markdown for one finished video: its title, thumbnail and contact sheet, and its URL if served."""
    lines = [f"**{row.video_id}** · {row.script.title}", ""]
    if render is None:
        return "\n".join([*lines, "_no preview could be made; see the run's log_"])
    images = []
    try:
        images.append(inline_image(render["thumbnail_path"], THUMBNAIL_WIDTH).markdown("thumbnail"))
    except (OSError, ProviderError, ValueError) as exc:
        log.warning(f"{row.video_id}: no thumbnail preview: {exc}")
    video_path = Path(render["video_path"])
    sheet = contact_sheet_path(video_path)
    try:
        # A sheet older than its short belongs to an earlier render of it.
        if not sheet.is_file() or sheet.stat().st_mtime < video_path.stat().st_mtime:
            contact_sheet(video_path, sheet, render["duration_s"])
        images.append(inline_file(sheet).markdown("contact sheet"))
    except (OSError, ProviderError, ValueError) as exc:
        log.warning(f"{row.video_id}: no contact sheet: {exc}")
    lines.append(" ".join(images) or "_no preview could be made; see the run's log_")
    if url:
        lines += ["", f"[{url}]({url})"]
    return "\n".join(lines)


@dg.asset(
    partitions_def=loop_partitions,
    group_name=CREATE,
    deps=[clips, voiceovers],
    pool=RENDER_POOL,
    kinds={"ffmpeg"},
    retry_policy=generation_retry("RENDERER_PROVIDER"),
)
def renders(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    renderer: RendererResource,
    spending: SpendingResource,
    channels: ChannelsResource,
) -> dg.MaterializeResult:
    """The batch's shorts rendered to 1080×1920 MP4 with narration and burned-in captions. Under review, a
    rejected video is not rendered, and a finished short without a decision waits as awaiting_review."""
    channel, day = partition_of(context)
    store = database.store()
    files = media.store()
    config = channels.get(channel)
    review = gate(context.log, store, config, store.batch(channel, day), AT_GENERATION, database.notifier(store))
    budget = spending.budget(channel, store)
    contract = renderer.contract()

    def work(row: VideoRow) -> dict:
        out_path = media.video_dir(channel, day, row.video_id) / "short.mp4"
        spent_before = budget.spent_usd()
        result = engine.render(
            clips_from_json(row.outputs[CLIPS_STAGE]),
            voiceover_from_json(row.outputs[VOICEOVER_STAGE]),
            row.script,
            out_path,
        )
        # Measured by the render's own passes when the renderer made them; else the file is decoded once.
        checks = check_render(result.video_path, measured=result.measurements, **contract)
        if not all(passed for _, passed, _ in checks):
            reject_if_below_contract(result.video_path, contract, checks)  # moves the file aside and says why
        return {
            "video_path": str(result.video_path),
            "thumbnail_path": str(result.thumbnail_path),
            "duration_s": result.duration_s,
            "width": result.width,
            "height": result.height,
            "fps": result.fps,
            "lufs": integrated_lufs(checks),
            MEASURED: dict(result.measurements) if result.measurements else None,
            "files": [str(result.video_path), str(result.thumbnail_path)],
            "cost_usd": round(budget.spent_usd() - spent_before, 6),
        }

    with batch_failure(), renderer.adapter(channel, budget, store, files) as engine:
        outcome = run_stage(
            context,
            store,
            review.allowed,
            RENDER_STAGE,
            (CLIPS_STAGE, VOICEOVER_STAGE),
            work,
            files,
            unfit=lambda kept: rendered_at_other_size(kept, contract),
        )
    outcome.held.update(review.held)
    # Marks each finished short without a decision awaiting_review (announced once), so people see it now.
    waiting = gate(context.log, store, config, store.batch(channel, day), AT_PUBLISH, database.notifier(store)).held
    rows = store.batch(channel, day)
    rendered = {r.video_id for r in rows if RENDER_STAGE in r.outputs}
    outcome.held.update({v: why for v, why in waiting.items() if v in rendered and v not in outcome.failed})
    finished = [(r, r.outputs[RENDER_STAGE]) for r in rows if RENDER_STAGE in r.outputs]

    def cells(row: VideoRow) -> dict[str, Any]:
        render = row.outputs.get(RENDER_STAGE)
        if not render:
            return {}
        return {"duration_s": round(render["duration_s"], 2), "LUFS": render.get("lufs"), "profile": profile_of(render)}

    metadata = stage_report(rows, outcome, RENDER_STAGE, RENDER_COLUMNS, cells)
    urls = {r.video_id: media_url(media.base_url, f["video_path"]) for r, f in finished}
    if finished:
        metadata["previews"] = dg.MetadataValue.md(
            "\n\n---\n\n".join(
                _preview(context.log, r, _local(context.log, r, f, files), urls[r.video_id]) for r, f in finished
            )
        )
    metadata["media_root"] = files.root_uri
    for row, render in finished:
        metadata[f"mp4 {row.video_id}"] = dg.MetadataValue.path(render["video_path"])
        if urls[row.video_id]:
            metadata[f"url {row.video_id}"] = dg.MetadataValue.url(urls[row.video_id])
    metadata["total_seconds"] = round(sum(f["duration_s"] for _, f in finished), 1)
    metadata["renderer"] = engine.name
    metadata["cost_usd"] = round(sum(f.get("cost_usd", 0.0) for _, f in finished), 6)
    return dg.MaterializeResult(metadata=metadata)
