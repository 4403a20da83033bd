"""The YouTube adapter against the fake YouTube server: every injected failure ends finished or
stopped with a clear state, never with a second video and never with lost snapshots."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from shorts_assets.core.errors import AuthRevoked, BudgetExhausted, NeedsManual, PartialResultError, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Publication
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.platforms.marker import marker
from shorts_assets.providers.platforms.youtube import CHUNK_ALIGN, YouTubeAdapter
from shorts_assets_tests.helpers import DyingTransport, ProcessDied, Sleeps, media, publish_request


@pytest.fixture
def fake():
    app = FakeYouTube()
    with FakeServer(app) as server:
        yield app, server


@pytest.fixture
def state():
    return MemoryStateStore()


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make(fake, state, sleeps):
    app, server = fake
    made = []

    def build(**overrides):
        kwargs = dict(
            client_id=app.client_id,
            client_secret=app.client_secret,
            refresh_token=next(iter(app.refresh_tokens)) if app.refresh_tokens else "1//refresh-token-value",
            state=state,
            account="demo",
            api_base_url=f"{server.url}/youtube/v3",
            upload_base_url=f"{server.url}/upload/youtube/v3",
            analytics_base_url=f"{server.url}/v2",
            token_url=f"{server.url}/token",
            sleep=sleeps,
            chunk_size=CHUNK_ALIGN,
            retry=RetryPolicy(attempts=4, base_delay_s=0.5, max_delay_s=30.0),
        )
        kwargs.update(overrides)
        adapter = YouTubeAdapter(**kwargs)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def uploaded_bytes(app: FakeYouTube, remote_id: str) -> bytes:
    return next(bytes(s.data) for s in app.sessions.values() if s.video_id == remote_id)


def test_publish_uploads_in_aligned_chunks_with_disclosures(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    request = publish_request(video, thumb)
    publication = make().publish(request)

    assert app.created_videos == 1
    assert uploaded_bytes(app, publication.remote_id) == video.read_bytes()
    puts = [r for name, r in app.requests if name == "upload.put"]
    assert [len(r.body) for r in puts] == [CHUNK_ALIGN, CHUNK_ALIGN, 600 * 1024 - 2 * CHUNK_ALIGN]
    insert = next(r for name, r in app.requests if name == "videos.insert")
    assert insert.headers["x-upload-content-length"] == str(600 * 1024)
    body = insert.json()
    assert body["status"]["containsSyntheticMedia"] is True
    assert body["status"]["selfDeclaredMadeForKids"] is False
    assert body["status"]["privacyStatus"] == "private"  # publishAt needs private
    assert body["status"]["publishAt"].endswith("Z")
    assert body["snippet"]["categoryId"] == "28"
    assert publication.url == f"https://www.youtube.com/shorts/{publication.remote_id}"
    assert abs(publication.published_at - request.scheduled_at) < timedelta(seconds=1)


def test_a_past_slot_posts_public_without_publish_at(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb, scheduled_in=timedelta(hours=-2)))
    body = next(r for name, r in app.requests if name == "videos.insert").json()
    assert body["status"]["privacyStatus"] == "public"
    assert "publishAt" not in body["status"]


def test_metadata_limits_are_checked_before_any_call(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match="title has 101 characters"):
        make().publish(publish_request(video, thumb, title="x" * 101))
    with pytest.raises(ProviderError, match="description has 5001"):
        make().publish(publish_request(video, thumb, description="d" * 5001))
    with pytest.raises(ProviderError, match="duration"):
        make().publish(publish_request(video, thumb, duration_s=181.0))
    assert app.calls["videos.insert"] == 0
    tags = tuple(f"tag number {i}" for i in range(80))
    make().publish(publish_request(video, thumb, tags=tags, title="Title <with> brackets"))
    sent = next(r for name, r in app.requests if name == "videos.insert").json()["snippet"]
    assert sent["title"] == "Title with brackets"
    assert 0 < len(sent["tags"]) < 80
    assert sum(len(t) + 2 for t in sent["tags"]) + len(sent["tags"]) - 1 <= 500


def test_publishing_twice_posts_once(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make()
    first = adapter.publish(publish_request(video, thumb))
    assert adapter.find("vid-0001") == first
    assert make().publish(publish_request(video, thumb)) == first
    assert app.created_videos == 1


def test_connection_dropped_mid_chunk_resumes_from_what_the_server_holds(fake, make, tmp_path):
    app, _ = fake
    app.drop_chunk_keep = [100_000]  # the first chunk PUT keeps 100,000 bytes, then the socket drops
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    assert app.created_videos == 1
    assert uploaded_bytes(app, publication.remote_id) == video.read_bytes()
    probes = [
        r
        for name, r in app.requests
        if name == "upload.put" and r.headers.get("content-range", "").startswith("bytes */")
    ]
    assert len(probes) == 1
    resumed = [r.headers["content-range"] for name, r in app.requests if name == "upload.put"]
    assert "bytes 100000-362143/614400" in resumed


def test_lost_answer_to_the_final_chunk_is_recovered_not_reposted(fake, make, tmp_path):
    app, _ = fake
    app.inject("upload.put", Fault.drop_after())
    video, thumb = media(tmp_path)
    publication = make(chunk_size=4 * CHUNK_ALIGN).publish(publish_request(video, thumb))
    assert app.created_videos == 1
    assert app.calls["videos.insert"] == 1
    assert publication.remote_id in app.videos


def test_5xx_on_a_chunk_probes_then_resumes(fake, make, tmp_path):
    app, _ = fake
    app.inject("upload.put", Fault.answer(503, "backend error"))
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    assert app.created_videos == 1
    assert uploaded_bytes(app, publication.remote_id) == video.read_bytes()


def test_a_fresh_process_resumes_the_stored_session(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    puts = {"n": 0}

    def dies(request, _count):
        if request.method == "PUT":
            puts["n"] += 1
            return puts["n"] == 2
        return False

    with pytest.raises(ProcessDied):
        make(transport=DyingTransport(dies)).publish(publish_request(video, thumb))
    assert app.created_videos == 0
    assert state.namespace("youtube.session")  # the session URI survived the crash

    fresh = make()
    assert fresh.find("vid-0001") is None  # incomplete: not yet a video
    publication = fresh.publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 1  # no second session
    assert app.created_videos == 1
    assert uploaded_bytes(app, publication.remote_id) == video.read_bytes()
    assert not state.namespace("youtube.session")


def test_a_process_killed_after_the_last_byte_finds_the_video(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)

    def dies(request, _count):
        return request.method == "PUT" and request.headers.get("content-range", "").endswith(
            f"-{600 * 1024 - 1}/{600 * 1024}"
        )

    with pytest.raises(ProcessDied):
        make(transport=DyingTransport(dies, after_send=True)).publish(publish_request(video, thumb))
    assert app.created_videos == 1
    found = make().find("vid-0001")
    assert isinstance(found, Publication) and found.remote_id in app.videos
    assert make().publish(publish_request(video, thumb)) == found
    assert app.created_videos == 1


def test_an_expired_session_starts_over_from_byte_zero(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    with pytest.raises(ProcessDied):
        make(
            transport=DyingTransport(
                lambda r, c: r.method == "PUT" and "bytes 262144-" in r.headers.get("content-range", "")
            )
        ).publish(publish_request(video, thumb))
    app.expire_sessions()
    publication = make().publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 2
    assert app.created_videos == 1
    assert uploaded_bytes(app, publication.remote_id) == video.read_bytes()


def test_429_with_retry_after_and_5xx_are_retried(fake, make, sleeps):
    app, _ = fake
    app.add_video("AAAAAAAAAAA", statistics={"viewCount": 10, "likeCount": 2, "commentCount": 1})
    app.inject("videos.list", Fault.answer(429, "slow down", {"Retry-After": "7"}), Fault.answer(503, "unavailable"))
    adapter = make(use_analytics=False)
    pub = Publication("youtube", "demo", "v", "AAAAAAAAAAA", "u", datetime.now(timezone.utc) - timedelta(days=1))
    [snapshot] = adapter.fetch_metrics([pub], datetime.now(timezone.utc))
    assert snapshot.views == 10 and snapshot.likes == 2 and snapshot.comments == 1
    assert sleeps[0] == 7.0
    assert 0 <= sleeps[1] <= 1.0  # full jitter under the second step's ceiling
    assert app.calls["videos.list"] == 3


def test_html_error_pages_and_malformed_json_become_clear_errors(fake, make):
    app, _ = fake
    app.add_video("AAAAAAAAAAA")
    pub = Publication("youtube", "demo", "v", "AAAAAAAAAAA", "u", datetime.now(timezone.utc))
    app.inject("videos.list", *[Fault.html(502)] * 4)
    with pytest.raises(ProviderError, match=r"gave up after 4 attempts.*HTTP 502.*HTML error page: Error 502"):
        make(use_analytics=False).fetch_metrics([pub], datetime.now(timezone.utc))
    app.inject("videos.list", Fault.malformed(200))
    with pytest.raises(ProviderError, match=r"malformed JSON \(HTTP 200\)"):
        make(use_analytics=False).fetch_metrics([pub], datetime.now(timezone.utc))


def test_an_expired_token_is_refreshed_once(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make()
    adapter.publish(publish_request(video, thumb, video_id="a"))
    assert app.calls["oauth.token"] == 1
    app.expire_access_tokens()
    adapter.publish(publish_request(video, thumb, video_id="b"))
    assert app.calls["oauth.token"] == 2
    assert app.created_videos == 2


def test_a_revoked_grant_marks_the_account_and_fails_fast(fake, make, state, tmp_path):
    app, _ = fake
    app.revoke()
    video, thumb = media(tmp_path)
    with pytest.raises(AuthRevoked, match="revoked"):
        make().publish(publish_request(video, thumb))
    assert state.get("oauth.revoked", "youtube:demo")
    calls = sum(app.calls.values())
    with pytest.raises(AuthRevoked, match="authorise the app again"):
        make().publish(publish_request(video, thumb))
    with pytest.raises(AuthRevoked):
        make().find("vid-0001")
    assert sum(app.calls.values()) == calls  # failed fast, no request sent
    assert app.created_videos == 0


def test_an_upload_that_cannot_fit_the_legacy_quota_is_not_started(fake, make, state, tmp_path):
    app, _ = fake
    app.quota_model = "legacy"
    adapter = make(quota_model="legacy")
    state.add_quota("youtube", adapter.pacific_day(), 10_000 - 1599)
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted, match="cannot fit"):
        adapter.publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 0


def test_an_upload_that_cannot_fit_the_current_upload_bucket_is_not_started(fake, make, state, tmp_path):
    app, _ = fake
    adapter = make()
    state.add_quota("youtube.videos.insert", adapter.pacific_day(), 100)
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted, match="youtube.videos.insert quota .* cannot fit"):
        adapter.publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 0
    assert adapter.quota_used() == 2  # the 10,000-unit bucket only paid for the look for an earlier upload


def test_quota_exceeded_stops_for_the_day(fake, make, state, tmp_path):
    app, _ = fake
    app.quota_model = "legacy"
    app.quota_used = app.daily_quota - 100  # the look for an earlier upload fits, the upload does not
    video, thumb = media(tmp_path)
    adapter = make(quota_model="legacy")
    with pytest.raises(BudgetExhausted, match="quotaExceeded.*until midnight Pacific"):
        adapter.publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 1  # not retried
    assert adapter.quota_used() == 10_000
    before = sum(app.calls.values())
    pub = Publication("youtube", "demo", "v", "AAAAAAAAAAA", "u", datetime.now(timezone.utc))
    with pytest.raises(BudgetExhausted):
        adapter.fetch_metrics([pub], datetime.now(timezone.utc))
    assert sum(app.calls.values()) == before
    assert app.created_videos == 0


def test_the_legacy_model_charges_an_upload_1600_units(fake, make, state, tmp_path):
    app, _ = fake
    app.quota_model = "legacy"
    adapter = make(processing_polls=1, quota_model="legacy")
    video, thumb = media(tmp_path)
    adapter.publish(publish_request(video, thumb))
    # The upload, the thumbnail, one status poll, and the look for an earlier upload: channels.list and a page.
    assert adapter.quota_used() == 1600 + 50 + 1 + 2 == app.quota_used
    assert state.quota_used("youtube.videos.insert", adapter.pacific_day()) == 0


def test_the_current_model_counts_uploads_in_their_own_bucket(fake, make, state, tmp_path):
    app, _ = fake
    assert app.quota_model == "current"  # the fake, like the adapter, defaults to the API's model of today
    adapter = make(processing_polls=1)
    video, thumb = media(tmp_path)
    adapter.publish(publish_request(video, thumb))
    day = adapter.pacific_day()
    assert adapter.uploads_counted() == state.quota_used("youtube.videos.insert", day) == 1 == app.uploads_today
    assert adapter.quota_used() == 50 + 1 + 2 == app.quota_used  # thumbnail, status poll, look for the upload


def test_the_current_models_upload_bucket_exhausted_stops_uploads_not_reads(fake, make, state, tmp_path):
    app, _ = fake
    app.uploads_today = app.daily_uploads
    adapter = make()
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted, match="no more YouTube uploads until midnight Pacific"):
        adapter.publish(publish_request(video, thumb))
    assert adapter.uploads_counted() == 100
    assert adapter.quota_used() < 10_000
    pub = Publication("youtube", "demo", "v", "AAAAAAAAAAA", "u", datetime.now(timezone.utc))
    assert adapter.fetch_metrics([pub], datetime.now(timezone.utc)) == []  # reads still work


def test_an_unknown_quota_model_is_refused(make):
    with pytest.raises(ValueError, match="quota_model must be one of current, legacy"):
        make(quota_model="units")


@pytest.mark.parametrize("outcome", ["failed", "rejected"])
def test_processing_failure_stops_with_a_clear_state(fake, make, state, tmp_path, outcome):
    app, _ = fake
    app.next_outcomes = [outcome]
    video, thumb = media(tmp_path)
    adapter = make(processing_polls=3)
    with pytest.raises(ProviderError, match=f"was {outcome}"):
        adapter.publish(publish_request(video, thumb))
    assert state.get("youtube.failed", "demo:vid-0001")
    assert adapter.find("vid-0001") is None
    with pytest.raises(ProviderError, match=f"was {outcome}"):
        make().publish(publish_request(video, thumb))
    assert app.created_videos == 1


def test_processing_is_polled_until_done(fake, make, sleeps, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make(processing_polls=5, processing_poll_interval_s=15.0)
    original = app.upload_put

    def slow(request):
        response = original(request)
        for v in app.videos.values():
            v.polls_until_done = (
                max(v.polls_until_done, 2)
                if v.status.get("uploadStatus") == "uploaded" and v.polls_until_done == 0
                else v.polls_until_done
            )
        return response

    app.upload_put = slow
    adapter.publish(publish_request(video, thumb))
    assert app.calls["videos.list"] == 3
    assert sleeps.count(15.0) == 2


def test_metrics_in_batches_of_50_with_analytics(fake, make):
    app, _ = fake
    now = datetime.now(timezone.utc)
    pubs = []
    for i in range(120):
        vid = f"v{i:010d}"
        analytics = (
            None
            if i == 7
            else {"views": 100 + i, "estimatedMinutesWatched": 30, "averageViewPercentage": 55.5, "shares": 3}
        )
        app.add_video(vid, statistics={"viewCount": 100 + i, "likeCount": i, "commentCount": 1}, analytics=analytics)
        pubs.append(Publication("youtube", "demo", f"local-{i}", vid, "u", now - timedelta(hours=30)))
    snapshots = make().fetch_metrics(pubs, now)
    assert len(snapshots) == 120
    assert app.calls["videos.list"] == 3 and app.calls["reports.query"] == 3
    by_id = {s.remote_id: s for s in snapshots}
    assert by_id["v0000000001"].avg_view_pct == 55.5 and by_id["v0000000001"].shares == 3
    assert by_id["v0000000001"].watch_time_s == 1800.0
    assert by_id["v0000000007"].avg_view_pct == -1.0 and by_id["v0000000007"].views == 107
    assert abs(by_id["v0000000001"].age_hours - 30) < 0.01


def test_a_failed_batch_keeps_the_snapshots_already_read(fake, make):
    app, _ = fake
    now = datetime.now(timezone.utc)
    pubs = []
    for i in range(60):
        app.add_video(f"w{i:010d}", statistics={"viewCount": 5, "likeCount": 1, "commentCount": 0})
        pubs.append(Publication("youtube", "demo", f"l{i}", f"w{i:010d}", "u", now))
    original = app.videos_list
    calls = {"n": 0}

    def second_fails(request):
        calls["n"] += 1
        return original(request) if calls["n"] == 1 else None

    app.videos_list = second_fails
    with pytest.raises(PartialResultError) as caught:
        make(use_analytics=False).fetch_metrics(pubs, now)
    assert len(caught.value.snapshots) == 50
    assert "after 50 snapshots of 60" in str(caught.value)


def test_comments_with_replies_across_pages(fake, make):
    app, _ = fake
    at = "2026-11-27T10:00:00Z"
    threads = [
        {
            "id": f"Ugz{i}",
            "author": f"@viewer{i}",
            "text": f"comment {i}",
            "likes": i,
            "at": at,
            "replies": [{"id": f"Ugz{i}.r1", "author": "@creator", "text": "thanks", "at": at}] if i % 50 == 0 else [],
        }
        for i in range(230)
    ]
    app.add_video("CCCCCCCCCCC", comments=threads)
    pub = Publication("youtube", "demo", "v", "CCCCCCCCCCC", "u", datetime.now(timezone.utc))
    comments = make().fetch_comments(pub, datetime.now(timezone.utc))
    assert app.calls["commentThreads.list"] == 3
    assert len(comments) == 230 + 5
    assert len({c.comment_id for c in comments}) == 235
    reply = next(c for c in comments if c.comment_id == "Ugz50.r1")
    assert reply.parent_id == "Ugz50" and reply.text == "thanks"
    third = next(c for c in comments if c.comment_id == "Ugz3")
    assert third.like_count == 3 and third.parent_id is None and third.published_at.tzinfo is not None


def test_disabled_comments_are_no_comments(fake, make):
    app, _ = fake
    app.add_video("DDDDDDDDDDD", comments_disabled=True)
    pub = Publication("youtube", "demo", "v", "DDDDDDDDDDD", "u", datetime.now(timezone.utc))
    adapter = make()
    assert adapter.supports_comments("youtube")
    assert adapter.fetch_comments(pub, datetime.now(timezone.utc)) == []


def test_upload_limit_exceeded_is_not_retried(fake, make, tmp_path):
    app, _ = fake
    app.inject(
        "videos.insert",
        Fault.answer(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "The user has exceeded the number of videos they may upload.",
                    "errors": [{"reason": "uploadLimitExceeded", "domain": "youtube.video"}],
                }
            },
        ),
    )
    video, thumb = media(tmp_path)
    with pytest.raises(BudgetExhausted, match="uploadLimitExceeded"):
        make().publish(publish_request(video, thumb))
    assert app.calls["videos.insert"] == 1 and app.created_videos == 0


def test_state_records_are_plain_json(fake, make, state, tmp_path):
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    record = json.loads(state.get("youtube.video", "demo:vid-0001"))
    assert record["remote_id"] == publication.remote_id


def test_the_upload_carries_the_videos_marker_on_its_last_line(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb, video_id="vid-0042"))

    description = app.videos[publication.remote_id].snippet["description"]
    assert description.splitlines()[-1] == marker("vid-0042")
    assert description.startswith("Three hearts, blue blood.")


def test_a_lost_local_state_finds_the_upload_by_listing_the_channel_instead_of_uploading_again(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    first = make().publish(publish_request(video, thumb, video_id="vid-0042"))
    before = len(app.requests)
    for n in range(120):  # newer uploads push it to the third page of 50
        app.add_video(snippet={"title": f"other {n}", "description": f"other\n\n{marker(f'other-{n}')}"})

    fresh = make(state=MemoryStateStore())
    found = fresh.find("vid-0042")
    again = fresh.publish(publish_request(video, thumb, video_id="vid-0042"))

    assert found is not None and found.remote_id == first.remote_id == again.remote_id
    assert found.url == f"https://www.youtube.com/shorts/{first.remote_id}"
    assert app.created_videos == 1
    pages = [r for name, r in app.requests[before:] if name == "playlistItems.list"]
    assert [p.query.get("pageToken") for p in pages[:3]] == [None, "RVAp50", "RVAp100"]
    assert {p.query["playlistId"] for p in pages} == {app.uploads_playlist}
    assert app.calls["channels.list"] == 2  # once per adapter: the first upload's look, and the fresh one's


def test_a_listing_without_the_marker_finds_nothing_and_costs_a_unit_a_page(fake, make):
    app, _ = fake
    app.add_video(snippet={"title": "someone else's", "description": f"text\n\n{marker('vid-0043')}x"})
    app.add_video(snippet={"title": "same words", "description": "vid-0042"})
    adapter = make()

    assert adapter.find("vid-0042") is None
    assert app.calls["channels.list"] == 1 and app.calls["playlistItems.list"] == 1
    assert adapter.quota_used() == 2 == app.quota_used


def test_a_listed_upload_whose_processing_failed_waits_for_a_person(fake, make, state, tmp_path):
    app, _ = fake
    app.add_video(
        "AAAAAAAAAAB",
        snippet={"title": "t", "description": f"d\n\n{marker('vid-0042')}"},
        status={"uploadStatus": "rejected", "rejectionReason": "duplicate", "privacyStatus": "public"},
    )
    video, thumb = media(tmp_path)
    adapter = make()

    assert adapter.find("vid-0042") is None
    with pytest.raises(NeedsManual, match="rejected"):
        adapter.publish(publish_request(video, thumb, video_id="vid-0042"))
    assert app.created_videos == 0


def test_the_listing_follows_the_real_request_shapes(fake, make):
    app, server = fake
    make().find("vid-0042")
    (channels,) = [r for name, r in app.requests if name == "channels.list"]
    assert channels.query["mine"] == "true" and channels.query["part"] == "contentDetails"
    with httpx.Client(base_url=f"{server.url}/youtube/v3") as client:
        token = next(iter(app.access_tokens))
        headers = {"Authorization": f"Bearer {token}"}
        unknown = client.get("/playlistItems", params={"part": "snippet", "playlistId": "UUnope"}, headers=headers)
        too_many = client.get(
            "/playlistItems",
            params={"part": "snippet", "playlistId": app.uploads_playlist, "maxResults": 51},
            headers=headers,
        )
        unauthorised = client.get("/channels", params={"part": "contentDetails", "mine": "true"})
    assert unknown.status_code == 404 and unknown.json()["error"]["errors"][0]["reason"] == "playlistNotFound"
    assert too_many.status_code == 400
    assert unauthorised.status_code == 401


# --- thumbnails and the audience ----------------------------------------------------------------------


def test_the_generated_jpeg_is_set_as_the_thumbnail_after_the_upload(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make()
    publication = adapter.publish(publish_request(video, thumb))
    names = [name for name, _ in app.requests]
    assert names.index("thumbnails.set") > names.index("videos.insert")
    call = next(r for name, r in app.requests if name == "thumbnails.set")
    assert call.query == {"videoId": publication.remote_id}
    assert call.headers["content-type"] == "image/jpeg"
    assert app.videos[publication.remote_id].thumbnail == thumb.read_bytes()
    assert not adapter.thumbnail_pending("vid-0001") and not state.namespace("youtube.thumbnail")


@pytest.mark.parametrize(
    ("fault", "times"),
    [
        (Fault.answer(500, {"error": {"code": 500, "message": "busy", "errors": [{"reason": "backendError"}]}}), 4),
        (Fault.answer(403, {"error": {"code": 403, "message": "no", "errors": [{"reason": "forbidden"}]}}), 1),
    ],
    ids=["500-every-retry", "403"],
)
def test_a_failed_thumbnail_leaves_the_video_published_and_a_later_run_sets_it(
    fake, make, state, tmp_path, fault, times
):
    app, _ = fake
    app.inject("thumbnails.set", *[fault] * times)  # a 500 is retried (4 attempts), a 403 is not
    video, thumb = media(tmp_path)
    request = publish_request(video, thumb)
    publication = make().publish(request)  # no exception: the video is up
    assert app.created_videos == 1 and app.videos[publication.remote_id].thumbnail is None
    later = make()
    assert later.thumbnail_pending("vid-0001")
    assert "thumbnails.set" in json.loads(state.namespace("youtube.thumbnail")["demo:vid-0001"])["error"]

    assert later.follow_up(request) is None  # the next run: the publication itself is unchanged
    assert app.videos[publication.remote_id].thumbnail == thumb.read_bytes()
    assert not later.thumbnail_pending("vid-0001")
    calls = app.calls["thumbnails.set"]
    later.follow_up(request)
    assert app.calls["thumbnails.set"] == calls  # set once, not again
    assert app.created_videos == 1


def test_a_thumbnail_that_cannot_fit_the_quota_waits_for_the_next_day(fake, make, state, tmp_path):
    app, _ = fake
    adapter = make()
    state.add_quota("youtube", adapter.pacific_day(), 10_000 - 51)  # the reads fit, the 50 units do not
    video, thumb = media(tmp_path)
    adapter.publish(publish_request(video, thumb))
    assert app.created_videos == 1 and app.calls["thumbnails.set"] == 0
    assert adapter.thumbnail_pending("vid-0001")


def test_a_thumbnail_over_2_mb_is_never_sent(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    thumb.write_bytes(b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))
    adapter = make()
    adapter.publish(publish_request(video, thumb))
    assert app.created_videos == 1 and app.calls["thumbnails.set"] == 0
    assert not adapter.thumbnail_pending("vid-0001")  # given up: retrying cannot shrink it


def test_the_fake_thumbnails_set_enforces_the_real_rules(fake, make, tmp_path):
    app, server = fake
    video, thumb = media(tmp_path)
    mine = make().publish(publish_request(video, thumb)).remote_id
    other = app.add_video(channel_id="UCsomeoneElse00000000000").id
    token = next(iter(app.access_tokens))
    url = f"{server.url}/upload/youtube/v3/thumbnails/set"
    jpeg = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}

    def reason(response):
        return response.json()["error"]["errors"][0]["reason"]

    with httpx.Client() as client:
        assert client.post(url, params={"videoId": mine}, content=b"\xff\xd8\xff", headers=jpeg).status_code == 200
        unauthorized = client.post(url, params={"videoId": mine}, content=b"\xff\xd8\xff")
        missing = client.post(url, params={"videoId": "nope"}, content=b"\xff\xd8\xff", headers=jpeg)
        foreign = client.post(url, params={"videoId": other}, content=b"\xff\xd8\xff", headers=jpeg)
        gif = client.post(
            url, params={"videoId": mine}, content=b"GIF89a", headers={**jpeg, "Content-Type": "image/gif"}
        )
        big = client.post(url, params={"videoId": mine}, content=b"\xff\xd8\xff" * 800_000, headers=jpeg)
    assert unauthorized.status_code == 401
    assert (missing.status_code, reason(missing)) == (404, "videoNotFound")
    assert (foreign.status_code, reason(foreign)) == (403, "forbidden")
    assert (gif.status_code, reason(gif)) == (400, "invalidImage")
    assert (big.status_code, reason(big)) == (413, "mediaBodyTooLarge")


def test_made_for_kids_is_sent_explicitly_and_the_fake_refuses_an_unset_audience(fake, make, tmp_path):
    app, server = fake
    video, thumb = media(tmp_path)
    make(made_for_kids=True).publish(publish_request(video, thumb))
    body = next(r for name, r in app.requests if name == "videos.insert").json()
    assert body["status"]["selfDeclaredMadeForKids"] is True
    assert next(iter(app.videos.values())).status["madeForKids"] is True
    token = next(iter(app.access_tokens))
    with httpx.Client() as client:
        unset = client.post(
            f"{server.url}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": "1000",
                "X-Upload-Content-Type": "video/mp4",
            },
            content=json.dumps({"snippet": {"title": "t"}, "status": {"privacyStatus": "public"}}),
        )
    assert unset.status_code == 400 and "selfDeclaredMadeForKids must be set" in unset.text
    with pytest.raises(ValueError, match="made_for_kids must be true or false"):
        make(made_for_kids="no")


def test_a_thumbnail_refused_for_quota_by_youtube_stays_pending_and_closes_the_day(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make()
    app.quota_used = app.daily_quota - 10  # another client of the project spent the day: ours does not know
    publication = adapter.publish(publish_request(video, thumb))
    assert app.videos[publication.remote_id].thumbnail is None and adapter.thumbnail_pending("vid-0001")
    assert app.calls["thumbnails.set"] == 1  # quotaExceeded is not retried
    assert adapter.quota_used() == 10_000  # the bucket is closed until midnight Pacific
