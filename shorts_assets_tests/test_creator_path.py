"""The creator's cheap path end to end: shorts_loop_job over one batch for each combination of free or
local providers (and one of paid ones), against their fake servers, the render passing the blocking
quality check and the short published to the simulated platforms; and channels in Spanish and
Japanese whose shorts carry captions in their own script.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.checks import build_render_checks
from shorts_assets.defs.jobs import shorts_loop_job
from shorts_assets.defs.location import loop_assets
from shorts_assets.defs.resources import build_resources
from shorts_assets.fakes.anthropic_server import FakeAnthropic
from shorts_assets.fakes.edge_server import FakeEdgeTTS
from shorts_assets.fakes.elevenlabs_server import FakeElevenLabs
from shorts_assets.fakes.ollama_server import FakeOllama
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.pexels_server import FakePexels
from shorts_assets.fakes.pixabay_server import FakePixabay
from shorts_assets.fakes.server import FakeServer
from shorts_assets.providers.media import probe, run_ffmpeg
from shorts_assets.providers.render.captions import caption_font, fonts_for
from shorts_assets.providers.render.fonts import FONTS, fonts_folder
from shorts_assets.settings import load_settings
from shorts_assets.storage import open_store
from shorts_assets_tests.providers.render.frames import caption_frame, glyph_shapes, ink

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
# (script, video, voice) providers as a creator would pick them.
COMBINATIONS = [
    ("ollama", "pexels", "edge"),
    ("openai_compatible", "pixabay", "edge"),
    ("template", "library", "espeak"),
    ("anthropic", "openai_images", "elevenlabs"),
]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """What the stock APIs hand back: a real portrait MP4."""
    path = tmp_path_factory.mktemp("clip") / "stock.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=540x960:rate=24", "-t", "4", "-pix_fmt", "yuv420p"]
        + ["-c:v", "libx264", "-preset", "ultrafast", f"file:{path}"],
        "making a stock clip",
    )
    return path.read_bytes()


def media_library(folder: Path, clip: bytes) -> Path:
    """A creator's own folder: ocean clips and stills, tagged by their names."""
    folder.mkdir(parents=True)
    for name in ("ocean-waves.mp4", "ocean-reef.mp4", "deep-ocean.mp4"):
        (folder / name).write_bytes(clip)
    for name, colour in (("ocean-blue.png", "0x2060c0"), ("ocean-sunset.png", "0xe07030")):
        run_ffmpeg(
            ["-f", "lavfi", "-i", f"color=c={colour}:s=720x1280", "-frames:v", "1", f"file:{folder / name}"],
            "making a still",
        )
    return folder


def run_loop(env: dict[str, str], monkeypatch, channel: str):
    for name in ("DATABASE_URL", "SHORTS_CHANNELS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    resources = build_resources(settings)
    checks = build_render_checks("renders", **resources["renderer"].contract())
    defs = dg.Definitions(assets=loop_assets, asset_checks=checks, jobs=[shorts_loop_job], resources=resources)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("shorts_loop_job").execute_in_process(
            partition_key=dg.MultiPartitionKey({"channel": channel, "date": DAY.isoformat()}),
            instance=instance,
            raise_on_error=False,
        )
        log = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
    return settings, result, log


def base_env(tmp_path: Path, channel: dict, **extra: str) -> dict[str, str]:
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"channels": [channel]}), encoding="utf-8")
    return {
        "SHORTS_DATA_DIR": str(tmp_path / "data"),
        "SHORTS_CHANNELS_FILE": str(channels),
        "RENDER_PROFILE": "draft",
        **extra,
    }


def local(settings, key: str) -> Path:
    """The file a recorded key names in the run's media store."""
    return open_store(settings.media).local_path(key)


def render_check_passed(result) -> bool:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.check_name == "render_quality" and evaluation.passed


def metadata(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.mark.parametrize(("script", "video", "voice"), COMBINATIONS)
def test_the_loop_runs_end_to_end_with_each_creator_combination(
    tmp_path: Path, monkeypatch, clip_bytes: bytes, script: str, video: str, voice: str
) -> None:
    with ExitStack() as stack:
        env = base_env(
            tmp_path,
            {"name": "demo", "videos_per_day": 1, "topics": ["ocean"]},
            SCRIPT_PROVIDER="openai" if script == "openai_compatible" else script,
            VIDEO_GEN_PROVIDER=video,
            TTS_PROVIDER=voice,
        )
        keys: list[str] = []
        if script in ("ollama", "openai_compatible"):
            ollama = FakeOllama(models=("llama3.2",), native=script == "ollama")
            url = stack.enter_context(FakeServer(ollama)).url
            env["SCRIPT_MODEL"] = "llama3.2"
            if script == "ollama":
                env["OLLAMA_BASE_URL"] = url
            else:
                env.update(OPENAI_BASE_URL=f"{url}/v1", OPENAI_API_KEY="sk-local-anything", OPENAI_SCRIPT_API="chat")
            script_app = ollama
        if script == "anthropic":
            script_app = FakeAnthropic()
            env["ANTHROPIC_BASE_URL"] = stack.enter_context(FakeServer(script_app)).url
            env["ANTHROPIC_API_KEY"] = script_app.api_key
            keys.append(script_app.api_key)
        if video == "pexels":
            stock = FakePexels(video_bytes=clip_bytes)
            env.update(PEXELS_API_KEY=stock.api_key, PEXELS_API_BASE_URL=stack.enter_context(FakeServer(stock)).url)
            keys.append(stock.api_key)
        if video == "pixabay":
            stock = FakePixabay(video_bytes=clip_bytes)
            url = stack.enter_context(FakeServer(stock)).url
            env.update(PIXABAY_API_KEY=stock.api_key, PIXABAY_API_BASE_URL=f"{url}/api")
            keys.append(stock.api_key)
        if video == "library":
            env["SHORTS_MEDIA_LIBRARY"] = str(media_library(tmp_path / "my-footage", clip_bytes))
        if video == "openai_images":
            images = FakeOpenAI()
            env.update(
                OPENAI_API_KEY=images.api_key, OPENAI_BASE_URL=f"{stack.enter_context(FakeServer(images)).url}/v1"
            )
            keys.append(images.api_key)
        if voice == "edge":
            edge = stack.enter_context(FakeEdgeTTS())
            env["EDGE_TTS_BASE_URL"] = edge.base_url
        if voice == "elevenlabs":
            speech = FakeElevenLabs()
            env.update(
                ELEVENLABS_API_KEY=speech.api_key, ELEVENLABS_API_BASE_URL=stack.enter_context(FakeServer(speech)).url
            )
            keys.append(speech.api_key)

        settings, result, log = run_loop(env, monkeypatch, "demo")

        assert result.success, log[-3000:]
        assert render_check_passed(result)
        store = Store(settings.database_url)
        (row,) = store.batch("demo", DAY)
        assert metadata(result, "voiceovers")["voice"] == voice
        clips = row.outputs["clips"]["files"]
        assert clips and all(probe(local(settings, clip)).has_video for clip in clips)
        if video != "library":
            assert all(c["credit"]["provider"] == video for c in row.outputs["clips"]["clips"])
        assert probe(local(settings, row.outputs["render"]["video_path"])).width == 540  # the draft profile
        assert len(store.published("demo", DAY)) == 3  # one video on each simulated platform
        if script != "template":
            assert len(script_app.requests) >= 1
        if voice == "edge":
            assert edge.turns, "the narration came from the Edge fake"
        for key in keys:
            assert key not in log


CHANNEL_LANGUAGES = {
    # language: (a word its template narration has, a pattern only its own script matches)
    "es": re.compile(r"[áéíóúñ¿¡]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
}


@pytest.mark.parametrize("language", sorted(CHANNEL_LANGUAGES))
def test_a_channel_in_its_own_language_renders_captions_in_its_own_script(
    tmp_path: Path, monkeypatch, language: str
) -> None:
    channel = "demo"  # the partitions are the channels the code location was loaded with
    env = base_env(tmp_path, {"name": channel, "videos_per_day": 1, "language": language, "topics": ["ocean"]})
    env.update(SCRIPT_PROVIDER="template", TTS_PROVIDER="espeak")

    settings, result, log = run_loop(env, monkeypatch, channel)

    assert result.success, log[-3000:]
    assert render_check_passed(result)
    store = Store(settings.database_url)
    (row,) = store.batch(channel, DAY)
    assert row.script.language == language and CHANNEL_LANGUAGES[language].search(row.script.narration)
    assert len(store.published(channel, DAY)) == 3
    video = local(settings, row.outputs["render"]["video_path"])
    ass = video.with_suffix(".ass").read_text(encoding="utf-8")
    style = row.arms["caption_style"]
    family = FONTS[caption_font(style, language)].family
    assert re.search(rf"^Style: {style},{family},", ass, re.MULTILINE)
    dialogue = [line.split(",,", 2)[-1] for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert dialogue and CHANNEL_LANGUAGES[language].search(" ".join(dialogue))
    # The captions it burned in, drawn again over a plain background with the same fonts, are glyphs.
    spoken = row.outputs["voiceover"]["words"]
    middle = spoken[len(spoken) // 2]
    frame = caption_frame(video.with_suffix(".ass"), fonts_folder(fonts_for(style, language)), middle["start_s"] + 0.05)
    assert len(set(glyph_shapes(ink(frame)))) >= 2
