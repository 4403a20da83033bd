"""Specifies the per-video batch runner's verified outputs: each recorded output carries its files'
size and SHA-256; a kept output is reused only while its files are exactly as made, and redone,
saying why, when one is missing or changed (a short cut short after rendering, a clip emptied or
overwritten); a stage that finds a needed upstream output invalid, or fails on a file of it, marks
that output invalid so the upstream stage makes it again and no bad file blocks its batch for ever.
Real files, real ffmpeg, the real Store on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from shorts_assets.core.errors import BatchFailed
from shorts_assets.core.records import clips_from_json, to_json, voiceover_from_json
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.loop.batch import CHECKSUMS, INVALID, mark_invalid, run_per_video, verify_output, with_checksums
from shorts_assets.providers.clips.procedural import ProceduralClips
from shorts_assets.providers.render.ffmpeg import FfmpegRenderer
from shorts_assets_tests.helpers import script_json
from shorts_assets_tests.providers.render.test_ffmpeg import make_voiceover

DAY = date(2026, 11, 20)
VIDEO = "demo-20261120-01"


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        self.lines.append(msg)

    def warning(self, msg: str) -> None:
        self.lines.append(msg)


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    scenes = [{"prompt": f"scene {i}", "duration_s": 1.0, "visual": "starfield"} for i in (1, 2)]
    store.add_script(
        video_id=VIDEO,
        channel="demo",
        batch_date=DAY,
        position=1,
        strategy_version="v0",
        arms={"caption_style": "boxed"},
        script=script_json(VIDEO, narration="One two three", scenes=scenes, arms={"caption_style": "boxed"}),
        writer="test",
    )
    return store


def rows(store: Store) -> list[VideoRow]:
    return store.batch("demo", DAY)


def output(store: Store, stage: str) -> dict:
    return rows(store)[0].outputs[stage]


class Notes:
    """A stage whose work writes one small file per video, counting how often it runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs = 0

    def __call__(self, row: VideoRow) -> dict:
        self.runs += 1
        path = self.folder / row.video_id / "notes.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"notes of run %d" % self.runs)
        return {"files": [str(path)]}


def test_an_output_is_recorded_with_the_size_and_sha256_of_each_of_its_files(store: Store, tmp_path: Path) -> None:
    run_per_video(Log(), store, rows(store), "notes", (), Notes(tmp_path))

    recorded = output(store, "notes")
    [path] = recorded["files"]
    content = Path(path).read_bytes()
    assert recorded[CHECKSUMS] == {path: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}}
    assert verify_output(recorded) is None


def test_an_unchanged_output_is_kept_without_running_the_work_again(store: Store, tmp_path: Path) -> None:
    work = Notes(tmp_path)
    run_per_video(Log(), store, rows(store), "notes", (), work)

    outcome = run_per_video(Log(), store, rows(store), "notes", (), work)

    assert (outcome.kept, work.runs) == ([VIDEO], 1)
    assert outcome.status_of(VIDEO) == "kept"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.write_bytes(b"notes of run 9"), "its SHA-256 differs"),
        (lambda p: p.write_bytes(b"cut"), "3 bytes, 14 when made"),
        (lambda p: p.unlink(), "notes.txt is missing"),
    ],
    ids=["same size, other bytes", "cut short", "deleted"],
)
def test_a_kept_output_whose_file_changed_is_redone_and_the_outcome_says_why(
    store: Store, tmp_path: Path, damage, reason: str
) -> None:
    work = Notes(tmp_path)
    run_per_video(Log(), store, rows(store), "notes", (), work)
    damage(Path(output(store, "notes")["files"][0]))
    log = Log()

    outcome = run_per_video(log, store, rows(store), "notes", (), work)

    assert (outcome.done, work.runs) == ([VIDEO], 2)
    assert outcome.status_of(VIDEO).startswith("redone: notes.txt")
    assert reason in outcome.status_of(VIDEO)
    assert any("redoing notes" in line and reason in line for line in log.lines)
    assert outcome.metadata()["redone_after_verification"] == 1
    assert verify_output(output(store, "notes")) is None


def test_a_kept_output_that_does_not_fit_this_run_is_redone_saying_why(store: Store, tmp_path: Path) -> None:
    def sized(size: str):
        notes = Notes(tmp_path)
        return notes, lambda row: {**notes(row), "size": size}

    def unfit(size: str):
        return lambda kept: None if kept.get("size") == size else f"made for {kept.get('size')}, not {size}"

    _, draft = sized("540x960")
    run_per_video(Log(), store, rows(store), "notes", (), draft, unfit=unfit("540x960"))
    kept = run_per_video(Log(), store, rows(store), "notes", (), draft, unfit=unfit("540x960"))
    notes, final = sized("1080x1920")

    outcome = run_per_video(Log(), store, rows(store), "notes", (), final, unfit=unfit("1080x1920"))

    assert kept.kept == [VIDEO]
    assert (outcome.done, notes.runs) == ([VIDEO], 1)
    assert outcome.status_of(VIDEO) == "redone: made for 540x960, not 1080x1920"
    assert output(store, "notes")["size"] == "1080x1920"


def test_an_output_marked_invalid_by_a_later_user_is_redone_by_its_stage(store: Store, tmp_path: Path) -> None:
    work = Notes(tmp_path)
    run_per_video(Log(), store, rows(store), "notes", (), work)

    mark_invalid(store, rows(store)[0], "notes", "the upload found notes.txt unreadable")
    outcome = run_per_video(Log(), store, rows(store), "notes", (), work)

    assert work.runs == 2
    assert outcome.status_of(VIDEO) == "redone: the upload found notes.txt unreadable"
    assert INVALID not in output(store, "notes")


def test_verify_output_names_what_is_wrong_and_accepts_what_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "short.mp4"
    path.write_bytes(b"x" * 100)
    made = with_checksums({"files": [str(path)]})

    assert verify_output(made) is None
    assert verify_output(None) == "no output recorded"
    assert verify_output({**made, INVALID: "render could not use it"}) == "render could not use it"
    path.write_bytes(b"x" * 40)
    assert verify_output(made).startswith("short.mp4 changed since it was made (40 bytes, 100 when made")
    # An output recorded before checksums existed can only be checked for missing or empty files.
    assert verify_output({"files": [str(path)]}) is None
    path.write_bytes(b"")
    assert verify_output({"files": [str(path)]}).startswith("short.mp4 is empty")


def test_a_file_a_stage_names_but_did_not_write_fails_that_video(store: Store, tmp_path: Path) -> None:
    def work(row: VideoRow) -> dict:
        return {"files": [str(tmp_path / "never.txt")]}

    with pytest.raises(BatchFailed, match="never.txt"):
        run_per_video(Log(), store, rows(store), "notes", (), work)

    row = rows(store)[0]
    assert (row.failed_stage, "notes" in row.outputs) == ("notes", False)
    assert "never.txt" in row.error


def test_what_a_dead_writer_left_beside_a_kept_output_is_swept(store: Store, tmp_path: Path) -> None:
    work = Notes(tmp_path)
    run_per_video(Log(), store, rows(store), "notes", (), work)
    folder = Path(output(store, "notes")["files"][0]).parent
    dead = subprocess_pid_that_exited()
    leftover = folder / f"notes.{dead}-{uuid.uuid4().hex}.partial.txt"
    leftover.write_bytes(b"half")

    run_per_video(Log(), store, rows(store), "notes", (), work)

    assert not leftover.exists() and work.runs == 1


def subprocess_pid_that_exited() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# Real stages: procedural clips, a narration stand-in and the draft renderer.


def clips_stage(tmp_path: Path):  # type: ignore[no-untyped-def]
    generator = ProceduralClips(width=180, height=320)

    def work(row: VideoRow) -> dict:
        made = generator.generate(row.script, tmp_path / row.video_id / "clips")
        return {"clips": to_json(made), "files": [str(c.path) for c in made]}

    return work


def voice_stage(tmp_path: Path):  # type: ignore[no-untyped-def]
    def work(row: VideoRow) -> dict:
        folder = tmp_path / row.video_id
        folder.mkdir(parents=True, exist_ok=True)
        spoken = make_voiceover(folder / "voiceover.wav", 2.0, ("One", "two", "three"))
        return {**to_json(spoken), "files": [str(spoken.audio_path)]}

    return work


def render_stage(tmp_path: Path):  # type: ignore[no-untyped-def]
    renderer = FfmpegRenderer(profile="draft", music=False)

    def work(row: VideoRow) -> dict:
        result = renderer.render(
            clips_from_json(row.outputs["clips"]),
            voiceover_from_json(row.outputs["voiceover"]),
            row.script,
            tmp_path / row.video_id / "short.mp4",
        )
        return {"video_path": str(result.video_path), "files": [str(result.video_path), str(result.thumbnail_path)]}

    return work


def make_all(store: Store, tmp_path: Path) -> None:
    assert run_per_video(Log(), store, rows(store), "clips", (), clips_stage(tmp_path)).done == [VIDEO]
    assert run_per_video(Log(), store, rows(store), "voiceover", (), voice_stage(tmp_path)).done == [VIDEO]
    render = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))
    assert render.done == [VIDEO]


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["empty", "random"])
def test_an_emptied_or_overwritten_clip_is_made_again_instead_of_blocking_the_batch(
    store: Store, tmp_path: Path, damage: str
) -> None:
    make_all(store, tmp_path)
    Path(output(store, "render")["video_path"]).unlink()
    clip = Path(output(store, "clips")["files"][0])
    clip.write_bytes(b"" if damage == "empty" else os.urandom(50_000))

    waiting = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))

    assert waiting.blocked == [VIDEO]
    assert "clips output is invalid: scene_01.mp4" in waiting.status_of(VIDEO)
    assert output(store, "clips")[INVALID]

    again = run_per_video(Log(), store, rows(store), "clips", (), clips_stage(tmp_path))
    assert again.done == [VIDEO] and again.status_of(VIDEO).startswith("redone: ")
    assert verify_output(output(store, "clips")) is None

    rendered = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))
    assert rendered.done == [VIDEO]
    assert rows(store)[0].status == "ok"


@pytest.mark.slow
def test_a_clip_made_bad_is_reported_by_the_render_and_made_again_by_clips(store: Store, tmp_path: Path) -> None:
    assert run_per_video(Log(), store, rows(store), "clips", (), clips_stage(tmp_path)).done == [VIDEO]
    assert run_per_video(Log(), store, rows(store), "voiceover", (), voice_stage(tmp_path)).done == [VIDEO]
    # As if the generator itself had written garbage: the checksums match the bad file.
    clip = Path(output(store, "clips")["files"][1])
    clip.write_bytes(os.urandom(20_000))
    store.complete_stage(VIDEO, "clips", with_checksums({**output(store, "clips")}))

    failed = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))

    row = rows(store)[0]
    assert VIDEO in failed.failed and "scene_02.mp4" in failed.failed[VIDEO]
    assert (row.status, row.failed_stage) == ("failed", "render") and "scene_02.mp4" in row.error
    assert "scene_02.mp4" in row.outputs["clips"][INVALID]

    assert run_per_video(Log(), store, rows(store), "clips", (), clips_stage(tmp_path)).done == [VIDEO]
    rendered = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))
    assert rendered.done == [VIDEO]
    assert rows(store)[0].status == "ok"


@pytest.mark.slow
def test_a_short_cut_short_after_rendering_is_not_kept_but_rendered_again(store: Store, tmp_path: Path) -> None:
    make_all(store, tmp_path)
    short = Path(output(store, "render")["video_path"])
    whole = short.read_bytes()
    short.write_bytes(whole[: len(whole) // 2])

    outcome = run_per_video(Log(), store, rows(store), "render", ("clips", "voiceover"), render_stage(tmp_path))

    assert outcome.done == [VIDEO]
    assert outcome.status_of(VIDEO).startswith("redone: short.mp4 changed since it was made")
    assert short.stat().st_size == len(whole)
    assert verify_output(output(store, "render")) is None
