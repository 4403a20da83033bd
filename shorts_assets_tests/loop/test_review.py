"""The review gate: which videos may be paid for or posted, decisions a person makes (and the ones
refused, each by id), and when approved videos go out: YouTube at once with publishAt, the others
when their slot has come."""

from datetime import date, datetime, timedelta, timezone

import pytest

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.core.types import Publication
from shorts_assets.db.reviews import ReviewStore
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.loop.publishing import publish_batch
from shorts_assets.loop.review import (
    AT_GENERATION,
    AT_PUBLISH,
    AWAITING,
    ReviewRequest,
    decide,
    due,
    gate,
    plan_publishing,
)
from shorts_assets.providers.platforms.simulated import SimulatedPlatform
from shorts_assets.providers.platforms.youtube import YouTubeAdapter
from shorts_assets_tests.helpers import Sleeps, media, script_json

DAY = date(2026, 11, 21)
ARMS = {
    "topic": "ocean",
    "hook": "question",
    "length": "short",
    "voice": "en-us",
    "caption_style": "boxed",
    "posting_hour": "09",
}
CHANNELS = (
    ChannelConfig(name="demo", review="before_publish"),
    ChannelConfig(name="other", review="before_publish"),
    ChannelConfig(name="open", review="off"),
)


class Log(list):
    """A log that keeps what it was told."""

    def debug(self, msg):
        self.append(("debug", msg))

    def info(self, msg):
        self.append(("info", msg))

    def warning(self, msg):
        self.append(("warning", msg))


def add_video(store, tmp_path, video_id, *, channel="demo", day=DAY, hour="09", rendered=True, position=1):
    arms = {**ARMS, "posting_hour": hour}
    store.add_script(
        video_id=video_id,
        channel=channel,
        batch_date=day,
        position=position,
        strategy_version=f"{channel}:prior",
        arms=arms,
        writer="template",
        script=script_json(video_id, title=f"Title of {video_id}", description="About it.", arms=arms),
    )
    if rendered:
        folder = tmp_path / video_id
        folder.mkdir()
        video, thumb = media(folder)
        store.complete_stage(
            video_id,
            "render",
            {
                "video_path": str(video),
                "thumbnail_path": str(thumb),
                "duration_s": 30.0,
                "width": 1080,
                "height": 1920,
                "files": [str(video), str(thumb)],
            },
        )


def publish(store, video_id, platform="youtube"):
    """Record a post of the video as done, as a publishing run does."""
    store.begin_publish(
        video_id=video_id,
        channel="demo",
        batch_date=DAY,
        platform=platform,
        account="demo",
        scheduled_at=datetime(2026, 11, 21, 9, tzinfo=timezone.utc),
        owner="test",
    )
    store.finish_publish(
        Publication(
            platform, "demo", video_id, "yt123", "https://simulated.invalid/youtube/yt123", datetime.now(timezone.utc)
        )
    )


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'shorts.db'}")


def review(store, **fields):
    return decide(store, CHANNELS, ReviewRequest(**{"channels": ["demo"], "reviewer": "ana", **fields}))


# ##### decisions


def test_decisions_are_appended_never_overwritten_and_the_latest_holds(database_url, tmp_path):
    store = Store(database_url)
    add_video(store, tmp_path, "demo-20261121-01")
    first = review(store, approve=["demo-20261121-01"])
    again = review(store, approve=["demo-20261121-01"], titles={"demo-20261121-01": "A better title"})
    reviews = ReviewStore(store)
    assert not first.refused and not again.refused
    history = reviews.history("demo-20261121-01")
    assert [(d.decision, d.title) for d in history] == [("approve", None), ("approve", "A better title")]
    assert reviews.latest(["demo-20261121-01"])["demo-20261121-01"].id == history[-1].id
    assert all(d.reviewer == "ana" and d.via == "ui" and d.decided_at.tzinfo for d in history)

    changed_mind = review(store, reject={"demo-20261121-01": "the second fact is wrong"})
    assert not changed_mind.refused
    assert [d.decision for d in reviews.history("demo-20261121-01")] == ["approve", "approve", "reject"]
    latest = reviews.latest(["demo-20261121-01"])["demo-20261121-01"]
    assert (latest.decision, latest.reason) == ("reject", "the second fact is wrong")
    (row,) = store.batch("demo", DAY)
    assert row.status == "rejected"


@pytest.mark.parametrize(
    ("prepare", "request_fields", "refused_because"),
    [
        (None, {"approve": ["demo-20261121-99"]}, "no video 'demo-20261121-99' exists"),
        ("published", {"approve": ["demo-20261121-02"]}, "demo-20261121-02 is already published (youtube: https://"),
        ("published", {"reject": {"demo-20261121-02": "late"}}, "already published"),
        ("rejected", {"approve": ["demo-20261121-02"]}, "demo-20261121-02 was already rejected by ana"),
        ("rejected", {"reject": {"demo-20261121-02": "again"}}, "already rejected"),
        (
            None,
            {"approve": ["other-20261121-01"]},
            "other-20261121-01 belongs to channel other, not to demo, which this review is about",
        ),
        (None, {"approve": ["open-20261121-01"], "channels": ["demo", "open"]}, "channel open has review off"),
        (None, {"reject": {"demo-20261121-02": "   "}}, "rejecting demo-20261121-02 needs a reason"),
        (
            None,
            {"approve": ["demo-20261121-02"], "reject": {"demo-20261121-02": "no"}},
            "both approved and rejected",
        ),
        (None, {"titles": {"demo-20261121-02": "New"}}, "an edited title is given for demo-20261121-02, which this"),
        (
            None,
            {"approve": ["demo-20261121-02"], "titles": {"demo-20261121-02": "x" * 101}},
            "the edited title has 101 characters, over the limit of 100",
        ),
    ],
)
def test_a_bad_decision_is_refused_by_id_and_the_good_ones_beside_it_are_recorded(
    store, tmp_path, prepare, request_fields, refused_because
):
    add_video(store, tmp_path, "demo-20261121-01", position=1)
    add_video(store, tmp_path, "demo-20261121-02", position=2)
    add_video(store, tmp_path, "other-20261121-01", channel="other")
    add_video(store, tmp_path, "open-20261121-01", channel="open")
    if prepare == "published":
        publish(store, "demo-20261121-02")
    if prepare == "rejected":
        assert not review(store, reject={"demo-20261121-02": "off-brand"}).refused
    reviews = ReviewStore(store)
    before = {v: len(reviews.history(v)) for v in ("demo-20261121-02", "other-20261121-01", "open-20261121-01")}

    fields = dict(request_fields)
    fields["approve"] = [*fields.get("approve", []), "demo-20261121-01"]  # a valid decision in the same review
    result = review(store, **fields)

    (refused_id,) = result.refused
    assert refused_because in result.refused[refused_id]
    assert [d.video_id for d in result.recorded] == ["demo-20261121-01"]
    assert reviews.latest(["demo-20261121-01"])["demo-20261121-01"].decision == "approve"
    after = {v: len(reviews.history(v)) for v in before}
    assert after == before  # nothing recorded for the refused video


def test_a_review_of_an_unknown_channel_is_refused_whole_naming_it(store, tmp_path):
    add_video(store, tmp_path, "demo-20261121-01")
    with pytest.raises(ConfigError, match="channels: unknown channel 'nope'"):
        review(store, channels=["demo", "nope"], approve=["demo-20261121-01"])
    with pytest.raises(ConfigError, match="names the channel"):
        review(store, channels=[], approve=["demo-20261121-01"])
    assert ReviewStore(store).history("demo-20261121-01") == []


# ##### the gate


def test_before_publish_renders_everything_and_holds_each_finished_short_until_it_is_approved(store, tmp_path):
    channel = CHANNELS[0]
    add_video(store, tmp_path, "demo-20261121-01", position=1)
    add_video(store, tmp_path, "demo-20261121-02", position=2)
    add_video(store, tmp_path, "demo-20261121-03", position=3, rendered=False)
    log = Log()

    assert [r.video_id for r in gate(log, store, channel, store.batch("demo", DAY), AT_GENERATION).allowed] == [
        "demo-20261121-01",
        "demo-20261121-02",
        "demo-20261121-03",
    ]
    held = gate(log, store, channel, store.batch("demo", DAY), AT_PUBLISH)
    assert held.allowed == [] and set(held.held.values()) == {AWAITING}
    statuses = {r.video_id: r.status for r in store.batch("demo", DAY)}
    assert statuses == {
        "demo-20261121-01": "awaiting_review",
        "demo-20261121-02": "awaiting_review",
        "demo-20261121-03": "ok",
    }
    announced = [m for _, m in log if "is awaiting review before publishing" in m]
    assert len(announced) == 2
    gate(log, store, channel, store.batch("demo", DAY), AT_PUBLISH)
    assert len([m for _, m in log if "is awaiting review" in m]) == 2  # announced once per video

    review(store, approve=["demo-20261121-01"], titles={"demo-20261121-01": "Edited"})
    review(store, reject={"demo-20261121-02": "the voice mispronounces octopus"})
    result = gate(log, store, channel, store.batch("demo", DAY), AT_PUBLISH)
    (approved,) = result.allowed
    assert (approved.video_id, approved.script.title) == ("demo-20261121-01", "Edited")
    assert result.held["demo-20261121-02"] == "rejected by ana: the voice mispronounces octopus"
    generation = gate(log, store, channel, store.batch("demo", DAY), AT_GENERATION)
    assert "demo-20261121-02" in generation.held  # a rejected video is not rendered again either


def test_before_generation_holds_scripts_and_review_off_holds_nothing(store, tmp_path):
    add_video(store, tmp_path, "demo-20261121-01", rendered=False)
    log = Log()
    strict = ChannelConfig(name="demo", review="before_generation")
    result = gate(log, store, strict, store.batch("demo", DAY), AT_GENERATION)
    assert result.allowed == [] and result.held == {"demo-20261121-01": AWAITING}
    assert store.batch("demo", DAY)[0].status == "awaiting_review"
    assert any("awaiting review before generation" in m for _, m in log)

    off = ChannelConfig(name="demo", review="off")
    assert [r.video_id for r in gate(log, store, off, store.batch("demo", DAY), AT_PUBLISH).allowed] == [
        "demo-20261121-01"
    ]


# ##### scheduled publishing


def youtube(server, app, store):
    return YouTubeAdapter(
        client_id=app.client_id,
        client_secret=app.client_secret,
        refresh_token="1//refresh-token-value",
        state=DatabaseStateStore(store),
        account="demo",
        api_base_url=f"{server.url}/youtube/v3",
        upload_base_url=f"{server.url}/upload/youtube/v3",
        analytics_base_url=f"{server.url}/v2",
        token_url=f"{server.url}/token",
        sleep=Sleeps(),
    )


def test_an_approved_video_goes_to_youtube_at_once_with_publish_at_and_elsewhere_when_its_slot_comes(store, tmp_path):
    channel = CHANNELS[0]
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    video_id = f"demo-{tomorrow:%Y%m%d}-01"
    add_video(store, tmp_path, video_id, day=tomorrow, hour="18")
    slot = datetime.combine(tomorrow, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=18)
    log = Log()
    review(store, approve=[video_id])
    now = datetime.now(timezone.utc)

    app = FakeYouTube()
    outbox = tmp_path / "outbox"
    with FakeServer(app) as server:
        with youtube(server, app, store) as publisher:
            approved = gate(log, store, channel, store.batch("demo", tomorrow), AT_PUBLISH).allowed
            timing = due(channel, publisher, approved, now)
            assert [r.video_id for r in timing.allowed] == [video_id]
            assert publish_batch(log, store, publisher, timing.allowed).outcomes == {video_id: "published"}
    (uploaded,) = app.videos.values()
    assert uploaded.status["privacyStatus"] == "private"
    assert datetime.fromisoformat(uploaded.status["publishAt"].replace("Z", "+00:00")) == slot

    tiktok = SimulatedPlatform(outbox, "tiktok", account="demo")
    waiting = due(channel, tiktok, approved, now)
    assert waiting.allowed == [] and waiting.held == {video_id: f"scheduled for {tomorrow} 18:00 UTC"}
    assert not list(outbox.rglob("manifest.json"))
    at_slot = due(channel, tiktok, approved, slot)
    assert publish_batch(log, store, tiktok, at_slot.allowed).outcomes == {video_id: "published"}
    assert {p.platform for p in store.publications("demo", tomorrow) if p.status == "published"} == {
        "youtube",
        "tiktok",
    }


def test_the_sensor_plan_launches_each_approval_once_now_and_once_at_its_slot(store, tmp_path):
    add_video(store, tmp_path, "demo-20261121-01", hour="18", position=1)
    add_video(store, tmp_path, "demo-20261121-02", hour="06", position=2)
    add_video(store, tmp_path, "demo-20261121-03", hour="21", position=3)
    morning = datetime(2026, 11, 21, 8, tzinfo=timezone.utc)
    review(store, approve=["demo-20261121-01", "demo-20261121-02", "demo-20261121-03"])

    launches, state = plan_publishing(store, CHANNELS, {}, morning)
    assert [(launch.run_key, launch.video_ids) for launch in launches] == [
        ("review:demo|2026-11-21:approved:1+3", ("demo-20261121-01", "demo-20261121-03")),
        ("review:demo|2026-11-21:slot:2", ("demo-20261121-02",)),  # its 06:00 slot has passed: everywhere now
    ]
    assert plan_publishing(store, CHANNELS, state, morning)[0] == []  # nothing twice

    review(store, reject={"demo-20261121-03": "the clip shows a logo"})  # changed their mind before 21:00
    launches, state = plan_publishing(store, CHANNELS, state, datetime(2026, 11, 21, 18, tzinfo=timezone.utc))
    assert [launch.run_key for launch in launches] == ["review:demo|2026-11-21:slot:1"]
    launches, state = plan_publishing(store, CHANNELS, state, datetime(2026, 11, 21, 22, tzinfo=timezone.utc))
    assert launches == [] and state["waiting"] == {}
