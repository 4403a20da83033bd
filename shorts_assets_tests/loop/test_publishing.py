"""Publishing against the fake YouTube server: the publish states a person or a later run acts on,
and exactly one post per video when runs overlap, die mid-post or lose their database."""

import multiprocessing
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shorts_assets.core.errors import AuthRevoked, BatchFailed, BudgetExhausted, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import PublishRequest
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.fakes.tiktok_server import FakeTikTok
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.loop.batch import with_checksums
from shorts_assets.loop.publishing import (
    ALREADY_PUBLISHED,
    CLAIMED_ELSEWHERE,
    IN_INBOX,
    SENT_TO_INBOX,
    publish_batch,
    publish_one,
)
from shorts_assets.providers.platforms.marker import carries_marker
from shorts_assets.providers.platforms.simulated import SimulatedPlatform
from shorts_assets.providers.platforms.tiktok import TikTokAdapter
from shorts_assets.providers.platforms.youtube import YouTubeAdapter
from shorts_assets_tests.helpers import Sleeps, media, script_json

DAY = date(2026, 11, 21)
NOW_SLOT = datetime(2026, 11, 21, 9, tzinfo=timezone.utc)
ARMS = {
    "topic": "ocean",
    "hook": "question",
    "length": "short",
    "voice": "en-us",
    "caption_style": "boxed",
    "posting_hour": "09",
}


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    video, thumb = media(tmp_path)
    store.add_script(
        video_id="demo-20261121-01",
        channel="demo",
        batch_date=DAY,
        position=1,
        strategy_version="demo:prior",
        arms=ARMS,
        writer="template",
        script=script_json(
            "demo-20261121-01", title="Octopus hearts", description="Three hearts.", tags=["ocean"], arms=ARMS
        ),
    )
    store.complete_stage(
        "demo-20261121-01",
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
    return store


def adapter(server, app, store, **overrides):
    kwargs = dict(
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
    return YouTubeAdapter(**{**kwargs, **overrides})


def test_a_revoked_login_waits_for_a_person_and_is_not_retried(store):
    app = FakeYouTube()
    app.revoke()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        with pytest.raises(AuthRevoked):
            publish_one(store, adapter(server, app, store), row)
        (record,) = store.publications("demo", DAY)
        assert record.status == "needs_manual" and "revoked" in record.error.lower()
        calls = len(app.requests)
        assert publish_one(store, adapter(server, app, store), row).startswith("needs manual attention")
        assert len(app.requests) == calls
    assert app.created_videos == 0


def test_an_exhausted_quota_fails_the_post_for_a_later_run(store):
    app = FakeYouTube()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        with pytest.raises(BudgetExhausted):
            publish_one(store, adapter(server, app, store, quota_model="legacy", daily_quota_units=100), row)
    (record,) = store.publications("demo", DAY)
    assert record.status == "failed" and app.created_videos == 0


def test_a_post_is_made_once_and_then_recognised(store):
    app = FakeYouTube()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        assert publish_one(store, adapter(server, app, store), row) == "published"
        assert publish_one(store, adapter(server, app, store), row) == "already published"
    (record,) = store.publications("demo", DAY)
    assert record.status == "published" and app.created_videos == 1


def test_a_short_changed_since_it_was_rendered_is_not_uploaded_and_goes_back_to_renders(store):
    (row,) = store.batch("demo", DAY)
    store.complete_stage(row.video_id, "render", with_checksums(row.outputs["render"]))
    video = Path(row.outputs["render"]["video_path"])
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])  # cut short after rendering
    (row,) = store.batch("demo", DAY)
    app = FakeYouTube()
    with FakeServer(app) as server:
        with pytest.raises(ProviderError, match="short.mp4"):
            publish_one(store, adapter(server, app, store), row)
    assert app.created_videos == 0
    (record,) = store.publications("demo", DAY)
    assert record.status == "failed" and "not uploaded" in record.error
    claim = store.begin_publish(  # the claim was released: the next run may take the slot
        video_id=row.video_id, channel="demo", batch_date=DAY, platform="youtube", account="demo",
        scheduled_at=NOW_SLOT, owner="next-run",
    )  # fmt: skip
    assert claim.granted
    (row,) = store.batch("demo", DAY)
    assert "short.mp4" in row.outputs["render"]["invalid"]


# ##### overlapping runs, dead owners, lost databases


class Quiet:
    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        pass


def rendered_batch(store: Store, tmp_path, count: int = 3, width: int = 1080, height: int = 1920) -> list[str]:
    """`count` rendered videos of the DAY batch; their ids."""
    ids = []
    for position in range(1, count + 1):
        video_id = f"demo-20261121-{position:02d}"
        video, thumb = media(tmp_path, name=f"short-{position}.mp4")
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            position=position,
            strategy_version="demo:prior",
            arms=ARMS,
            writer="template",
            script=script_json(video_id, title=f"Fact {position}", description="A fact.", tags=["ocean"], arms=ARMS),
        )
        store.complete_stage(
            video_id,
            "render",
            {
                "video_path": str(video),
                "thumbnail_path": str(thumb),
                "duration_s": 30.0,
                "width": width,
                "height": height,
                "files": [str(video), str(thumb)],
            },
        )
        ids.append(video_id)
    return ids


def request_for(row) -> PublishRequest:
    render = row.outputs["render"]
    return PublishRequest(
        video_id=row.video_id,
        title=row.script.title,
        description=row.script.description,
        tags=row.script.tags,
        video_path=Path(render["video_path"]),
        thumbnail_path=Path(render["thumbnail_path"]),
        scheduled_at=NOW_SLOT,
        duration_s=render["duration_s"],
    )


def youtube_at(url: str, store: Store) -> YouTubeAdapter:
    """The real YouTube adapter against a fake server at `url`, its state in the store's database."""
    return YouTubeAdapter(
        client_id=FakeYouTube().client_id,
        client_secret=FakeYouTube().client_secret,
        refresh_token="1//refresh-token-value",
        state=DatabaseStateStore(store),
        account="demo",
        api_base_url=f"{url}/youtube/v3",
        upload_base_url=f"{url}/upload/youtube/v3",
        analytics_base_url=f"{url}/v2",
        token_url=f"{url}/token",
        sleep=Sleeps(),
    )


def publish_in_a_process(database_url: str, server_url: str, start, results) -> None:
    """One run's publication of the DAY batch, in its own process, released by `start` with the others."""
    store = Store(database_url)
    rows = store.batch("demo", DAY)
    with youtube_at(server_url, store) as publisher:
        start.wait(timeout=60)
        outcome = publish_batch(Quiet(), store, publisher, rows)
    results.put((outcome.outcomes, outcome.attempted, outcome.failed))
    store.dispose()


def test_runs_started_together_in_separate_processes_upload_each_video_once(database_url, tmp_path):
    store = Store(database_url)
    ids = rendered_batch(store, tmp_path)
    app = FakeYouTube()
    runs = 3
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(runs), spawn.Queue()
    with FakeServer(app) as server:
        processes = [
            spawn.Process(target=publish_in_a_process, args=(database_url, server.url, start, results))
            for _ in range(runs)
        ]
        for process in processes:
            process.start()
        reports = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * runs

    assert app.created_videos == len(ids)  # one upload per video, whichever run made it
    records = {p.video_id: p for p in store.publications("demo", DAY, "youtube")}
    assert {v: records[v].status for v in ids} == dict.fromkeys(ids, "published")
    assert {records[v].remote_id for v in ids} == set(app.videos)
    for video_id in ids:
        outcomes = sorted(outcomes[video_id] for outcomes, _, _ in reports)
        assert outcomes.count("published") == 1, outcomes
        assert set(outcomes) <= {"published", "already published", CLAIMED_ELSEWHERE}, outcomes
        assert carries_marker(app.videos[records[video_id].remote_id].snippet["description"], video_id)
    assert sum(attempted for _, attempted, _ in reports) == len(ids)  # a claim held elsewhere is no attempt
    assert sum(failed for _, _, failed in reports) == 0


def test_a_live_claim_of_another_run_is_left_alone(database_url, tmp_path):
    store = Store(database_url)
    (video_id,) = rendered_batch(store, tmp_path, count=1)
    (row,) = store.batch("demo", DAY)
    held = store.begin_publish(
        video_id=video_id,
        channel="demo",
        batch_date=DAY,
        platform="youtube",
        account="demo",
        scheduled_at=NOW_SLOT,
        owner="other-host:1:live",
    )
    app = FakeYouTube()
    with FakeServer(app) as server, youtube_at(server.url, store) as publisher:
        outcome = publish_batch(Quiet(), store, publisher, [row])

    assert held.granted and outcome.outcomes == {video_id: CLAIMED_ELSEWHERE}
    assert (outcome.attempted, outcome.failed) == (0, 0)
    assert sum(app.calls.values()) == 0
    record = store.publication(video_id, "youtube", "demo")
    assert (record.status, record.attempts) == ("uploading", 1)


def test_a_lapsed_claim_of_a_run_that_died_after_uploading_is_recovered_from_the_platform(database_url, tmp_path):
    store = Store(database_url)
    (video_id,) = rendered_batch(store, tmp_path, count=1)
    (row,) = store.batch("demo", DAY)
    app = FakeYouTube()
    with FakeServer(app) as server:
        # The dead run: claimed with a short lease, uploaded, and died before anything was recorded.
        store.begin_publish(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            platform="youtube",
            account="demo",
            scheduled_at=NOW_SLOT,
            owner="dead-host:1:run",
            lease=timedelta(milliseconds=50),
        )
        with adapter(server, app, store, state=MemoryStateStore()) as dead:
            uploaded = dead.publish(request_for(row))
        time.sleep(0.1)  # the lease lapses
        with youtube_at(server.url, store) as publisher:
            outcome = publish_one(store, publisher, row)

    assert outcome == "recovered from the platform"
    assert app.created_videos == 1
    record = store.publication(video_id, "youtube", "demo")
    assert (record.status, record.remote_id, record.attempts) == ("published", uploaded.remote_id, 2)


def test_a_database_lost_after_the_upload_does_not_upload_again(tmp_path):
    app = FakeYouTube()
    with FakeServer(app) as server:
        first = Store(f"sqlite:///{tmp_path / 'first.db'}")
        (video_id,) = rendered_batch(first, tmp_path, count=1)
        with youtube_at(server.url, first) as publisher:
            assert publish_one(first, publisher, first.batch("demo", DAY)[0]) == "published"
        uploaded = first.publication(video_id, "youtube", "demo").remote_id

        replacement = Store(f"sqlite:///{tmp_path / 'replacement.db'}")
        rendered_batch(replacement, tmp_path, count=1)
        with youtube_at(server.url, replacement) as publisher:
            outcome = publish_one(replacement, publisher, replacement.batch("demo", DAY)[0])

    assert outcome == "recovered from the platform"
    assert app.created_videos == 1
    assert replacement.publication(video_id, "youtube", "demo").remote_id == uploaded


def test_a_draft_render_is_refused_by_a_real_publisher_naming_render_profile(database_url, tmp_path):
    store = Store(database_url)
    rendered_batch(store, tmp_path, count=2, width=540, height=960)
    rows = store.batch("demo", DAY)
    app = FakeYouTube()
    with FakeServer(app) as server, youtube_at(server.url, store) as publisher:
        with pytest.raises(ProviderError, match=r"540x960.*RENDER_PROFILE=final"):
            publish_one(store, publisher, rows[0])
        with pytest.raises(BatchFailed, match="RENDER_PROFILE"):
            publish_batch(Quiet(), store, publisher, rows)

    assert sum(app.calls.values()) == 0
    assert store.publications("demo", DAY) == []


def test_a_draft_render_is_still_posted_to_the_simulated_platform(database_url, tmp_path):
    store = Store(database_url)
    rendered_batch(store, tmp_path, count=1, width=540, height=960)
    (row,) = store.batch("demo", DAY)
    with SimulatedPlatform(tmp_path / "outbox", "youtube", account="demo") as publisher:
        assert publish_one(store, publisher, row) == "published"
    (record,) = store.publications("demo", DAY)
    assert record.status == "published"
    assert urlsplit(record.url).hostname == "simulated.invalid"


def test_a_long_post_keeps_its_claim_alive_so_no_other_run_takes_it_over(database_url, tmp_path):
    store = Store(database_url)
    (video_id,) = rendered_batch(store, tmp_path, count=1)
    (row,) = store.batch("demo", DAY)
    app = FakeYouTube()
    app.inject("videos.insert", Fault.answer(503, {"error": {"code": 503, "message": "busy"}}))
    rivals = []

    def slow_backoff(seconds: float) -> None:
        time.sleep(0.5)  # the post outlasts its lease several times over
        rival = store.begin_publish(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            platform="youtube",
            account="demo",
            scheduled_at=NOW_SLOT,
            owner="rival-host:2:run",
        )
        rivals.append(rival.granted)

    with FakeServer(app) as server, adapter(server, app, store, sleep=slow_backoff) as publisher:
        assert publish_one(store, publisher, row, lease=timedelta(milliseconds=150)) == "published"

    assert rivals == [False]
    assert app.created_videos == 1
    record = store.publication(video_id, "youtube", "demo")
    assert (record.status, record.attempts) == ("published", 1)


# --- TikTok's inbox, its audit rule and YouTube's thumbnails, through the loop's publishing -------------


def tiktok_at(url: str, store: Store, **options) -> TikTokAdapter:
    """The real TikTok adapter against a fake server at `url`, its state in the store's database."""
    return TikTokAdapter(
        client_key=FakeTikTok().client_key,
        client_secret=FakeTikTok().client_secret,
        refresh_token=options.pop("refresh_token", "rft.refresh-0"),
        state=DatabaseStateStore(store),
        account="demo",
        api_base_url=url,
        sleep=Sleeps(),
        **options,
    )


def test_tiktok_inbox_mode_sends_drafts_once_and_a_posted_draft_becomes_published(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    ids = rendered_batch(store, tmp_path, count=2)
    app = FakeTikTok()
    with FakeServer(app) as server:
        with tiktok_at(server.url, store, post_mode="inbox") as publisher:
            first = publish_batch(Quiet(), store, publisher, store.batch("demo", DAY))
        assert first.outcomes == dict.fromkeys(ids, SENT_TO_INBOX) and first.attempted == 2
        records = {r.video_id: r for r in store.publications("demo", DAY)}
        assert {r.status for r in records.values()} == {"in_inbox"}
        assert {r.remote_id for r in records.values()} == {p.id for p in app.drafts()}
        assert store.published("demo", DAY) == []  # a draft is not public: nothing to measure yet
        assert app.calls["init"] == 0 and app.calls["inbox.init"] == 2

        with tiktok_at(server.url, store, post_mode="inbox", refresh_token=next(iter(app.refresh_tokens))) as again:
            second = publish_batch(Quiet(), store, again, store.batch("demo", DAY))
        assert second.outcomes == dict.fromkeys(ids, IN_INBOX) and second.attempted == 0
        assert app.calls["inbox.init"] == 2  # never sent twice

        post_id = app.creator_posts(records[ids[0]].remote_id)  # the creator posts one draft from the app
        with tiktok_at(server.url, store, post_mode="inbox", refresh_token=next(iter(app.refresh_tokens))) as third:
            outcome = publish_batch(Quiet(), store, third, store.batch("demo", DAY))
    assert outcome.outcomes == {ids[0]: ALREADY_PUBLISHED, ids[1]: IN_INBOX}
    (published,) = store.published("demo", DAY)
    assert (published.video_id, published.remote_id) == (ids[0], post_id)
    assert published.url == f"https://www.tiktok.com/@demo/video/{post_id}"
    assert len(app.publishes) == 2


def test_tiktok_direct_posts_an_unaudited_app_cannot_make_wait_for_a_person_with_the_audit_rule(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    ids = rendered_batch(store, tmp_path, count=2)
    app = FakeTikTok(audited=False)
    with FakeServer(app) as server:
        with tiktok_at(server.url, store) as publisher, pytest.raises(BatchFailed):
            publish_batch(Quiet(), store, publisher, store.batch("demo", DAY))
        records = store.publications("demo", DAY)
        assert [r.status for r in records] == ["needs_manual", "needs_manual"]  # each video tried, none posted
        assert all("only SELF_ONLY" in r.error and "TIKTOK_POST_MODE=inbox" in r.error for r in records)
        calls = app.calls["init"]
        with tiktok_at(server.url, store, refresh_token=next(iter(app.refresh_tokens))) as again:
            later = publish_batch(Quiet(), store, again, store.batch("demo", DAY))
        assert all(o.startswith("needs manual attention") for o in later.outcomes.values())
        assert app.calls["init"] == calls and app.posted == 0

        # A person chooses private posts (TIKTOK_PRIVACY_LEVEL=SELF_ONLY) and releases one video.
        assert store.release_manual("demo", DAY, "tiktok", [ids[0]]) == [ids[0]]
        token = next(iter(app.refresh_tokens))
        with tiktok_at(server.url, store, refresh_token=token, privacy_level="SELF_ONLY") as private:
            fixed = publish_batch(Quiet(), store, private, store.batch("demo", DAY))
    assert fixed.outcomes[ids[0]] == "published" and fixed.outcomes[ids[1]].startswith("needs manual attention")
    assert app.posted == 1
    (post,) = app.videos.values()
    assert post.privacy_level == "SELF_ONLY"


def test_youtube_thumbnails_follow_the_upload_and_a_failed_one_is_set_by_the_next_run(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    ids = rendered_batch(store, tmp_path, count=2)
    app = FakeYouTube()
    app.inject("thumbnails.set", Fault.answer(403, {"error": {"code": 403, "errors": [{"reason": "forbidden"}]}}))
    with FakeServer(app) as server:
        with youtube_at(server.url, store) as publisher:
            first = publish_batch(Quiet(), store, publisher, store.batch("demo", DAY))
            assert publisher.thumbnail_pending(ids[0]) and not publisher.thumbnail_pending(ids[1])
            assert publisher.uploads_counted() == 2  # the current model: uploads in their own bucket
        assert first.outcomes == dict.fromkeys(ids, "published") and first.failed == 0
        records = {r.video_id: r for r in store.publications("demo", DAY)}
        assert app.videos[records[ids[0]].remote_id].thumbnail is None
        assert app.videos[records[ids[1]].remote_id].thumbnail is not None

        with youtube_at(server.url, store) as later:
            second = publish_batch(Quiet(), store, later, store.batch("demo", DAY))
            assert not later.thumbnail_pending(ids[0])
            # Ours counts the refused call too (refusals still cost); the injected answer bypassed the fake's meter.
            assert later.quota_used() == app.quota_used + 50
    assert second.outcomes == dict.fromkeys(ids, ALREADY_PUBLISHED) and second.attempted == 0
    thumbnail = Path(store.batch("demo", DAY)[0].outputs["render"]["thumbnail_path"]).read_bytes()
    assert app.videos[records[ids[0]].remote_id].thumbnail == thumbnail
    assert app.created_videos == 2
    assert all(r.status == "published" for r in store.publications("demo", DAY))
