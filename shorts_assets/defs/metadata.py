"""What the assets share: the partition they materialise, running a per-video stage, and how they report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg

from shorts_assets.core.errors import BatchFailed
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.loop.batch import StageOutcome, run_per_video


def partition_of(context: dg.AssetExecutionContext) -> tuple[str, date]:
    """(channel, date) of the partition being materialised."""
    keys = context.partition_key.keys_by_dimension  # type: ignore[union-attr]
    return keys["channel"], date.fromisoformat(keys["date"])


@contextmanager
def batch_failure() -> Iterator[None]:
    """A failure of the whole batch fails the asset, with its reason and counts as the run shows them."""
    try:
        yield
    except BatchFailed as exc:
        raise dg.Failure(description=str(exc), metadata=exc.metadata) from None


def run_stage(
    context: dg.AssetExecutionContext,
    store: Store,
    rows: Iterable[VideoRow],
    stage: str,
    needs: tuple[str, ...],
    work: Callable[[VideoRow], Mapping[str, Any]],
) -> StageOutcome:
    """`loop.batch.run_per_video` for an asset: its log, and a whole-batch failure as a Dagster failure."""
    with batch_failure():
        return run_per_video(context.log, store, rows, stage, needs, work)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: list[str], rows: list[list[Any]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    if not rows:
        lines.append("| " + " | ".join(["—"] * len(headers)) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def arm_summary(arms: Mapping[str, str]) -> str:
    return " · ".join(f"{k}={v}" for k, v in arms.items())


def stage_report(rows: list[VideoRow], outcome: StageOutcome, detail: Callable[[VideoRow], str]) -> dict[str, Any]:
    """The metadata every per-video stage reports: counts and a table of the batch's videos.

    `rows` should be read after the stage ran, so `detail` sees its outputs.
    """
    table = markdown_table(
        ["video", "title", "arms", "status", "output"],
        [
            [
                r.video_id,
                r.script.title,
                arm_summary(r.arms),
                outcome.status_of(r.video_id)
                + (f": {outcome.failed[r.video_id][:120]}" if r.video_id in outcome.failed else ""),
                detail(r),
            ]
            for r in rows
        ],
    )
    return {"videos": len(rows), **outcome.metadata(), "batch": table}
