"""Specifies what a render measures and makes of itself in its own passes: a real render with a known
black and silent stretch measures itself as a separate decode measures it, `check_render` judges that
record without decoding, a render without one (or with one made under other thresholds) is decoded,
and the contact sheet made from the render's frames matches one made by decoding the short."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from shorts_assets.core.types import Clip, RenderResult, Voiceover, WordTiming
from shorts_assets.db.store import Store
from shorts_assets.defs.checks import build_render_checks
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import DatabaseResource, MediaResource
from shorts_assets.providers.media import run_ffmpeg
from shorts_assets.providers.render.ffmpeg import FfmpegRenderer
from shorts_assets.providers.render.quality import MEASURED, check_render
from shorts_assets.storage.outputs import store_output
from shorts_assets_tests.helpers import script_json
from shorts_assets_tests.providers.render.test_ffmpeg import make_script
from shorts_assets_tests.providers.render.test_inputs import make_video

pytestmark = pytest.mark.slow

DRAFT = {"width": 540, "height": 960}
BLACK_S = 3.0  # the first clip: black
SILENT_S = 2.5  # the narration's first seconds: nothing


def by_name(results) -> dict[str, tuple[bool, str]]:
    return {name: (passed, detail) for name, passed, detail in results}


def black_clip(path: Path, seconds: float) -> Clip:
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"color=c=black:s=540x960:r=30:d={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
        + [f"file:{path}"],
        "making a black clip",
    )
    return Clip(path=path, duration_s=seconds, width=540, height=960)


def late_narration(path: Path, silent_s: float, spoken_s: float) -> Voiceover:
    """A tone that starts after `silent_s` of silence, with words timed over the tone only."""
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=220:sample_rate=22050:duration={spoken_s}",
            "-af",
            f"adelay={int(silent_s * 1000)},apad=whole_dur={silent_s + spoken_s}",
            "-ac",
            "1",
            f"file:{path}",
        ],
        "making a narration that starts late",
    )
    words = ("Late", "words", "only", "here.")
    step = spoken_s / len(words)
    timings = tuple(
        WordTiming(
            word=w, start_s=round(BLACK_S + 0.2 + i * step / 2, 3), end_s=round(BLACK_S + 0.2 + (i + 0.8) * step / 2, 3)
        )
        for i, w in enumerate(words)
    )
    return Voiceover(audio_path=path, duration_s=silent_s + spoken_s, sample_rate=22050, voice="en-us", words=timings)


@pytest.fixture(scope="module")
def dark_quiet_render(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """A real draft render opening with 3 s of black picture and 2.5 s without sound (no music bed)."""
    base = tmp_path_factory.mktemp("dark-quiet")
    clips = [black_clip(base / "black.mp4", BLACK_S), make_video(base / "bright.mp4", "640x360", seconds=3.0)]
    voice = late_narration(base / "voice.wav", SILENT_S, 3.5)
    script = make_script("vid-dark-quiet", "boxed", (BLACK_S, 3.0))
    return FfmpegRenderer(profile="draft", music=False).render(clips, voice, script, base / "short.mp4")


def test_the_render_measures_its_black_and_silent_stretches_as_a_separate_decode_does(dark_quiet_render) -> None:
    measured = dark_quiet_render.measurements
    assert measured is not None
    # The black clip fills its share of the timeline (a little over its own length) up to the cross-fade.
    assert measured["longest_black_s"] == pytest.approx(BLACK_S, abs=0.5)
    assert measured["longest_silence_s"] == pytest.approx(SILENT_S, abs=0.15)

    limits = {"max_black_s": 1.0, "max_silence_s": 1.0, **DRAFT}
    from_record = by_name(check_render(dark_quiet_render.video_path, measured=measured, **limits))
    decoded = by_name(check_render(dark_quiet_render.video_path, **limits))

    assert from_record["measured"] == (True, "by the render's own passes")
    assert decoded["measured"] == (True, "by decoding the file")
    # The same verdicts, and figures that agree within what encoding the file changes.
    verdicts = {n: p for n, (p, _) in from_record.items() if n != "measured"}
    assert verdicts == {n: p for n, (p, _) in decoded.items() if n != "measured"}
    assert not verdicts["no_black_stretch"] and not verdicts["no_silent_stretch"] and verdicts["decodes_fully"]

    def figure(detail: str) -> float:
        return float(detail.split()[0] if detail[0] in "-0123456789" else detail.split()[3])

    assert figure(from_record["loudness"][1]) == pytest.approx(figure(decoded["loudness"][1]), abs=0.2)
    assert figure(from_record["true_peak"][1]) == pytest.approx(figure(decoded["true_peak"][1]), abs=0.3)
    assert figure(from_record["no_black_stretch"][1]) == pytest.approx(figure(decoded["no_black_stretch"][1]), abs=0.1)


def test_the_record_is_judged_without_decoding_and_passes_a_short_within_limits(dark_quiet_render) -> None:
    results = by_name(
        check_render(
            dark_quiet_render.video_path,
            measured=dark_quiet_render.measurements,
            max_black_s=4.0,
            max_silence_s=4.0,
            lufs_tolerance=3.0,
            **DRAFT,
        )
    )

    assert results["measured"] == (True, "by the render's own passes")
    assert all(passed for passed, _ in results.values()), results


def test_a_render_without_measurements_or_measured_under_other_thresholds_is_decoded(dark_quiet_render) -> None:
    coarse = {**dark_quiet_render.measurements, "min_stretch_s": 5.0}
    other_floor = {**dark_quiet_render.measurements, "silence_db": -40.0}

    for measured in (None, {}, {"lufs": -14.0}, coarse, other_floor):
        results = by_name(check_render(dark_quiet_render.video_path, measured=measured, max_black_s=1.0, **DRAFT))
        assert results["measured"] == (True, "by decoding the file")
        assert not results["no_black_stretch"][0]


def test_the_partition_check_reads_each_renders_record_and_decodes_those_without(
    tmp_path: Path, dark_quiet_render
) -> None:
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    day = date(2026, 11, 21)
    store = Store(url)
    path = str(dark_quiet_render.video_path)
    media = MediaResource(data_dir=str(tmp_path / "data"), media_root=str(Path(path).parent))
    # One render measured itself as within limits, one measured a long black stretch, one measured nothing.
    calm = {**dark_quiet_render.measurements, "longest_black_s": 0.0, "longest_silence_s": 0.0}
    dark = {**dark_quiet_render.measurements, "longest_black_s": 9.0, "longest_silence_s": 0.0}
    for position, measured in enumerate((calm, dark, None), start=1):
        video_id = f"demo-20261121-{position:02d}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=day,
            position=position,
            strategy_version="v0",
            arms={},
            script=script_json(video_id, title="t"),
            writer="test",
        )
        store.complete_stage(
            video_id, "render", store_output({"video_path": path, "files": [path], MEASURED: measured}, media.store())
        )

    @dg.asset(name="renders", partitions_def=loop_partitions)
    def renders_stub() -> None:
        return None

    result = dg.materialize(
        [renders_stub, *build_render_checks("renders", lufs_tolerance=3.0, **DRAFT)],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}),
        resources={"database": DatabaseResource(url=url), "media": media},
        raise_on_error=False,
    )

    [evaluation] = result.get_asset_check_evaluations()
    table = evaluation.metadata["failures"].value
    assert not evaluation.passed
    assert "demo-20261121-01" not in table  # its record says all is well: the file is not decoded
    assert "demo-20261121-02" in table and "9.00 s" in table  # judged from its record
    decoded = [line for line in table.splitlines() if "demo-20261121-03" in line]
    assert any("no_black_stretch" in line for line in decoded)  # decoded: the real 3 s of black


def test_the_contact_sheet_comes_from_the_render_pass_as_one_made_by_decoding_the_short(
    dark_quiet_render, tmp_path: Path
) -> None:
    from PIL import Image, ImageChops

    from shorts_assets.defs.previews import contact_sheet

    beside = dark_quiet_render.video_path.with_name("short.contact.jpg")
    decoded = contact_sheet(dark_quiet_render.video_path, tmp_path / "decoded.jpg", dark_quiet_render.duration_s)

    ours, theirs = Image.open(beside).convert("RGB"), Image.open(decoded).convert("RGB")
    assert ours.size == theirs.size == (6 * 72, 128)
    difference = ImageChops.difference(ours, theirs).convert("L")
    assert sum(difference.getdata()) / (ours.size[0] * ours.size[1]) < 6  # JPEG and x264 apart, the same frames
    assert ours.getpixel((36, 64)) == pytest.approx((0, 0, 0), abs=20)  # the first tile: the black clip
    assert beside.stat().st_mtime >= dark_quiet_render.video_path.stat().st_mtime
