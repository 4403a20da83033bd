"""The per-video batch runner every stage shares: one video's failure never stops its siblings.

A stage's output is recorded on the video's row with the files it wrote and each file's size and
SHA-256 (`checksums`). A rerun keeps an output only while its files are exactly as they were made,
and redoes the video when one is missing or changed, saying so. A stage that finds a needed
upstream output no longer valid, or fails on a file of it it could not read (BadMediaFile), marks
that output `invalid` with the reason, so the upstream stage makes it again on its next run and
this stage then retries: one bad file never blocks its batch for ever.

Given a media store (`media`), outputs are recorded with keys relative to the media root instead of
local paths: the work of a stage gets its upstream outputs fetched to local files, and what it
returns is put into the store (see `storage.outputs`) before it is recorded.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from shorts_assets.core.errors import BatchFailed
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.providers.media import BadMediaFile, remove_stale_partials
from shorts_assets.storage.outputs import local_output, store_output, verify_stored
from shorts_assets.storage.store import MediaStore, file_checksum

CHECKSUMS = "checksums"
# Set on a recorded output a later stage could not use: its stage makes it again.
INVALID = "invalid"


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
    # Videos done again because their kept output failed verification, with the reason.
    redone: dict[str, str] = field(default_factory=dict)
    # Videos waiting because a needed upstream output failed verification, with the reason.
    invalid_upstream: dict[str, str] = field(default_factory=dict)
    # Videos the review gate held back from this stage (awaiting review, rejected), with the reason.
    held: dict[str, str] = field(default_factory=dict)

    def status_of(self, video_id: str) -> str:
        if video_id in self.held:
            return self.held[video_id]
        if video_id in self.failed:
            return "failed"
        if video_id in self.blocked:
            reason = self.invalid_upstream.get(video_id)
            return f"waiting: {reason}" if reason else "waiting"
        if video_id in self.redone:
            return f"redone: {self.redone[video_id]}"
        return "done" if video_id in self.done else "kept"

    def metadata(self) -> dict[str, Any]:
        return {
            "done": len(self.done),
            "kept_from_earlier_run": len(self.kept),
            "waiting_on_upstream": len(self.blocked),
            "failed": len(self.failed),
            "redone_after_verification": len(self.redone),
            "upstream_invalid": len(self.invalid_upstream),
            "held_for_review": len(self.held),
        }


def with_checksums(output: Mapping[str, Any]) -> dict[str, Any]:
    """`output` with a `checksums` entry (path -> size and SHA-256) for each of its `files`."""
    sums = {}
    for name in output.get("files", []):
        try:
            sums[str(name)] = file_checksum(name)
        except FileNotFoundError:
            raise FileNotFoundError(f"the stage's output names {name}, which does not exist") from None
    return {**output, CHECKSUMS: sums}


def verify_output(output: Mapping[str, Any] | None, media: MediaStore | None = None) -> str | None:
    """None when every file of a recorded stage output is as it was made, else why not (naming the file).

    Sizes are compared first, then SHA-256. An output recorded without checksums can only be
    checked for files that are missing or empty. With `media`, the output's files are keys of that store.
    """
    if media is not None:
        return str(output[INVALID]) if output and output.get(INVALID) else verify_stored(output, media)
    if not output:
        return "no output recorded"
    if output.get(INVALID):
        return str(output[INVALID])
    files = [Path(name) for name in output.get("files", [])]
    sums: Mapping[str, Mapping[str, Any]] = output.get(CHECKSUMS) or {}
    for path in files:
        if not path.is_file():
            return f"{path.name} is missing ({path})"
        size = path.stat().st_size
        made = sums.get(str(path))
        if made is None:
            if size == 0:
                return f"{path.name} is empty ({path})"
        elif size != made["size"]:
            return f"{path.name} changed since it was made ({size} bytes, {made['size']} when made: {path})"
    for path in files:
        made = sums.get(str(path))
        if made is not None and file_checksum(path)["sha256"] != made["sha256"]:
            return f"{path.name} changed since it was made (its SHA-256 differs: {path})"
    return None


def mark_invalid(store: Store, row: VideoRow, stage: str, reason: str) -> None:
    """Mark `stage`'s recorded output on `row` invalid with `reason`, so `stage` makes it again on its
    next run (for a caller that finds it unusable, e.g. a file that fails `verify_output` before upload)."""
    store.complete_stage(row.video_id, stage, {**row.outputs[stage], INVALID: reason})


def _upstream_of(row: VideoRow, needs: tuple[str, ...], bad: Path, media: MediaStore | None = None) -> str | None:
    """The needed stage whose output holds the file `bad` (a local path), if one does."""
    for need in needs:
        names = [str(name) for name in (row.outputs.get(need) or {}).get("files", [])]
        if media is not None:
            names = [name if name.startswith("/") else str(media.local_path(name)) for name in names]
        files = {Path(name).resolve() for name in names}
        if bad.resolve() in files:
            return need
    return None


def _sweep(output: Mapping[str, Any] | None, media: MediaStore | None = None) -> None:
    """Remove what dead writers left half-written beside a kept output's files."""
    if media is not None:
        media.sweep(str(key) for key in (output or {}).get("files", []))
        return
    for folder in {Path(name).parent for name in (output or {}).get("files", [])}:
        remove_stale_partials(folder)


def run_per_video(
    log: Log,
    store: Store,
    rows: Iterable[VideoRow],
    stage: str,
    needs: tuple[str, ...],
    work: Callable[[VideoRow], Mapping[str, Any]],
    media: MediaStore | None = None,
    unfit: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> StageOutcome:
    """Run `work` for every video of the batch that lacks this stage; one failure never stops the rest.

    A video is skipped when its stage output is recorded and its files verify, and redone (saying
    why) when they do not, or when `unfit` says why the recorded output does not fit this run (made
    for another render size, say). It waits when a stage it needs has not finished; when that stage's
    output no longer verifies, or `work` fails on a file of it (BadMediaFile), that output is marked
    invalid so the stage's next run makes it again. What `work` returns is recorded with the
    checksums of its files. If every attempted video fails, and not on an upstream file that is made
    again, the asset fails: that is a systemic fault (a missing binary, a full disk), not a bad video.
    With `media`, the store is checked to be writable first (a MediaStoreError naming what to fix),
    `work` sees its needed outputs as local files, and what it returns is stored and recorded by key.
    """
    if media is not None:
        media.check()
    outcome = StageOutcome()
    for row in rows:
        own = row.outputs.get(stage)
        problem = verify_output(own, media)
        if problem is None and unfit is not None:
            problem = unfit(own)  # type: ignore[arg-type]
        if problem is None:
            _sweep(own, media)
            outcome.kept.append(row.video_id)
            continue
        if own:
            outcome.redone[row.video_id] = problem
        if _blocked(log, store, row, stage, needs, outcome, media):
            continue
        if own:
            log.warning(f"{row.video_id}: redoing {stage}: {problem}")
        try:
            if media is None:
                output = with_checksums(work(row))
            else:
                output = store_output(work(_with_local_inputs(row, needs, media)), media)
        except Exception as exc:  # one video's failure, whatever it is, must not fail its siblings
            message = f"{type(exc).__name__}: {exc}"
            outcome.failed[row.video_id] = message
            outcome.redone.pop(row.video_id, None)
            upstream = _upstream_of(row, needs, exc.path, media) if isinstance(exc, BadMediaFile) else None
            if upstream is not None:
                # The upstream stage's next run makes the file again; this stage then retries.
                mark_invalid(store, row, upstream, f"{stage} could not use {exc.path.name}: {message}")
                message += f" ({upstream} makes {exc.path.name} again on its next run)"
                outcome.failed[row.video_id] = message
                outcome.invalid_upstream[row.video_id] = f"{upstream} output is invalid: {exc.path.name}"
            store.fail_stage(row.video_id, stage, message)
            log.warning(f"{row.video_id} failed at {stage}: {message}")
            log.debug(traceback.format_exc())
            continue
        store.complete_stage(row.video_id, stage, output)
        outcome.done.append(row.video_id)
    systemic = {v: m for v, m in outcome.failed.items() if v not in outcome.invalid_upstream}
    if systemic and not outcome.done and not outcome.kept and len(systemic) == len(outcome.failed):
        first = next(iter(systemic.items()))
        raise BatchFailed(
            f"every video of the batch failed at {stage}; first: {first[0]}: {first[1]}", outcome.metadata()
        )
    return outcome


def _with_local_inputs(row: VideoRow, needs: tuple[str, ...], media: MediaStore) -> VideoRow:
    """`row` with each needed output's files fetched from the store and named by their local paths.

    A file missing or changed in the store raises BadMediaFile naming its local path (`media.local_path`
    of its key), so the stage that made it is told to make it again.
    """
    local = dict(row.outputs)
    for need in needs:
        local[need] = local_output(row.outputs[need], media)
    return dataclasses.replace(row, outputs=local)


def _blocked(
    log: Log,
    store: Store,
    row: VideoRow,
    stage: str,
    needs: tuple[str, ...],
    outcome: StageOutcome,
    media: MediaStore | None = None,
) -> bool:
    """Whether `row` must wait for a needed stage; a needed output that no longer verifies is marked invalid."""
    for need in needs:
        output = row.outputs.get(need)
        problem = verify_output(output, media)
        if problem is None:
            continue
        outcome.blocked.append(row.video_id)
        outcome.redone.pop(row.video_id, None)
        if output:
            reason = f"{need} output is invalid: {problem}; {need} makes it again on its next run"
            if not output.get(INVALID):
                mark_invalid(store, row, need, problem)
            outcome.invalid_upstream[row.video_id] = reason
            log.warning(f"{row.video_id} waits at {stage}: {reason}")
        return True
    return False
