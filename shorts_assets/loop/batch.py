"""The per-video batch runner every stage shares: one video's failure never stops its siblings.

A stage's output is recorded on the video's row with the files it wrote; a rerun keeps what is
there and does only what is missing.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from shorts_assets.core.errors import BatchFailed
from shorts_assets.db.store import Store, VideoRow


class Log(Protocol):
    """Where a stage reports: a logging.Logger, or Dagster's context.log."""

    def debug(self, msg: str) -> Any: ...

    def info(self, msg: str) -> Any: ...

    def warning(self, msg: str) -> Any: ...


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
    log: Log,
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
            log.warning(f"{row.video_id} failed at {stage}: {message}")
            log.debug(traceback.format_exc())
            continue
        store.complete_stage(row.video_id, stage, output)
        outcome.done.append(row.video_id)
    if outcome.failed and not outcome.done and not outcome.kept:
        first = next(iter(outcome.failed.items()))
        raise BatchFailed(
            f"every video of the batch failed at {stage}; first: {first[0]}: {first[1]}", outcome.metadata()
        )
    return outcome
