"""The cloud renderer against a fake Creatomate that really renders from media it fetches over HTTP:
a render that meets the output contract, the composition it is asked for, failed and stuck renders,
rate limits and server errors, a render resumed after a crash without paying twice, budget refusals,
files the service cannot reach, a key kept out of errors and logs, and no half-written output."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Clip, Scene, Script, Voiceover, WordTiming
from shorts_assets.fakes.creatomate_server import FakeCreatomate
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.fakes.static_files import StaticFiles
from shorts_assets.providers.media import probe, run_ffmpeg
from shorts_assets.providers.net.costs import Budget, BudgetExceeded
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.render.cloud import NAMESPACE, TAIL_S, CloudRenderer
from shorts_assets.providers.render.quality import check_render, reject_if_below_contract
from shorts_assets_tests.helpers import DyingTransport, ProcessDied, Sleeps

POLICY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=30.0)
VOICE_S = 2.4
WORDS = ("Octopuses", "have", "three", "hearts.", "Two", "pump", "blood", "to", "the", "gills.")
FOLDER = "media/demo/2026-11-27/vid-1"


def _words() -> tuple[WordTiming, ...]:
    step = (VOICE_S - 0.2) / len(WORDS)
    return tuple(WordTiming(w, round(0.1 + i * step, 3), round(0.1 + (i + 0.8) * step, 3)) for i, w in enumerate(WORDS))


SCRIPT = Script(
    video_id="vid-1",
    title="Three hearts",
    hook="Octopuses have three hearts.",
    narration=" ".join(WORDS),
    description="#shorts",
    scenes=(Scene("An octopus over a reef", 1.4, "waves"), Scene("Glowing hearts", 1.0, "waves")),
    tags=("octopus",),
    arms={"caption_style": "boxed"},
)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """Two short landscape clips and a narration stand-in."""
    folder = tmp_path_factory.mktemp("media")
    for name, source, seconds in (("scene_01.mp4", "testsrc2", 1.5), ("scene_02.mp4", "testsrc", 0.6)):
        run_ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                f"{source}=size=320x180:rate=30",
                "-t",
                str(seconds),
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                f"file:{folder / name}",
            ],
            "a test clip",
        )
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=180:sample_rate=22050:duration={VOICE_S}",
            "-ac",
            "1",
            f"file:{folder / 'voiceover.wav'}",
        ],
        "a narration stand-in",
    )
    return folder


@dataclass
class World:
    root: Path
    app: FakeCreatomate
    files: StaticFiles
    api_url: str
    files_url: str
    clips: list[Clip]
    voiceover: Voiceover
    out_path: Path

    def renderer(self, state, sleeps=None, **kwargs) -> CloudRenderer:
        kwargs.setdefault("api_key", self.app.api_key)
        kwargs.setdefault("retry", POLICY)
        return CloudRenderer(
            media_base_url=f"{self.files_url}/",
            data_root=self.root,
            base_url=self.api_url,
            state=state,
            sleep=sleeps if sleeps is not None else Sleeps(),
            poll_interval_s=2.0,
            max_poll_interval_s=10.0,
            **kwargs,
        )

    def render(self, renderer: CloudRenderer, script: Script = SCRIPT):
        return renderer.render(self.clips, self.voiceover, script, self.out_path)


@pytest.fixture
def world(tmp_path, media) -> Iterator[World]:
    root = tmp_path / "data"
    folder = root / FOLDER
    folder.mkdir(parents=True)
    for name in ("scene_01.mp4", "scene_02.mp4", "voiceover.wav"):
        shutil.copy(media / name, folder / name)
    clips = [Clip(folder / "scene_01.mp4", 1.5, 320, 180), Clip(folder / "scene_02.mp4", 0.6, 320, 180)]
    voiceover = Voiceover(folder / "voiceover.wav", VOICE_S, 22050, "en-us", _words())
    app, files = FakeCreatomate(), StaticFiles(root)
    with FakeServer(files) as file_server, FakeServer(app) as api:
        yield World(root, app, files, api.url, file_server.url, clips, voiceover, folder / "short.mp4")


def leftovers(world: World) -> list[str]:
    return sorted(p.name for p in (world.root / FOLDER).glob("*partial*"))


# --- a render ---------------------------------------------------------------------------------------


def test_a_render_meets_the_output_contract_and_lasts_the_narration_plus_the_tail(world):
    result = world.render(world.renderer(MemoryStateStore()))

    expected = round((VOICE_S + TAIL_S) * 30) / 30
    assert result.video_path == world.out_path and (result.width, result.height, result.fps) == (1080, 1920, 30)
    assert abs(result.duration_s - expected) < 0.05
    failed = [(name, detail) for name, passed, detail in check_render(world.out_path) if not passed]
    assert failed == []
    reject_if_below_contract(world.out_path, {"width": 1080, "height": 1920, "fps": 30})
    thumb = probe(result.thumbnail_path)
    assert result.thumbnail_path == world.out_path.with_suffix(".jpg") and (thumb.width, thumb.height) == (1080, 1920)
    srt = world.out_path.with_suffix(".srt").read_text()
    assert "00:00:00,100 --> 00:00:00,540\nOctopuses have\n" in srt and "three hearts." in srt
    assert world.out_path.with_suffix(".vtt").read_text().startswith("WEBVTT")
    assert leftovers(world) == []
    # The service fetched the clips and the narration from where the data root is published.
    assert sorted(Path(p).name for p in world.files.served()) == ["scene_01.mp4", "scene_02.mp4", "voiceover.wav"]


def test_the_composition_carries_the_clips_the_narration_and_word_timed_captions(world):
    world.render(world.renderer(MemoryStateStore()))

    [source] = world.app.sources()
    assert {k: source[k] for k in ("output_format", "width", "height", "frame_rate")} == {
        "output_format": "mp4",
        "width": 1080,
        "height": 1920,
        "frame_rate": 30,
    }
    total = source["duration"]
    scenes = [e for e in source["elements"] if e["type"] == "video"]
    assert [e["source"].split("?")[0] for e in scenes] == [
        f"{world.files_url}/{FOLDER}/scene_01.mp4",
        f"{world.files_url}/{FOLDER}/scene_02.mp4",
    ]
    assert all("?v=" in e["source"] and e["volume"] == "0%" and e["fit"] == "cover" for e in scenes)
    first, second = scenes
    assert first["time"] == 0 and second["time"] + second["duration"] == pytest.approx(total)
    # Neighbouring clips overlap by the cross-fade, and the second fades in from the first.
    overlap = first["time"] + first["duration"] - second["time"]
    assert overlap == pytest.approx(0.3)
    assert second["animations"] == [{"time": "start", "duration": 0.3, "transition": True, "type": "fade"}]
    assert second.get("loop") is True  # 0.6 s of clip for a longer share: looped, not frozen
    [narration] = [e for e in source["elements"] if e["type"] == "audio"]
    assert narration["source"].split("?")[0].endswith(f"{FOLDER}/voiceover.wav")
    assert narration["time"] == 0 and narration["duration"] == pytest.approx(VOICE_S)

    captions = [e for e in source["elements"] if e["type"] == "text"]
    spoken = [(c["time"] + k["time"], k["value"]) for c in captions for k in c["transcript_source"]]
    assert [word for _, word in spoken] == list(WORDS)
    assert [t for t, _ in spoken] == pytest.approx([w.start_s for w in _words()], abs=0.002)
    assert captions[0]["transcript_source"][0]["value"] == "Octopuses" and len(captions) >= 3
    assert all(c["transcript_effect"] == "color" and c["transcript_color"] == "#ffe100" for c in captions)
    assert all(c["background_color"] == "#141414" for c in captions)  # the "boxed" caption style
    # Inside the safe area: centred, clear of the bottom quarter and the side icons.
    assert all(
        c["x"] == "50%" and float(c["y"].rstrip("%")) <= 70 and float(c["width"].rstrip("%")) <= 80 for c in captions
    )
    assert all(c["time"] + c["duration"] <= total + 1e-6 for c in captions)
    assert world.app.requests[0][1].json()["metadata"].startswith("vid-1:")


def test_a_still_image_is_sent_as_an_image_element(world):
    still = world.root / FOLDER / "scene_02.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x180", "-frames:v", "1", f"file:{still}"], "a still")
    clips = [world.clips[0], Clip(still, 0.0, 320, 180)]
    plan = world.renderer(MemoryStateStore()).plan(clips, world.voiceover, SCRIPT)
    first, second = [e for e in plan.composition["elements"] if e["type"] in ("video", "image")]
    assert first["type"] == "video" and second["type"] == "image"
    assert second["source"].split("?")[0].endswith("/scene_02.png") and "loop" not in second
    assert world.app.requests == []


# --- failures from the service ----------------------------------------------------------------------


def test_a_failed_render_names_the_video_and_the_reason_and_is_forgotten(world):
    world.files.inject("file", Fault.answer(404, "<Error><Code>NoSuchKey</Code></Error>"))
    state = MemoryStateStore()
    with pytest.raises(ProviderError) as info:
        world.render(world.renderer(state))
    message = str(info.value)
    assert "video vid-1" in message and "failed" in message
    assert "could not be loaded" in message and "scene_01.mp4" in message and "HTTP 404" in message
    assert state.namespace(NAMESPACE) == {}  # the next attempt renders again
    assert not world.out_path.exists() and leftovers(world) == []


def test_429_with_retry_after_and_5xx_are_retried_and_the_key_stays_out_of_the_logs(world, caplog):
    world.app.inject(
        "create",
        Fault.answer(429, {"hint": "Rate limit exceeded."}, {"Retry-After": "7"}),
        Fault.answer(503, "upstream unavailable"),
    )
    world.app.inject("render", Fault.answer(502, "bad gateway"))
    sleeps = Sleeps()
    caplog.set_level(logging.DEBUG)
    result = world.render(world.renderer(MemoryStateStore(), sleeps))
    assert probe(result.video_path).has_video
    assert sleeps[0] == 7.0
    assert world.app.calls["create"] == 3 and world.app.submissions() == 1
    assert world.app.api_key not in caplog.text
    assert "429" in caplog.text and "502" in caplog.text


def test_a_render_stuck_in_rendering_times_out_and_stays_recorded(world):
    world.app.plans.append(["planned"] + ["rendering"] * 50)
    state, sleeps = MemoryStateStore(), Sleeps()
    with pytest.raises(ProviderError, match=r"video vid-1: render \S+ still rendering after \d+ s") as info:
        world.render(world.renderer(state, sleeps, timeout_s=30.0))
    assert "next attempt resumes it" in str(info.value)
    assert sum(sleeps) <= 30.0 and sleeps[:3] == [2.0, 3.0, 4.5]
    [record] = state.namespace(NAMESPACE).values()
    assert json.loads(record)["render_id"] == next(iter(world.app.renders))
    assert not world.out_path.exists()


def test_a_process_killed_mid_poll_resumes_the_same_render_and_pays_once(world):
    state = MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=None)
    dies = DyingTransport(lambda request, count: request.method == "GET" and "/v1/renders/" in request.url.path)
    with pytest.raises(ProcessDied):
        world.render(world.renderer(state, transport=dies, budget=budget))
    assert world.app.submissions() == 1 and not world.out_path.exists()

    result = world.render(world.renderer(state, budget=budget))
    assert world.app.submissions() == 1 and world.app.calls["create"] == 1
    assert probe(result.video_path).has_video
    assert budget.spent_usd() == pytest.approx(0.02 * (VOICE_S + TAIL_S), rel=0.01)
    [record] = state.namespace(NAMESPACE).values()
    assert json.loads(record)["state"] == "done"

    # Again, with the file in place: nothing is sent.
    calls = sum(world.app.calls.values())
    assert world.render(world.renderer(state, budget=budget)).video_path == world.out_path
    assert sum(world.app.calls.values()) == calls


def test_a_changed_composition_renders_anew_and_an_unchanged_one_resumes(world):
    world.app.plans.extend([["planned"] + ["rendering"] * 50, ["planned"] + ["rendering"] * 50])
    state = MemoryStateStore()
    for style in ("boxed", "clean_white", "boxed"):
        script = Script(**{**SCRIPT.__dict__, "arms": {"caption_style": style}})
        with pytest.raises(ProviderError, match="still rendering"):
            world.render(world.renderer(state, timeout_s=5.0), script)
    assert world.app.submissions() == 2 and len(state.namespace(NAMESPACE)) == 2
    first, second = world.app.sources()
    assert first != second


def test_the_audio_is_normalised_locally_when_the_service_leaves_it_off_target(world, caplog):
    world.app.normalise_audio = False
    caplog.set_level(logging.INFO, logger="shorts_assets.providers.render.cloud")
    world.render(world.renderer(MemoryStateStore()))
    assert "normalising it to -14 LUFS" in caplog.text
    results = {name: (passed, detail) for name, passed, detail in check_render(world.out_path)}
    assert results["loudness"][0], results["loudness"]
    assert results["true_peak"][0], results["true_peak"]
    assert results["codecs"][0] and results["resolution"][0] and results["frame_rate"][0]


# --- protocol faults --------------------------------------------------------------------------------


def test_malformed_json_is_a_clear_error_and_the_render_stays_resumable(world):
    world.app.inject("render", Fault.malformed())
    state = MemoryStateStore()
    with pytest.raises(ProviderError, match="malformed JSON") as info:
        world.render(world.renderer(state))
    assert "video vid-1" in str(info.value)
    assert len(state.namespace(NAMESPACE)) == 1 and world.app.submissions() == 1


def test_an_unauthorised_key_fails_without_showing_the_key(world, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "ct_key_wrong_0123456789abcdef"
    with pytest.raises(ProviderError) as info:
        world.render(world.renderer(MemoryStateStore(), api_key=wrong))
    message = str(info.value)
    assert "401" in message and "unauthorized" in message and "video vid-1" in message
    assert wrong not in message and wrong not in caplog.text and "[redacted]" in message
    assert world.app.submissions() == 0


def test_a_download_that_is_not_a_video_or_is_gone_leaves_no_half_written_output(world):
    world.out_path.write_bytes(b"the previous render")
    state = MemoryStateStore()
    world.app.inject("cdn", Fault.answer(200, "<html><body>Access denied</body></html>", {"Content-Type": "text/html"}))
    with pytest.raises(ProviderError, match="not a video"):
        world.render(world.renderer(state))
    assert world.out_path.read_bytes() == b"the previous render" and leftovers(world) == []
    assert len(state.namespace(NAMESPACE)) == 1  # the render is kept: fetching it again is free

    world.app.expire(next(iter(world.app.renders)))
    with pytest.raises(ProviderError, match=r"file is gone \(HTTP 404\); the next attempt renders again"):
        world.render(world.renderer(state))
    assert world.app.submissions() == 1 and state.namespace(NAMESPACE) == {}
    assert world.out_path.read_bytes() == b"the previous render" and leftovers(world) == []
    assert not world.out_path.with_suffix(".jpg").exists()


def test_a_download_cut_short_is_rejected_and_an_earlier_one_cut_short_is_not_reused(world, tmp_path):
    state = MemoryStateStore()
    result = world.render(world.renderer(state))
    whole = result.video_path.read_bytes()
    cut = whole[: len(whole) // 2]
    assert b"moov" in cut[:4096]  # the header survives the cut

    result.video_path.write_bytes(cut)
    world.app.inject("cdn", Fault.answer(200, cut, {"Content-Type": "video/mp4"}))
    with pytest.raises(ProviderError, match=r"not a whole one: .*decodes to only"):
        world.render(world.renderer(state))
    assert leftovers(world) == []

    again = world.render(world.renderer(state))
    assert again.video_path.read_bytes() == whole


# --- refused before anything is sent ----------------------------------------------------------------


def test_a_budget_below_one_render_refuses_before_any_request(world):
    state = MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=0.05)  # one 3 s render is estimated at $0.06
    with pytest.raises(BudgetExceeded, match="video vid-1"):
        world.render(world.renderer(state, budget=budget))
    assert world.app.requests == [] and world.files.requests == []
    assert budget.spent_usd() == 0 and state.namespace(NAMESPACE) == {}


def test_a_file_outside_the_data_root_is_a_clear_error_for_its_video(world, tmp_path):
    elsewhere = tmp_path / "elsewhere.mp4"
    shutil.copy(world.clips[0].path, elsewhere)
    clips = [world.clips[0], Clip(elsewhere, 1.5, 320, 180)]
    with pytest.raises(ProviderError) as info:
        world.renderer(MemoryStateStore()).render(clips, world.voiceover, SCRIPT, world.out_path)
    message = str(info.value)
    assert "video vid-1: clip 2" in message and str(elsewhere) in message and "outside the data root" in message
    assert world.app.requests == []


def test_the_media_base_url_must_be_a_web_url(world):
    with pytest.raises(ValueError, match="media base URL"):
        CloudRenderer("k" * 12, str(world.root), world.root, state=MemoryStateStore())


@pytest.mark.parametrize(
    ("language", "family"), [("es", "Montserrat"), ("hi", "Noto Sans Devanagari"), ("ja", "Noto Sans JP")]
)
def test_the_captions_are_set_in_a_font_covering_the_channels_script(world, language, family):
    script = Script(**{**SCRIPT.__dict__, "language": language})
    world.render(world.renderer(MemoryStateStore()), script)

    [source] = world.app.sources()
    captions = [e for e in source["elements"] if e["type"] == "text"]
    assert captions and all(c["font_family"] == family for c in captions)
