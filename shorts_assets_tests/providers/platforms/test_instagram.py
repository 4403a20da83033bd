"""The Instagram adapter against the fake Graph API: containers, rupload, status, publish, the cap,
insights, comments and token refresh, with their failures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from shorts_assets.core.errors import AuthRevoked, BudgetExhausted, PartialResultError, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Publication
from shorts_assets.fakes.instagram_server import FakeInstagram
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.platforms.instagram import InstagramAdapter
from shorts_assets.providers.platforms.marker import marker
from shorts_assets_tests.helpers import DyingTransport, ProcessDied, Sleeps, media, publish_request


@pytest.fixture
def fake():
    app = FakeInstagram()
    with FakeServer(app) as server:
        yield app, server


@pytest.fixture
def state():
    return MemoryStateStore()


@pytest.fixture
def make(fake, state):
    app, server = fake
    made = []

    def build(**overrides):
        kwargs = dict(
            user_id=app.user_id,
            access_token="IGQVJlong-lived-token-0",
            state=state,
            account="demo",
            graph_base_url=f"{server.url}/v21.0",
            rupload_base_url=f"{server.url}/rupload/ig-api-upload/v21.0",
            token_refresh_url=f"{server.url}/refresh_access_token",
            sleep=Sleeps(),
            retry=RetryPolicy(attempts=4),
            status_polls=5,
        )
        kwargs.update(overrides)
        adapter = InstagramAdapter(**kwargs)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def test_publish_uploads_the_file_polls_and_publishes(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    [container] = app.containers.values()
    assert bytes(container.data) == video.read_bytes()
    assert container.status == "PUBLISHED" and container.media_id == publication.remote_id
    assert app.calls["content_publishing_limit"] == 1
    create = next(r for name, r in app.requests if name == "media.create").form()
    assert create["media_type"] == "REELS" and create["upload_type"] == "resumable"
    assert "#octopus" in create["caption"] and "video_url" not in create
    upload = next(r for name, r in app.requests if name == "rupload")
    assert upload.headers["authorization"].startswith("OAuth ") and upload.headers["offset"] == "0"
    assert upload.headers["file_size"] == str(600 * 1024)
    assert publication.url.startswith("https://www.instagram.com/reel/")
    assert make().publish(publish_request(video, thumb)) == publication
    assert app.published_24h == 1


def test_not_ready_is_retried_until_the_container_finishes(fake, make, tmp_path):
    app, _ = fake
    app.inject(
        "media_publish",
        Fault.answer(400, {"error": {"message": "Media ID is not available", "code": 9007, "error_subcode": 2207027}}),
    )
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    assert app.calls["media_publish"] == 2
    assert publication.remote_id in app.media and app.published_24h == 1


def test_a_dropped_upload_resumes_from_the_reported_offset(fake, make, tmp_path):
    app, _ = fake
    app.drop_upload_keep = [200_000]
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb))
    [container] = app.containers.values()
    assert bytes(container.data) == video.read_bytes()
    uploads = [r for name, r in app.requests if name == "rupload"]
    assert [u.headers["offset"] for u in uploads] == ["0", "200000"]
    assert app.calls["rupload.status"] == 1 and app.calls["media.create"] == 1


def test_a_lost_publish_answer_is_resolved_from_the_container(fake, make, tmp_path):
    app, _ = fake
    app.inject("media_publish", Fault.drop_after())
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    assert app.published_24h == 1 and app.calls["media_publish"] == 1
    assert publication.remote_id in app.media


def test_a_process_killed_after_publishing_finds_the_post(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    with pytest.raises(ProcessDied):
        make(transport=DyingTransport(lambda r, c: r.url.path.endswith("/media_publish"), after_send=True)).publish(
            publish_request(video, thumb)
        )
    assert app.published_24h == 1
    found = make().find("vid-0001")
    assert found is not None and found.remote_id in app.media
    assert make().publish(publish_request(video, thumb)) == found
    assert app.published_24h == 1


@pytest.mark.parametrize("outcome", ["ERROR", "EXPIRED"])
def test_a_failed_container_stops_and_the_next_attempt_starts_fresh(fake, make, state, tmp_path, outcome):
    app, _ = fake
    app.next_outcomes = [outcome]
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match=f"is {outcome}.*starts a new container"):
        make().publish(publish_request(video, thumb))
    assert not state.namespace("instagram.container") and app.published_24h == 0
    make().publish(publish_request(video, thumb))
    assert app.calls["media.create"] == 2 and app.published_24h == 1


def test_the_publishing_cap_is_checked_before_posting(fake, make, tmp_path):
    app, _ = fake
    app.published_24h = 50
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted, match="publishing cap is reached \\(50 of 50"):
        make().publish(publish_request(video, thumb))
    assert app.calls["media.create"] == 0


def test_the_cap_answer_from_publish_is_not_retried(fake, make, tmp_path):
    app, _ = fake
    app.inject("media_publish", Fault.answer(400, {"error": {"message": "limit", "code": 9, "error_subcode": 2207042}}))
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted):
        make().publish(publish_request(video, thumb))
    assert app.calls["media_publish"] == 1 and app.published_24h == 0


def test_rate_limits_and_5xx_are_retried(fake, make, tmp_path):
    app, _ = fake
    app.inject(
        "content_publishing_limit",
        Fault.answer(400, {"error": {"message": "User request limit reached", "code": 17}}),
        Fault.answer(500, "oops"),
        Fault.html(502),
    )
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb))
    assert app.calls["content_publishing_limit"] == 4 and app.published_24h == 1


def test_the_long_lived_token_is_refreshed_before_it_ages(fake, make, state, tmp_path):
    app, _ = fake
    clock = {"now": datetime.now(timezone.utc)}
    adapter = make(clock=lambda: clock["now"])
    video, thumb = media(tmp_path)
    adapter.publish(publish_request(video, thumb))
    assert app.calls["refresh_access_token"] == 0
    clock["now"] += timedelta(days=8)
    app.add_media("1780000000000099")
    adapter.fetch_comments(Publication("instagram", "demo", "v", "1780000000000099", "u", clock["now"]), clock["now"])
    assert app.calls["refresh_access_token"] == 1
    assert "IGQVJlong-lived-token-1" in state.get("oauth.access", "instagram:demo")


def test_an_invalid_token_that_cannot_be_refreshed_revokes(fake, make, state, tmp_path):
    app, _ = fake
    app.invalidate("IGQVJlong-lived-token-0")
    video, thumb = media(tmp_path)
    with pytest.raises(AuthRevoked, match="revoked"):
        make().publish(publish_request(video, thumb))
    calls = sum(app.calls.values())
    with pytest.raises(AuthRevoked):
        make().publish(publish_request(video, thumb))
    assert sum(app.calls.values()) == calls and app.published_24h == 0


def test_insights_use_current_metrics(fake, make, state):
    app, _ = fake
    now = datetime.now(timezone.utc)
    app.add_media(
        "1780000000000001",
        insights={
            "views": 1000,
            "reach": 800,
            "likes": 50,
            "comments": 5,
            "shares": 7,
            "saved": 2,
            "total_interactions": 64,
            "ig_reels_avg_watch_time": 12_000,
            "ig_reels_video_view_total_time": 12_000_000,
        },
    )
    app.add_media("1780000000000002", not_enough_viewers=True)
    state.put("instagram.duration", "demo:local-1", "30.0")
    pubs = [
        Publication("instagram", "demo", "local-1", "1780000000000001", "u", now - timedelta(hours=10)),
        Publication("instagram", "demo", "local-2", "1780000000000002", "u", now),
    ]
    [snapshot] = make().fetch_metrics(pubs, now)
    assert (snapshot.views, snapshot.likes, snapshot.comments, snapshot.shares) == (1000, 50, 5, 7)
    assert snapshot.avg_view_pct == pytest.approx(40.0) and snapshot.watch_time_s == 12_000.0
    metrics = next(r for name, r in app.requests if name == "insights").query["metric"].split(",")
    assert "views" in metrics and not {"plays", "impressions", "video_views"} & set(metrics)


def test_a_failing_media_keeps_the_other_snapshots(fake, make):
    app, _ = fake
    now = datetime.now(timezone.utc)
    for i in (1, 2):
        app.add_media(f"178000000000000{i}", insights={"views": 10, "likes": 1, "comments": 0, "shares": 0})
    app.inject("insights", Fault.answer(400, {"error": {"message": "bad", "code": 100}}))
    pubs = [Publication("instagram", "demo", f"l{i}", f"178000000000000{i}", "u", now) for i in (1, 2)]
    with pytest.raises(PartialResultError) as caught:
        make().fetch_metrics(pubs, now)
    assert [s.remote_id for s in caught.value.snapshots] == ["1780000000000002"]


def test_comments_with_replies_and_pagination(fake, make):
    app, _ = fake
    comments = [
        {
            "id": f"1801{i:04d}",
            "text": f"nice {i}",
            "timestamp": "2026-11-27T10:00:00+0000",
            "username": f"u{i}",
            "like_count": i,
            "replies": {
                "data": [
                    {"id": f"1802{i:04d}", "text": "reply", "username": "me", "timestamp": "2026-11-27T11:00:00+0000"}
                ]
            }
            if i == 3
            else None,
        }
        for i in range(120)
    ]
    for c in comments:
        if c["replies"] is None:
            del c["replies"]
    app.add_media("1780000000000003", comments=comments)
    pub = Publication("instagram", "demo", "v", "1780000000000003", "u", datetime.now(timezone.utc))
    adapter = make()
    assert adapter.supports_comments("instagram")
    got = adapter.fetch_comments(pub, datetime.now(timezone.utc))
    assert app.calls["comments"] == 3 and len(got) == 121
    reply = next(c for c in got if c.comment_id == "18020003")
    assert reply.parent_id == "18010003" and reply.author == "me"


def test_the_caption_ends_with_the_videos_marker(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb, video_id="vid-0042"))
    create = next(r for name, r in app.requests if name == "media.create").form()
    assert create["caption"].splitlines()[-1] == marker("vid-0042")
    with pytest.raises(ProviderError, match="caption has 2190 characters, over 2183"):
        make().caption(publish_request(video, thumb, title="t" * 2190, description="", tags=()))


def test_a_lost_local_state_finds_the_post_by_listing_the_accounts_media_instead_of_posting_again(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    first = make().publish(publish_request(video, thumb, video_id="vid-0042"))
    before = len(app.requests)
    for n in range(120):  # newer media push it to the third page of 50
        app.add_media(f"1781{n:013d}", caption=f"other\n\n{marker(f'other-{n}')}")

    fresh = make(state=MemoryStateStore())
    found = fresh.find("vid-0042")
    again = fresh.publish(publish_request(video, thumb, video_id="vid-0042"))

    assert found is not None and found.remote_id == first.remote_id == again.remote_id
    assert found.url == first.url and found.published_at == first.published_at
    assert app.published_24h == 1 and len(app.containers) == 1
    lists = [r for name, r in app.requests[before:] if name == "media.list"]
    assert [r.query.get("after") for r in lists[:3]] == [None, "QVFI50", "QVFI100"]
    assert lists[0].query["fields"] == "id,caption,timestamp,permalink"


def test_media_with_another_videos_marker_is_not_taken_for_this_one(fake, make):
    app, _ = fake
    app.add_media("17800000000000001", caption=f"text\n\n{marker('vid-0043')}")
    app.add_media("17800000000000002", caption="about vid-0042")
    assert make().find("vid-0042") is None
    assert app.calls["media.list"] == 1


def test_the_media_listing_refuses_what_the_graph_api_refuses(fake, make):
    app, server = fake
    with httpx.Client(base_url=f"{server.url}/v21.0") as client:
        auth = {"Authorization": "Bearer IGQVJlong-lived-token-0"}
        unknown_field = client.get(f"/{app.user_id}/media", params={"fields": "id,secret"}, headers=auth)
        too_many = client.get(f"/{app.user_id}/media", params={"limit": 101}, headers=auth)
        bad_cursor = client.get(f"/{app.user_id}/media", params={"after": "nope"}, headers=auth)
        no_token = client.get(f"/{app.user_id}/media")
    assert [r.json()["error"]["code"] for r in (unknown_field, too_many, bad_cursor, no_token)] == [100, 100, 100, 190]
