"""The loop with each paid generation provider selected in turn, pointed at its fake server.

Every pairing runs shorts_loop_job over one batch: the scripts come from the language model, the
clips from the video API, the narration from the voice API, and the short is rendered, published
(simulated) and learned from; with the cloud renderer the short is composed and rendered by the render
API, which fetches the media from where the data root is served. The costs the providers charged show
in the assets' metadata, no key reaches the event log, and a daily budget below one video's cost stops
the batch before any request is sent.
"""

from datetime import date

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.checks import build_render_checks
from shorts_assets.defs.jobs import shorts_loop_job
from shorts_assets.defs.location import loop_assets
from shorts_assets.defs.resources import build_resources
from shorts_assets.fakes.anthropic_server import FakeAnthropic
from shorts_assets.fakes.creatomate_server import FakeCreatomate
from shorts_assets.fakes.elevenlabs_server import FakeElevenLabs
from shorts_assets.fakes.luma_server import FakeLuma
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.pika_server import FakePika
from shorts_assets.fakes.runway_server import FakeRunway
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.static_files import StaticFiles
from shorts_assets.providers.media import probe, run_ffmpeg
from shorts_assets.settings import load_settings

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
FAKES = {
    "openai": FakeOpenAI,
    "anthropic": FakeAnthropic,
    "runway": FakeRunway,
    "luma": FakeLuma,
    "pika": FakePika,
    "elevenlabs": FakeElevenLabs,
}
VIDEO_FAKE = {"openai_sora": "openai", "runway": "runway", "luma": "luma", "pika": "pika"}
# (SCRIPT_PROVIDER, VIDEO_GEN_PROVIDER, TTS_PROVIDER): every paid provider of each seam appears.
PAIRINGS = [
    ("openai", "openai_sora", "elevenlabs"),
    ("anthropic", "runway", "openai"),
    ("openai", "luma", "espeak"),
    ("anthropic", "pika", "elevenlabs"),
]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """What the fake video APIs hand back: a real portrait MP4."""
    path = tmp_path_factory.mktemp("clip") / "generated.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x1280:rate=24",
            "-t",
            "5",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            f"file:{path}",
        ],
        "making a generated clip",
    )
    return path.read_bytes()


def environment(
    tmp_path, apps, urls, script_provider, video_provider, tts_provider="espeak", **extra
) -> dict[str, str]:
    channels = tmp_path / "channels.json"
    channels.write_text('{"channels": [{"name": "demo", "videos_per_day": 2}]}')
    env = {
        "SHORTS_DATA_DIR": str(tmp_path / "data"),
        "SHORTS_CHANNELS_FILE": str(channels),
        "RENDER_PROFILE": "draft",
        "SCRIPT_PROVIDER": script_provider,
        "VIDEO_GEN_PROVIDER": video_provider,
        "VIDEO_GEN_POLL_INTERVAL_S": "0.05",
        "TTS_PROVIDER": tts_provider,
        "OPENAI_API_KEY": apps["openai"].api_key,
        "ANTHROPIC_API_KEY": apps["anthropic"].api_key,
        "RUNWAYML_API_SECRET": apps["runway"].api_key,
        "LUMAAI_API_KEY": apps["luma"].api_key,
        "PIKA_API_KEY": apps["pika"].api_key,
        "ELEVENLABS_API_KEY": apps["elevenlabs"].api_key,
        "OPENAI_BASE_URL": f"{urls['openai']}/v1",
        "ANTHROPIC_BASE_URL": urls["anthropic"],
        "RUNWAY_API_BASE_URL": urls["runway"],
        "LUMA_API_BASE_URL": urls["luma"],
        "PIKA_API_BASE_URL": urls["pika"],
        "ELEVENLABS_API_BASE_URL": urls["elevenlabs"],
    }
    return {**env, **extra}


@pytest.fixture
def fakes(clip_bytes):
    apps = {name: cls(video_bytes=clip_bytes) if name in VIDEO_FAKE.values() else cls() for name, cls in FAKES.items()}
    apps["openai"].poll_after_ms = 50
    servers = {name: FakeServer(app) for name, app in apps.items()}
    for server in servers.values():
        server.__enter__()
    try:
        yield apps, {name: server.url for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def run_loop(env: dict[str, str], monkeypatch):
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
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
            instance=instance,
            raise_on_error=False,
        )
        log = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
    return settings, result, log


def metadata(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def render_checks_passed(result) -> bool:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.check_name == "render_quality" and evaluation.passed


def requests_to(app) -> int:
    return len(app.requests)


@pytest.mark.parametrize(("script_provider", "video_provider", "tts_provider"), PAIRINGS)
def test_the_loop_completes_a_batch_with_each_paid_provider(
    tmp_path, fakes, monkeypatch, script_provider, video_provider, tts_provider
):
    apps, urls = fakes
    env = environment(tmp_path, apps, urls, script_provider, video_provider, tts_provider)
    settings, result, log = run_loop(env, monkeypatch)

    assert result.success
    assert render_checks_passed(result)
    rows = Store(settings.database_url).batch("demo", DAY)
    assert len(rows) == 2
    assert metadata(result, "scripts")["writer"] == script_provider
    media = settings.data_dir / "media"
    for row in rows:
        clips = row.outputs["clips"]["files"]
        assert clips and len(clips) == len(row.script.scenes)
        assert all(probe(media / clip).has_video for clip in clips)
        assert probe(media / row.outputs["render"]["video_path"]).width == 540  # the draft profile
    assert len(Store(settings.database_url).published("demo", DAY)) == 6  # 2 videos × 3 platforms

    script_app = apps[script_provider]
    video_app = apps[VIDEO_FAKE[video_provider]]
    assert requests_to(script_app) >= 2
    assert requests_to(video_app) > 0
    assert metadata(result, "scripts")["cost_usd"] > 0
    assert metadata(result, "clips")["cost_usd"] > 0
    assert metadata(result, "clips")["generator"] == video_app_name(video_provider)
    assert metadata(result, "voiceovers")["voice"] == tts_provider
    paid = [script_app, video_app]
    if tts_provider != "espeak":
        voice_app = apps[tts_provider]
        assert sum(name in ("tts", "speech") for name, _ in voice_app.requests) >= 2
        assert metadata(result, "voiceovers")["cost_usd"] > 0
        paid.append(voice_app)
    for app in paid:
        assert app.api_key not in log


def video_app_name(provider: str) -> str:
    return {"openai_sora": "sora"}.get(provider, provider)


def test_a_budget_below_one_video_stops_the_batch_before_any_paid_call(tmp_path, fakes, monkeypatch):
    apps, urls = fakes
    env = environment(tmp_path, apps, urls, "openai", "runway", SHORTS_DAILY_BUDGET_USD="0.05")
    settings, result, log = run_loop(env, monkeypatch)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "scripts"
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert "daily budget of $0.05" in message and "nothing was sent" in message
    assert requests_to(apps["openai"]) == 0 and requests_to(apps["runway"]) == 0
    assert Store(settings.database_url).batch("demo", DAY) == []


def test_the_loop_completes_a_batch_with_the_cloud_renderer(tmp_path, fakes, monkeypatch):
    media = tmp_path / "data" / "media"
    media.mkdir(parents=True)
    app = FakeCreatomate()
    with FakeServer(StaticFiles(media)) as bucket, FakeServer(app) as api:
        env = environment(
            tmp_path,
            *fakes,
            "template",
            "stub",
            RENDERER_PROVIDER="cloud",
            CREATOMATE_API_KEY=app.api_key,
            CREATOMATE_API_BASE_URL=api.url,
            CLOUD_RENDER_MEDIA_BASE_URL=bucket.url,
            CLOUD_RENDER_POLL_INTERVAL_S="0.05",
        )
        settings, result, log = run_loop(env, monkeypatch)

    assert result.success
    rows = Store(settings.database_url).batch("demo", DAY)
    assert len(rows) == 2 and app.submissions() == 2
    for row in rows:
        render = probe(media / row.outputs["render"]["video_path"])
        assert (render.width, render.height) == (1080, 1920)  # the cloud renders the final profile
        assert row.outputs["render"]["cost_usd"] > 0
    assert render_checks_passed(result)
    assert metadata(result, "renders")["renderer"] == "creatomate"
    assert metadata(result, "renders")["cost_usd"] > 0
    assert len(Store(settings.database_url).published("demo", DAY)) == 6
    assert app.api_key not in log


def test_the_cloud_renderer_fetches_the_media_from_an_s3_root_by_presigned_urls(
    tmp_path, fakes, monkeypatch, s3_bucket
):
    app = FakeCreatomate()
    with FakeServer(app) as api:
        env = environment(
            tmp_path,
            *fakes,
            "template",
            "stub",
            RENDERER_PROVIDER="cloud",
            CREATOMATE_API_KEY=app.api_key,
            CREATOMATE_API_BASE_URL=api.url,
            CLOUD_RENDER_POLL_INTERVAL_S="0.05",
            SHORTS_MEDIA_ROOT=f"s3://{s3_bucket['bucket']}/media",
            SHORTS_MEDIA_S3_ENDPOINT_URL=s3_bucket["endpoint"],
            SHORTS_SCRATCH_DIR=str(tmp_path / "scratch"),
        )
        monkeypatch.delenv("CLOUD_RENDER_MEDIA_BASE_URL", raising=False)
        settings, result, log = run_loop(env, monkeypatch)

    assert result.success
    assert app.submissions() == 2 and len(Store(settings.database_url).published("demo", DAY)) == 6
    for row in Store(settings.database_url).batch("demo", DAY):
        head = s3_bucket["client"].head_object(
            Bucket=s3_bucket["bucket"], Key=f"media/{row.outputs['render']['video_path']}"
        )
        assert head["ContentLength"] == row.outputs["render"]["checksums"][row.outputs["render"]["video_path"]]["size"]
    assert "X-Amz-Signature" not in log and "test-secret-key-never-shown" not in log
