"""Review before publishing, end to end through Dagster: the loop renders and stops, review_job records
who approved and rejected what, approved_videos_sensor launches publish_approved_job, exactly the
approved videos are posted once at their slots, and the strategy shows the rejection. Under
before_generation no paid clip or voice call happens until a video is approved."""

import json
from datetime import date, datetime, time, timezone

import dagster as dg
import pytest

from shorts_assets.db.reviews import ReviewStore
from shorts_assets.db.store import Store
from shorts_assets.defs.location import build_definitions
from shorts_assets.defs.resources import build_resources
from shorts_assets.defs.review import REFUSED_TAG, approved_videos_sensor
from shorts_assets.fakes.elevenlabs_server import FakeElevenLabs
from shorts_assets.fakes.runway_server import FakeRunway
from shorts_assets.fakes.server import FakeServer
from shorts_assets.providers.media import run_ffmpeg
from shorts_assets.settings import load_settings
from shorts_assets_tests.helpers import script_json

pytestmark = pytest.mark.slow

PAST_DAY = date(2026, 11, 20)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": PAST_DAY.isoformat()})
CLEARED = ("DATABASE_URL", "SHORTS_CHANNELS", "SHORTS_REVIEW", "PUBLISHER_YOUTUBE", "PUBLISHER_TIKTOK")


def settings_for(patch: pytest.MonkeyPatch, root, review: str, videos_per_day: int, **extra):
    """The settings of one channel under `review`; the environment stays set while `patch` lasts (the
    paid adapters read their keys from it when they are built)."""
    channels = root / "channels.json"
    channels.write_text(
        json.dumps({"channels": [{"name": "demo", "videos_per_day": videos_per_day, "review": review}]})
    )
    env = {"SHORTS_DATA_DIR": str(root / "data"), "SHORTS_CHANNELS_FILE": str(channels), "RENDER_PROFILE": "draft"}
    for name in CLEARED:
        patch.delenv(name, raising=False)
    for name, value in {**env, **extra}.items():
        patch.setenv(name, value)
    return load_settings()


def run_job(defs, instance, name, **kwargs) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(name).execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def review_config(**config) -> dict:
    return {"ops": {"record_review": {"config": {"channels": ["demo"], **config}}}}


def evaluate_sensor(instance, settings, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=build_resources(settings)) as context:
        return approved_videos_sensor(context)


def launch(defs, instance, result: dg.SensorResult) -> list[dg.ExecuteInProcessResult]:
    """Run what the sensor asked for, as the daemon would."""
    return [
        run_job(defs, instance, "publish_approved_job", partition_key=request.partition_key, tags=request.tags)
        for request in result.run_requests
    ]


def manifests(settings) -> list[dict]:
    return [json.loads(p.read_text()) for p in (settings.data_dir / "outbox").rglob("manifest.json")]


def metadata(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """One channel reviewed before publishing: its day's loop, and the Dagster instance it ran in."""
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        settings = settings_for(patch, tmp_path_factory.mktemp("review"), "before_publish", 3)
        defs = build_definitions(settings)
        loop = run_job(defs, instance, "shorts_loop_job", partition_key=PARTITION)
        yield {
            "settings": settings,
            "defs": defs,
            "instance": instance,
            "loop": loop,
            "store": Store(settings.database_url),
        }


def test_with_review_before_publish_the_loop_renders_and_stops(reviewed):
    loop, store = reviewed["loop"], reviewed["store"]
    assert loop.success
    rows = store.batch("demo", PAST_DAY)
    assert len(rows) == 3 and all("render" in r.outputs for r in rows)
    assert {r.status for r in rows} == {"awaiting_review"}
    assert manifests(reviewed["settings"]) == []  # nothing reached the platforms
    assert store.publications("demo", PAST_DAY) == []
    for platform in ("youtube", "tiktok", "instagram"):
        published = metadata(loop, f"publications/{platform}")
        assert (published["published"], published["held_for_review"]) == (0, 3)
    renders = metadata(loop, "renders")
    assert {r.data["status"] for r in renders["batch"].records} == {"awaiting review"}
    assert evaluate_sensor(reviewed["instance"], reviewed["settings"]).run_requests == []  # nothing approved yet


def test_approving_two_and_rejecting_one_publishes_exactly_those_two_once_at_their_slots(reviewed):
    defs, instance, settings, store = reviewed["defs"], reviewed["instance"], reviewed["settings"], reviewed["store"]
    first, second, third = store.batch("demo", PAST_DAY)
    result = run_job(
        defs,
        instance,
        "review_job",
        run_config=review_config(
            approve=[first.video_id, second.video_id],
            reject={third.video_id: "the narration says octopuses have two hearts"},
            titles={first.video_id: "Three hearts, one octopus"},
        ),
        tags={"dagster/user": "ana@example.com"},
    )
    assert result.success
    decisions = ReviewStore(store).latest([first.video_id, second.video_id, third.video_id])
    assert {v: d.decision for v, d in decisions.items()} == {
        first.video_id: "approve",
        second.video_id: "approve",
        third.video_id: "reject",
    }
    assert {(d.reviewer, d.via, d.run_id) for d in decisions.values()} == {("ana@example.com", "ui", result.run_id)}
    assert decisions[third.video_id].reason == "the narration says octopuses have two hearts"

    sensed = evaluate_sensor(instance, settings)
    (request,) = sensed.run_requests  # one run for the partition's approvals, their slots already past
    assert request.run_key.startswith("review:demo|2026-11-20:slot:")
    assert all(run.success for run in launch(defs, instance, sensed))

    posted = manifests(settings)
    assert sorted((m["video_id"], m["platform"]) for m in posted) == sorted(
        (v.video_id, p) for v in (first, second) for p in ("youtube", "tiktok", "instagram")
    )
    for m in posted:
        row = first if m["video_id"] == first.video_id else second
        slot = datetime.combine(PAST_DAY, time(int(row.arms["posting_hour"])), tzinfo=timezone.utc)
        assert datetime.fromisoformat(m["scheduled_at"]) == slot == datetime.fromisoformat(m["published_at"])
    assert {m["title"] for m in posted if m["video_id"] == first.video_id} == {"Three hearts, one octopus"}
    assert {r.video_id: r.status for r in store.batch("demo", PAST_DAY)}[third.video_id] == "rejected"

    again = evaluate_sensor(instance, settings, cursor=sensed.cursor)
    assert again.run_requests == []  # once per approval
    assert all(run.success for run in [run_job(defs, instance, "publish_approved_job", partition_key=PARTITION)])
    assert len(manifests(settings)) == 6
    assert all(p.attempts == 1 for p in store.publications("demo", PAST_DAY))


def test_the_rejection_is_visible_in_the_strategy_and_reaches_the_writer(reviewed):
    result = run_job(reviewed["defs"], reviewed["instance"], "learn_job", partition_key=PARTITION)
    assert result.success
    shown = metadata(result, "strategy")
    (_, _, third) = reviewed["store"].batch("demo", PAST_DAY)
    assert shown["rejected_videos"] == 1
    assert third.video_id in shown["rejections"] and "two hearts" in shown["rejections"]
    (told,) = shown["raw_writer_hints_json"]["rejected_by_reviewer"]
    assert told["rejected_because"] == "the narration says octopuses have two hearts"
    assert told["title"] == third.script.title


def test_each_bad_decision_is_refused_by_id_while_the_good_one_is_recorded(reviewed):
    defs, instance, store = reviewed["defs"], reviewed["instance"], reviewed["store"]
    first, _, third = store.batch("demo", PAST_DAY)
    for channel, video_id in (("demo", "demo-20261120-09"), ("other", "other-20261120-01")):
        store.add_script(
            video_id=video_id,
            channel=channel,
            batch_date=PAST_DAY,
            position=9,
            strategy_version=f"{channel}:prior",
            arms=first.arms,
            script=script_json(video_id, arms=first.arms),
            writer="template",
        )
    before = {v: len(ReviewStore(store).history(v)) for v in (first.video_id, third.video_id, "other-20261120-01")}

    result = run_job(
        defs,
        instance,
        "review_job",
        run_config=review_config(
            approve=["demo-20261120-09", "demo-20261199-01", first.video_id, "other-20261120-01"],
            reject={third.video_id: "still wrong"},
            reviewer="bo",
        ),
    )

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert "4 decision(s) refused, 1 recorded" in message
    refused = failure.step_failure_data.user_failure_data.metadata["refused_ids"].value
    assert set(refused) == {"demo-20261199-01", first.video_id, "other-20261120-01", third.video_id}
    assert refused["demo-20261199-01"] == "no video 'demo-20261199-01' exists"
    assert refused[first.video_id].startswith(f"{first.video_id} is already published (")
    assert refused[third.video_id].startswith(f"{third.video_id} was already rejected by ana@example.com")
    assert "belongs to channel other" in refused["other-20261120-01"]
    for video_id in refused:
        assert f"{video_id}: " in message
    run = instance.get_run_by_id(result.run_id)
    assert set(run.tags[REFUSED_TAG].split(",")) == set(refused)

    (kept,) = ReviewStore(store).history("demo-20261120-09")
    assert (kept.decision, kept.reviewer, kept.via) == ("approve", "bo", "ui")
    assert {v: len(ReviewStore(store).history(v)) for v in before} == before


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """What the fake video API hands back: a real portrait MP4."""
    path = tmp_path_factory.mktemp("clip") / "generated.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=24", "-t", "5", "-pix_fmt", "yuv420p"]
        + ["-c:v", "libx264", "-preset", "ultrafast", f"file:{path}"],
        "making a generated clip",
    )
    return path.read_bytes()


def test_before_generation_no_paid_clip_or_voice_call_happens_until_a_video_is_approved(
    tmp_path, clip_bytes, monkeypatch
):
    runway, elevenlabs = FakeRunway(video_bytes=clip_bytes), FakeElevenLabs()
    with FakeServer(runway) as video_api, FakeServer(elevenlabs) as voice_api:
        settings = settings_for(
            monkeypatch,
            tmp_path,
            "before_generation",
            2,
            VIDEO_GEN_PROVIDER="runway",
            VIDEO_GEN_POLL_INTERVAL_S="0.05",
            RUNWAYML_API_SECRET=runway.api_key,
            RUNWAY_API_BASE_URL=video_api.url,
            TTS_PROVIDER="elevenlabs",
            ELEVENLABS_API_KEY=elevenlabs.api_key,
            ELEVENLABS_API_BASE_URL=voice_api.url,
        )
        defs = build_definitions(settings)
        store = Store(settings.database_url)
        with dg.instance_for_test() as instance:
            loop = run_job(defs, instance, "shorts_loop_job", partition_key=PARTITION)
            assert loop.success
            assert len(runway.requests) == 0 and len(elevenlabs.requests) == 0
            kept, dropped = store.batch("demo", PAST_DAY)
            assert {kept.status, dropped.status} == {"awaiting_review"} and kept.outputs == dropped.outputs == {}
            assert manifests(settings) == []
            assert metadata(loop, "clips")["held_for_review"] == 2

            decided = run_job(
                defs,
                instance,
                "review_job",
                run_config=review_config(approve=[kept.video_id], reject={dropped.video_id: "off-brand topic"}),
            )
            assert decided.success
            assert all(run.success for run in launch(defs, instance, evaluate_sensor(instance, settings)))

    assert len(runway.requests) > 0 and len(elevenlabs.requests) > 0
    rows = {r.video_id: r for r in store.batch("demo", PAST_DAY)}
    assert "render" in rows[kept.video_id].outputs
    assert rows[dropped.video_id].outputs == {} and rows[dropped.video_id].status == "rejected"
    assert sorted(m["video_id"] for m in manifests(settings)) == [kept.video_id] * 3
    (decision,) = ReviewStore(store).history(dropped.video_id)
    assert decision.reviewer == "unknown"  # no user tag and no reviewer in the config
