"""What the per-video assets share: the partition's batch, per-video isolation of failures, reports."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import dagster as dg

from shorts_assets.db.store import Store, VideoRow


def partition_of(context: dg.AssetExecutionContext) -> tuple[str, date]:
    """(channel, date) of the partition being materialised."""
    keys = context.partition_key.keys_by_dimension  # type: ignore[union-attr]
    return keys["channel"], date.fromisoformat(keys["date"])


def video_id_for(channel: str, batch_date: date, position: int) -> str:
    return f"{channel}-{batch_date:%Y%m%d}-{position:02d}"


@dataclass
class StageOutcome:
    done: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def status_of(self, video_id: str) -> str:
        if video_id in self.failed:
            return "failed"
        if video_id in self.blocked:
            return "waiting"
        return "done" if video_id in self.done else "kept"

    def metadata(self) -> dict[str, Any]:
        return {
            "done": len(self.done),
            "kept_from_earlier_run": len(self.kept),
            "waiting_on_upstream": len(self.blocked),
            "failed": len(self.failed),
        }


def _files_present(output: Mapping[str, Any] | None) -> bool:
    return bool(output) and all(Path(p).is_file() for p in output.get("files", []))


def run_per_video(
    context: dg.AssetExecutionContext,
    store: Store,
    rows: Iterable[VideoRow],
    stage: str,
    needs: tuple[str, ...],
    work: Callable[[VideoRow], Mapping[str, Any]],
) -> StageOutcome:
    """Run `work` for every video of the batch that lacks this stage; one failure never stops the rest.

    A video is skipped when its stage output is recorded and its files are still there, and waits
    when a stage it needs has not finished. If every attempted video fails, the asset fails: that is
    a systemic fault (a missing binary, a full disk), not a bad video.
    """
    outcome = StageOutcome()
    for row in rows:
        if _files_present(row.outputs.get(stage)):
            outcome.kept.append(row.video_id)
            continue
        if any(not _files_present(row.outputs.get(need)) for need in needs):
            outcome.blocked.append(row.video_id)
            continue
        try:
            output = work(row)
        except Exception as exc:  # one video's failure, whatever it is, must not fail its siblings
            message = f"{type(exc).__name__}: {exc}"
            outcome.failed[row.video_id] = message
            store.fail_stage(row.video_id, stage, message)
            context.log.warning(f"{row.video_id} failed at {stage}: {message}")
            context.log.debug(traceback.format_exc())
            continue
        store.complete_stage(row.video_id, stage, output)
        outcome.done.append(row.video_id)
    if outcome.failed and not outcome.done and not outcome.kept:
        first = next(iter(outcome.failed.items()))
        raise dg.Failure(
            description=f"every video of the batch failed at {stage}; first: {first[0]}: {first[1]}",
            metadata=outcome.metadata(),
        )
    return outcome


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
                r.script.get("title", ""),
                arm_summary(r.arms),
                outcome.status_of(r.video_id)
                + (f": {outcome.failed[r.video_id][:120]}" if r.video_id in outcome.failed else ""),
                detail(r),
            ]
            for r in rows
        ],
    )
    return {"videos": len(rows), **outcome.metadata(), "batch": table}
