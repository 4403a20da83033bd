"""Video generators against fake Runway, Luma, Sora and Pika servers: the enums and state machines,
throttling, failed jobs, retries, content not yet ready, expired outputs, a generation killed
mid-poll and resumed without a second submission, budget refusals and keys kept out of errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Scene, Script
from shorts_assets.fakes.luma_server import FakeLuma
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.pika_server import FakePika
from shorts_assets.fakes.runway_server import FakeRunway
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.clips.generated import GeneratedClips, LumaVideos, PikaVideos, RunwayVideos, SoraVideos
from shorts_assets.providers.clips.jobs import NAMESPACE
from shorts_assets.providers.media import probe, run_ffmpeg
from shorts_assets.providers.net.costs import Budget, BudgetExceeded
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets_tests.helpers import DyingTransport, ProcessDied, Sleeps

POLICY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=30.0)

SCRIPT = Script(
    video_id="vid-1",
    title="Three hearts",
    hook="Did you know?",
    narration="Did you know? Octopuses have three hearts.",
    description="#shorts",
    scenes=(
        Scene(prompt="An octopus gliding over a reef", duration_s=3.5, visual="waves"),
        Scene(prompt="Glowing hearts inside a translucent octopus", duration_s=5.0, visual="waves"),
    ),
    tags=("octopus",),
    arms={"topic": "ocean"},
)


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "tiny.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=72x128:rate=10",
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            f"file:{path}",
        ],
        "making a test clip",
    )
    return path.read_bytes()


def serve(app):
    return FakeServer(app)


def clips(provider, state, sleeps) -> GeneratedClips:
    return GeneratedClips(provider, state, sleep=sleeps, poll_interval_s=2.0, max_poll_interval_s=10.0)


def runway(server, app, sleeps, **kwargs) -> RunwayVideos:
    kwargs.setdefault("api_key", app.api_key)
    return RunwayVideos(base_url=server.url, retry=POLICY, sleep=sleeps, **kwargs)


def submissions(app, route="create") -> list[dict]:
    return [r.json() for name, r in app.requests if name == route]


# --- Runway ----------------------------------------------------------------------------------------


def test_runway_text_to_video_end_to_end(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    with serve(app) as server:
        sleeps, state = Sleeps(), MemoryStateStore()
        result = clips(runway(server, app, sleeps), state, sleeps).generate(SCRIPT, tmp_path)
    assert [c.path.name for c in result] == ["scene_01.mp4", "scene_02.mp4"]
    assert all(probe(c.path).has_video and c.width == 72 and c.height == 128 for c in result)
    bodies = submissions(app)
    assert [b["duration"] for b in bodies] == [4, 6]  # rounded up to veo3.1_fast's 4 | 6 | 8
    assert {b["model"] for b in bodies} == {"veo3.1_fast"} and {b["ratio"] for b in bodies} == {"720:1280"}
    assert all(r.headers["x-runway-version"] == "2024-11-06" for _, r in app.requests if _ != "asset")
    assert sleeps == [2.0, 2.0]  # one wait per scene at the base poll interval
    assert not list(tmp_path.glob("*.partial*"))


def test_runway_image_to_video_and_the_model_matrix(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    with serve(app) as server:
        sleeps = Sleeps()
        provider = runway(
            server,
            app,
            sleeps,
            model="gen4_turbo",
            image_for=lambda vid, i, scene: f"https://img.example/{vid}/{i}.png",
        )
        clips(provider, MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert [r.path for name, r in app.requests if name == "create"] == ["/v1/image_to_video"] * 2
    assert [b["duration"] for b in submissions(app)] == [5, 5]
    assert submissions(app)[0]["promptImage"] == "https://img.example/vid-1/1.png"
    with pytest.raises(ValueError, match="image only"):
        RunwayVideos(api_key="k", model="gen4_turbo")
    with pytest.raises(ValueError, match="ratio"):
        RunwayVideos(api_key="k", ratio="1080:1080")
    with pytest.raises(ValueError, match="model"):
        RunwayVideos(api_key="k", model="gen5")


def test_runway_throttled_tasks_are_polled_until_they_run(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.plans.extend([["THROTTLED", "THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"], ["PENDING", "SUCCEEDED"]])
    with serve(app) as server:
        sleeps = Sleeps()
        result = clips(runway(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert len(result) == 2 and app.calls["task"] == 5 and app.submissions() == 2
    assert sleeps == [2.0, 3.0, 4.5]  # backing off from the poll interval


def test_runway_failed_task_names_the_code_and_the_next_attempt_submits_again(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.plans.extend([["PENDING", "RUNNING", "FAILED"]])
    state = MemoryStateStore()
    with serve(app) as server:
        sleeps = Sleeps()
        generator = clips(runway(server, app, sleeps), state, sleeps)
        with pytest.raises(ProviderError) as info:
            generator.generate(SCRIPT, tmp_path)
        message = str(info.value)
        assert "video vid-1, scene 1" in message and "SAFETY.INPUT.TEXT" in message and "moderation" in message
        assert state.get(NAMESPACE, "runway:vid-1:1") is None
        assert state.get(NAMESPACE, "runway:vid-1:2") is not None
        generator.generate(SCRIPT, tmp_path)
    assert app.submissions() == 3  # scene 1 twice, scene 2 once


def test_runway_retries_429_with_retry_after_and_5xx(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.inject("create", Fault.answer(429, {"error": "Too many requests"}, {"Retry-After": "12"}))
    app.inject("task", Fault.answer(502, "bad gateway"), Fault.answer(504, {"error": "timeout"}))
    with serve(app) as server:
        sleeps = Sleeps()
        clips(runway(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert sleeps[0] == 12.0 and app.submissions() == 2 and app.calls["create"] == 3


def test_runway_validation_errors_are_not_retried_and_are_clear(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.inject("create", Fault.answer(400, {"error": "Validation of body failed: promptText is invalid"}))
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError, match="HTTP 400.*promptText is invalid"):
            clips(runway(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert app.calls["create"] == 1 and sleeps == []


def test_kill_mid_poll_then_resume_submits_nothing_new(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    state = MemoryStateStore()
    with serve(app) as server:
        polls = []

        def dies(request, count):
            if "/v1/tasks/" in request.url.path:
                polls.append(request)
                return len(polls) == 2
            return False

        sleeps = Sleeps()
        doomed = runway(server, app, sleeps, transport=DyingTransport(dies))
        with pytest.raises(ProcessDied):
            clips(doomed, state, sleeps).generate(SCRIPT, tmp_path)
        assert app.submissions() == 2
        stored = json.loads(state.get(NAMESPACE, "runway:vid-1:1"))
        assert stored["job_id"] in app.jobs and stored["state"] == "submitted"

        fresh = runway(server, app, Sleeps())
        result = clips(fresh, state, Sleeps()).generate(SCRIPT, tmp_path)
        assert len(result) == 2
        assert app.submissions() == 2 and app.calls["create"] == 2

        app.requests.clear()
        again = clips(runway(server, app, Sleeps()), state, Sleeps()).generate(SCRIPT, tmp_path)
        assert [c.path for c in again] == [c.path for c in result]
        assert app.requests == []  # finished clips are reused without asking


def test_a_budget_below_one_clip_refuses_before_any_request(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    state = MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=0.10)
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(BudgetExceeded, match="vid-1, scene 1.*refused before calling"):
            clips(runway(server, app, sleeps, budget=budget), state, sleeps).generate(SCRIPT, tmp_path)
    assert app.requests == [] and budget.spent_usd() == 0


def test_submissions_are_charged_and_resumes_are_free(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    state = MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=10.0)
    with serve(app) as server:
        sleeps = Sleeps()
        clips(runway(server, app, sleeps, budget=budget), state, sleeps).generate(SCRIPT, tmp_path)
        clips(runway(server, app, sleeps, budget=budget), state, sleeps).generate(SCRIPT, tmp_path)
    assert budget.spent_usd() == pytest.approx(0.15 * (4 + 6))
    assert len(state.namespace(Budget.LEDGER)) == 2


def test_expired_output_is_forgotten_so_the_scene_is_generated_again(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.plans.extend([["SUCCEEDED"]])
    state = MemoryStateStore()
    with serve(app) as server:
        sleeps = Sleeps()
        provider = runway(server, app, sleeps)
        generator = clips(provider, state, sleeps)
        generator.jobs.start("vid-1", 1, SCRIPT.scenes[0])
        app.expire(next(iter(app.jobs)))
        with pytest.raises(ProviderError, match="is gone .*HTTP 403"):
            generator.generate(SCRIPT, tmp_path)
        assert state.get(NAMESPACE, "runway:vid-1:1") is None
        generator.generate(SCRIPT, tmp_path)
    assert app.submissions() == 3


def test_a_poll_timeout_keeps_the_job_for_the_next_attempt(tmp_path, mp4):
    app = FakeRunway(video_bytes=mp4)
    app.plans.extend([["PENDING"] * 6 + ["SUCCEEDED"]])
    state = MemoryStateStore()
    with serve(app) as server:
        sleeps = Sleeps()
        impatient = GeneratedClips(
            runway(server, app, sleeps),
            state,
            sleep=sleeps,
            poll_interval_s=2.0,
            max_poll_interval_s=2.0,
            timeout_s=5.0,
        )
        with pytest.raises(ProviderError, match="still pending .*resumes it"):
            impatient.generate(SCRIPT, tmp_path)
        clips(runway(server, app, sleeps), state, sleeps).generate(SCRIPT, tmp_path)
    assert app.submissions() == 2


def test_runway_key_never_appears_in_errors_or_logs(tmp_path, mp4, caplog):
    app = FakeRunway(video_bytes=mp4)
    secret = "key_wrong_runway_secret_0001"
    caplog.set_level(logging.DEBUG)
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError) as info:
            clips(runway(server, app, sleeps, api_key=secret), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert "401" in str(info.value) and secret not in str(info.value) and secret not in caplog.text


# --- Luma ------------------------------------------------------------------------------------------


def luma(server, app, sleeps, **kwargs) -> LumaVideos:
    kwargs.setdefault("api_key", app.api_key)
    return LumaVideos(base_url=server.url, retry=POLICY, sleep=sleeps, **kwargs)


def test_luma_generations_end_to_end(tmp_path, mp4):
    app = FakeLuma(video_bytes=mp4)
    with serve(app) as server:
        sleeps = Sleeps()
        result = clips(luma(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert len(result) == 2 and all(probe(c.path).has_video for c in result)
    bodies = submissions(app)
    assert [b["duration"] for b in bodies] == ["5s", "5s"]
    assert {b["aspect_ratio"] for b in bodies} == {"9:16"} and {b["model"] for b in bodies} == {"ray-flash-2"}
    assert app.calls["get"] == 6


def test_luma_failed_generation_and_rate_limits(tmp_path, mp4):
    app = FakeLuma(video_bytes=mp4)
    app.inject("create", Fault.answer(429, {"detail": "Too many concurrent generations"}, {"Retry-After": "3"}))
    app.plans.extend([["queued", "dreaming", "failed"]])
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError, match="scene 1: luma job .* failed: .*moderation"):
            clips(luma(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert 3.0 in sleeps and app.calls["create"] == 3


def test_luma_enums_are_checked_before_any_call():
    with pytest.raises(ValueError, match="aspect_ratio"):
        LumaVideos(api_key="k", aspect_ratio="2:3")
    with pytest.raises(ValueError, match="resolution"):
        LumaVideos(api_key="k", resolution="8k")


# --- Sora ------------------------------------------------------------------------------------------


def sora(server, app, sleeps, **kwargs) -> SoraVideos:
    kwargs.setdefault("api_key", app.api_key)
    return SoraVideos(base_url=server.url + "/v1", retry=POLICY, sleep=sleeps, **kwargs)


def test_sora_is_marked_deprecated():
    assert "Deprecated" in SoraVideos.__doc__ and "2026-09-24" in SoraVideos.__doc__


def test_sora_end_to_end_honours_poll_hints_and_waits_for_content(tmp_path, mp4):
    app = FakeOpenAI(video_bytes=mp4)
    app.content_not_ready = 1
    script = Script(**{**SCRIPT.__dict__, "scenes": (SCRIPT.scenes[0], Scene("A squid", 9.0, "waves"))})
    with serve(app) as server:
        sleeps = Sleeps()
        result = clips(sora(server, app, sleeps), MemoryStateStore(), sleeps).generate(script, tmp_path)
    assert len(result) == 2
    assert [b["seconds"] for b in submissions(app, "videos.create")] == ["4", "12"]
    assert sleeps[0] == 1.5  # openai-poll-after-ms
    assert app.calls["videos.content"] == 3  # one 404 while storage lagged


def test_sora_failed_video_and_429_with_retry_after_ms(tmp_path, mp4):
    app = FakeOpenAI(video_bytes=mp4)
    app.inject(
        "videos.create",
        Fault.answer(
            429,
            {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}},
            {"retry-after-ms": "400"},
        ),
    )
    app.fail_next.append({"code": "moderation_blocked", "message": "Your request was blocked."})
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError, match="scene 1: sora job video_\\d+ failed: moderation_blocked"):
            clips(sora(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert sleeps[0] == pytest.approx(0.4)


def test_sora_rejects_unknown_sizes_and_keeps_its_key_secret(tmp_path, mp4, caplog):
    with pytest.raises(ValueError, match="size"):
        SoraVideos(api_key="k", size="1080x1920")
    app = FakeOpenAI(video_bytes=mp4)
    secret = "sk-wrong-sora-key-123456"
    caplog.set_level(logging.DEBUG)
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError) as info:
            clips(sora(server, app, sleeps, api_key=secret), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert "401" in str(info.value) and secret not in str(info.value) and secret not in caplog.text


# --- Pika ------------------------------------------------------------------------------------------


def test_pika_end_to_end(tmp_path, mp4):
    app = FakePika(video_bytes=mp4)
    with serve(app) as server:
        sleeps = Sleeps()
        provider = PikaVideos(api_key=app.api_key, base_url=server.url, retry=POLICY, sleep=sleeps)
        result = clips(provider, MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert len(result) == 2
    forms = [r.form() for name, r in app.requests if name == "create"]
    assert [f["duration"] for f in forms] == ["5", "5"] and forms[0]["aspectRatio"] == "0.5625"


def test_pika_failed_video(tmp_path, mp4):
    app = FakePika(video_bytes=mp4)
    app.plans.extend([["queued", "failed"]])
    with serve(app) as server:
        sleeps = Sleeps()
        provider = PikaVideos(api_key=app.api_key, base_url=server.url, retry=POLICY, sleep=sleeps)
        with pytest.raises(ProviderError, match="pika job .* failed: content moderation"):
            clips(provider, MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)


def test_a_download_that_is_not_video_is_rejected(tmp_path):
    app = FakeRunway(video_bytes=b"<html>not a video</html>")
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError, match="not a video"):
            clips(runway(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, tmp_path)
    assert not (Path(tmp_path) / "scene_01.mp4").exists()


def test_a_download_cut_short_is_rejected_though_its_header_says_it_is_whole(tmp_path, mp4):
    whole = tmp_path / "whole.mp4"
    source = tmp_path / "source.mp4"
    source.write_bytes(mp4)
    run_ffmpeg(["-i", f"file:{source}", "-c", "copy", "-movflags", "+faststart", f"file:{whole}"], "faststart")
    cut = whole.read_bytes()[: whole.stat().st_size // 2]
    app = FakeRunway(video_bytes=cut)
    out = tmp_path / "out"
    with serve(app) as server:
        sleeps = Sleeps()
        with pytest.raises(ProviderError, match=r"not a whole one: .*decodes to only"):
            clips(runway(server, app, sleeps), MemoryStateStore(), sleeps).generate(SCRIPT, out)
    assert not (out.exists() and any(out.iterdir()))


# --- concurrent runs ---------------------------------------------------------------------------------


def test_two_runs_reaching_a_scene_together_pay_for_one_job(tmp_path, mp4, database_url):
    """Both runs get the same job id; the provider is asked to create it once."""
    import threading

    from shorts_assets.db.state_store import DatabaseStateStore
    from shorts_assets.db.store import Store
    from shorts_assets.providers.clips.jobs import VideoJobs

    app = FakeRunway(video_bytes=mp4)
    scene = SCRIPT.scenes[0]
    with serve(app) as server:
        barrier = threading.Barrier(4)
        ids, errors = [], []

        def run() -> None:
            jobs = VideoJobs(runway(server, app, Sleeps()), DatabaseStateStore(Store(database_url)), sleep=Sleeps())
            barrier.wait()
            try:
                ids.append(jobs.start(SCRIPT.video_id, 1, scene))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(submissions(app)) == 1 and len(set(ids)) == 1 and len(ids) == 4


def test_a_claim_left_by_a_run_that_died_before_recording_its_job_lapses(tmp_path, mp4):
    from shorts_assets.providers.clips import jobs as job_module

    app = FakeRunway(video_bytes=mp4)
    state = MemoryStateStore()
    scene = SCRIPT.scenes[0]
    key = f"runway:{SCRIPT.video_id}:1"
    stale = {"fingerprint": job_module.fingerprint("runway", scene), "at": 0.0}  # claimed long ago
    assert state.put_new(job_module.CLAIMS, key, json.dumps(stale))
    with serve(app) as server:
        job_id = job_module.VideoJobs(runway(server, app, Sleeps()), state, sleep=Sleeps()).start(
            SCRIPT.video_id, 1, scene
        )
    assert job_id and len(submissions(app)) == 1
    assert state.get(job_module.CLAIMS, key) is None  # released once the job id is recorded
