"""What the assets share: the partition they materialise, running a per-video stage, and how they report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg

from shorts_assets.core.errors import BatchFailed, ConfigError, ProviderError
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.defs.jobs import partition_from_tags
from shorts_assets.loop.batch import StageOutcome, run_per_video
from shorts_assets.storage import MediaStore


def partition_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, date]:
    """(channel, date) of the partition being materialised; a run whose partition tags are missing,
    malformed, unknown or outside the date range fails by name before any work."""
    try:
        return partition_from_tags(context.run.tags)
    except ConfigError as exc:
        raise dg.Failure(description=str(exc)) from None


@contextmanager
def batch_failure() -> Iterator[None]:
    """A failure of the whole batch fails the asset with a plain message: its reason and counts.

    Besides `BatchFailed`, a provider or configuration error that escapes the per-video runner (an
    adapter that cannot be built, a missing key) stops the whole batch too; each becomes a
    `dg.Failure` whose description is the reason, with no chained stack trace of our code.
    """
    try:
        yield
    except BatchFailed as exc:
        raise dg.Failure(description=str(exc), metadata=exc.metadata) from None
    except (ProviderError, ConfigError) as exc:
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}") from None


def run_stage(
    context: dg.AssetExecutionContext,
    store: Store,
    rows: Iterable[VideoRow],
    stage: str,
    needs: tuple[str, ...],
    work: Callable[[VideoRow], Mapping[str, Any]],
    media: MediaStore | None = None,
    unfit: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> StageOutcome:
    """`loop.batch.run_per_video` for an asset: its log, and a whole-batch failure as a Dagster failure;
    with `media`, the stage's files are kept in that store and recorded by key."""
    with batch_failure():
        return run_per_video(context.log, store, rows, stage, needs, work, media, unfit)


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


COLUMN_TYPES = {str: "string", int: "int", float: "float", bool: "bool"}


def column(name: str, kind: type = str, description: str | None = None) -> dg.TableColumn:
    """A column of a batch table; `kind` is the Python type of its cells (str, int, float or bool)."""
    return dg.TableColumn(name, type=COLUMN_TYPES[kind], description=description)


def video_status(row: VideoRow, outcome: StageOutcome, stage: str) -> tuple[str, str]:
    """A video's status at `stage` in this run, and the full reason when it failed or waits on a failure."""
    status = outcome.status_of(row.video_id)
    if row.video_id in outcome.failed:
        return status, outcome.failed[row.video_id]
    if row.status == "failed" and row.failed_stage == stage:
        return "failed", row.error or ""
    if status.startswith("waiting") and row.status == "failed":
        return status, f"{row.failed_stage} failed: {row.error or ''}"
    return status, ""


def stage_report(
    rows: list[VideoRow],
    outcome: StageOutcome,
    stage: str,
    columns: list[dg.TableColumn],
    cells: Callable[[VideoRow], Mapping[str, Any]],
) -> dict[str, Any]:
    """The metadata every per-video stage reports: counts and the batch as a table, a row per video.

    `columns` are the stage's own columns between the video's arms and its status; `cells` gives
    their values for a video (None where it has none). `rows` should be read after the stage ran,
    so `cells` sees its outputs. The error column holds the full reason, never cut.
    """
    schema = dg.TableSchema(
        columns=[
            column("video", description="video id"),
            column("title"),
            column("arms", description="the content arms the strategy chose"),
            *columns,
            column("status", description="done, kept from an earlier run, waiting on upstream, or failed"),
            column("error", description="why the video failed, in full"),
        ]
    )
    records = []
    for r in rows:
        status, error = video_status(r, outcome, stage)
        own = cells(r)
        records.append(
            dg.TableRecord(
                {
                    "video": r.video_id,
                    "title": r.script.title,
                    "arms": arm_summary(r.arms),
                    **{c.name: own.get(c.name) for c in columns},
                    "status": status,
                    "error": error,
                }
            )
        )
    return {"videos": len(rows), **outcome.metadata(), "batch": dg.MetadataValue.table(records, schema)}
