"""The TikTok adapter against the fake Content Posting and Display APIs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from shorts_assets.core.errors import AuthRevoked, BudgetExhausted, NeedsManual, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Publication
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.fakes.tiktok_server import FakeTikTok
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.platforms.marker import marker
from shorts_assets.providers.platforms.tiktok import MB, TikTokAdapter, chunk_plan
from shorts_assets_tests.helpers import DyingTransport, ProcessDied, Sleeps, media, publish_request


@pytest.fixture
def fake():
    app = FakeTikTok()
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
            client_key=app.client_key,
            client_secret=app.client_secret,
            refresh_token="rft.refresh-0",
            state=state,
            account="demo",
            api_base_url=server.url,
            sleep=Sleeps(),
            retry=RetryPolicy(attempts=4),
            status_polls=5,
            chunk_size=5 * MB,
        )
        kwargs.update(overrides)
        adapter = TikTokAdapter(**kwargs)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def test_chunk_plan_follows_the_media_transfer_rules():
    assert chunk_plan(600 * 1024, 10 * MB) == (600 * 1024, 1)
    assert chunk_plan(50_000_123, 10_000_000) == (10_000_000, 5)
    assert chunk_plan(12 * MB, 5 * MB) == (5 * MB, 2)  # the last chunk absorbs the remaining 7 MB


def test_publish_reads_creator_info_uploads_and_polls(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    publication = make().publish(publish_request(video, thumb))
    names = [name for name, _ in app.requests]
    assert names.index("creator_info") < names.index("init")
    body = next(r for name, r in app.requests if name == "init").json()
    assert body["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert body["post_info"]["is_aigc"] is True
    assert body["post_info"]["disable_duet"] is True  # the creator disabled duets
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 600 * 1024,
        "chunk_size": 600 * 1024,
        "total_chunk_count": 1,
    }
    put = next(r for name, r in app.requests if name == "upload.put")
    assert put.headers["content-range"] == f"bytes 0-{600 * 1024 - 1}/{600 * 1024}"
    assert publication.url == f"https://www.tiktok.com/@demo.shorts/video/{publication.remote_id}"
    assert make().publish(publish_request(video, thumb)) == publication
    assert app.posted == 1


def test_large_files_go_in_chunks(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path, size=12 * MB)
    make().publish(publish_request(video, thumb))
    ranges = [r.headers["content-range"] for name, r in app.requests if name == "upload.put"]
    assert ranges == [f"bytes 0-{5 * MB - 1}/{12 * MB}", f"bytes {5 * MB}-{12 * MB - 1}/{12 * MB}"]


def test_privacy_and_duration_come_from_creator_info(fake, make, tmp_path):
    app, _ = fake
    app.creator["privacy_level_options"] = ["SELF_ONLY"]
    app.creator["max_video_post_duration_sec"] = 30
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match="exceeds the creator's maximum of 30 s"):
        make(privacy_level="SELF_ONLY").publish(publish_request(video, thumb, duration_s=42.0))
    make(privacy_level="SELF_ONLY").publish(publish_request(video, thumb, duration_s=20.0))
    assert next(r for name, r in app.requests if name == "init").json()["post_info"]["privacy_level"] == "SELF_ONLY"
    with pytest.raises(NeedsManual, match="offers the privacy levels SELF_ONLY, not PUBLIC_TO_EVERYONE"):
        make().publish(publish_request(video, thumb, video_id="b", duration_s=20.0))


def test_failed_processing_reports_its_reason_and_allows_a_new_post(fake, make, state, tmp_path):
    app, _ = fake
    app.next_outcomes = [("FAILED", "frame_rate_check_failed")]
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match="failed: frame_rate_check_failed"):
        make().publish(publish_request(video, thumb))
    assert not state.namespace("tiktok.publish") and app.posted == 0
    make().publish(publish_request(video, thumb))
    assert app.posted == 1


def test_a_process_killed_after_the_upload_resumes_by_status(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    with pytest.raises(ProcessDied):
        make(transport=DyingTransport(lambda r, c: r.method == "PUT", after_send=True)).publish(
            publish_request(video, thumb)
        )
    publication = make().publish(publish_request(video, thumb))
    assert app.calls["init"] == 1 and app.posted == 1
    assert publication.remote_id in app.videos


def test_slow_moderation_stops_then_resumes_without_reposting(fake, make, state, tmp_path):
    app, _ = fake
    app.moderation_polls = 10
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match="still PUBLISH_COMPLETE after 5 polls"):
        make().publish(publish_request(video, thumb))
    assert state.namespace("tiktok.publish")
    assert make(status_polls=20).publish(publish_request(video, thumb)).remote_id in app.videos
    assert app.calls["init"] == 1 and app.posted == 1


def test_refresh_tokens_rotate_and_the_newest_is_stored(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb))
    first = state.get("tiktok.refresh_token", "demo")
    assert first != "rft.refresh-0" and app.refresh_tokens == {first}
    app.expire_access_tokens()
    make().publish(publish_request(video, thumb, video_id="b"))
    second = state.get("tiktok.refresh_token", "demo")
    assert second != first and app.refresh_tokens == {second}
    assert app.calls["oauth.token"] == 2 and app.posted == 2


def test_a_revoked_grant_fails_fast(fake, make, state, tmp_path):
    app, _ = fake
    app.revoke()
    video, thumb = media(tmp_path)
    with pytest.raises(AuthRevoked, match="revoked"):
        make().publish(publish_request(video, thumb))
    calls = sum(app.calls.values())
    with pytest.raises(AuthRevoked):
        make().publish(publish_request(video, thumb))
    assert sum(app.calls.values()) == calls


def test_rate_limits_are_retried_and_spam_risk_is_not(fake, make, tmp_path):
    app, _ = fake
    app.inject(
        "creator_info",
        Fault.answer(429, {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "slow"}}),
        Fault.answer(500, {"data": {}, "error": {"code": "internal_error", "message": "oops"}}),
    )
    video, thumb = media(tmp_path)
    make().publish(publish_request(video, thumb))
    assert app.calls["creator_info"] == 3
    app.inject(
        "init", Fault.answer(403, {"data": {}, "error": {"code": "spam_risk_too_many_posts", "message": "too many"}})
    )
    with pytest.raises(BudgetExhausted, match="spam_risk_too_many_posts"):
        make().publish(publish_request(video, thumb, video_id="c"))
    assert app.calls["init"] == 2


def test_the_fake_enforces_the_init_rate_limit(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make(retry=RetryPolicy(attempts=2))
    for i in range(6):
        adapter.publish(publish_request(video, thumb, video_id=f"v{i}"))
    with pytest.raises(ProviderError, match="rate_limit_exceeded"):
        adapter.publish(publish_request(video, thumb, video_id="v6"))
    assert app.posted == 6


def test_metrics_in_batches_of_20(fake, make):
    app, _ = fake
    from shorts_assets.fakes.tiktok_server import Video

    now = datetime.now(timezone.utc)
    pubs = []
    for i in range(45):
        vid = f"7{i:018d}"
        app.videos[vid] = Video(vid, {"view_count": 100 + i, "like_count": 5, "comment_count": 2, "share_count": 1})
        pubs.append(Publication("tiktok", "demo", f"l{i}", vid, "u", now - timedelta(hours=5)))
    snapshots = make().fetch_metrics(pubs, now)
    assert len(snapshots) == 45 and app.calls["video.query"] == 3
    assert snapshots[3].views == 103 and snapshots[3].shares == 1 and snapshots[3].avg_view_pct == -1.0


def test_comments_are_unsupported(make):
    adapter = make()
    assert adapter.supports_comments("tiktok") is False
    with pytest.raises(ProviderError, match="cannot be read"):
        adapter.fetch_comments(
            Publication("tiktok", "demo", "v", "7", "u", datetime.now(timezone.utc)), datetime.now(timezone.utc)
        )


def test_the_caption_ends_with_the_videos_marker_even_when_it_is_cut_to_fit(make, tmp_path):
    video, thumb = media(tmp_path)
    adapter = make()
    short = adapter.caption(publish_request(video, thumb, video_id="vid-0042"))
    long = adapter.caption(publish_request(video, thumb, video_id="vid-0042", description="word " * 900))

    assert short.splitlines()[-1] == long.splitlines()[-1] == marker("vid-0042")
    assert len(long.encode("utf-16-le")) // 2 <= 2200


def test_a_lost_local_state_finds_the_post_by_listing_the_creators_videos_instead_of_posting_again(
    fake, make, tmp_path
):
    app, _ = fake
    video, thumb = media(tmp_path)
    first = make().publish(publish_request(video, thumb, video_id="vid-0042"))
    before = len(app.requests)
    for n in range(45):  # newer posts push it to the third page of 20
        app.add_video(caption=f"other\n\n{marker(f'other-{n}')}")

    fresh = make(state=MemoryStateStore(), refresh_token=next(iter(app.refresh_tokens)))  # the rotated one
    found = fresh.find("vid-0042")

    assert found is not None and found.remote_id == first.remote_id
    assert found.url == f"https://www.tiktok.com/@demo.shorts/video/{first.remote_id}"
    assert app.posted == 1
    lists = [r for name, r in app.requests[before:] if name == "video.list"]
    assert len(lists) == 3 and "cursor" not in lists[0].json()
    cursors = [r.json()["cursor"] for r in lists[1:]]
    assert cursors[0] > cursors[1]  # each page goes further back in time
    assert all(r.json()["max_count"] == 20 for r in lists)


def test_a_private_post_is_not_in_the_creators_list(fake, make):
    app, _ = fake
    app.add_video(caption=f"mine\n\n{marker('vid-0042')}", privacy_level="SELF_ONLY")
    assert make().find("vid-0042") is None
    assert app.calls["video.list"] == 1


def test_the_video_list_refuses_what_the_real_one_refuses(fake, make):
    app, server = fake
    make().find("vid-0042")
    token = next(iter(app.access_tokens))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        too_many = client.post("/v2/video/list/", params={"fields": "id"}, json={"max_count": 21})
        no_fields = client.post("/v2/video/list/", json={"max_count": 5})
        unknown = client.post("/v2/video/list/", params={"fields": "id,secret"}, json={})
    assert [r.json()["error"]["code"] for r in (too_many, no_fields, unknown)] == ["invalid_params"] * 3


# --- TikTok as it is for unaudited apps: the audit rule and the inbox (draft) mode ---------------------


def test_an_unaudited_client_posting_public_is_refused_with_the_audit_rule(tmp_path):
    app = FakeTikTok(audited=False)  # the account offers PUBLIC, the app's audit is missing
    with FakeServer(app) as server:
        adapter = TikTokAdapter(
            client_key=app.client_key,
            client_secret=app.client_secret,
            refresh_token="rft.refresh-0",
            state=MemoryStateStore(),
            api_base_url=server.url,
            sleep=Sleeps(),
        )
        video, thumb = media(tmp_path)
        with pytest.raises(NeedsManual) as refused:
            adapter.publish(publish_request(video, thumb))
        assert "unaudited_client_can_only_post_to_private_accounts" in str(refused.value)
        assert "not passed its content-posting audit post only SELF_ONLY" in str(refused.value)
        assert "TIKTOK_POST_MODE=inbox" in str(refused.value)
        assert app.calls["init"] == 1 and app.posted == 0  # refused once, not retried
        private = TikTokAdapter(
            client_key=app.client_key,
            client_secret=app.client_secret,
            refresh_token=next(iter(app.refresh_tokens)),
            state=MemoryStateStore(),
            api_base_url=server.url,
            sleep=Sleeps(),
            privacy_level="SELF_ONLY",
        )
        private.publish(publish_request(video, thumb, video_id="vid-0002"))
        assert app.posted == 1
        adapter.close()
        private.close()


def test_a_privacy_level_the_account_does_not_offer_is_refused_before_any_upload(fake, make, tmp_path):
    app, _ = fake
    app.add_account("rft.private-creator", privacy_level_options=["SELF_ONLY"])
    video, thumb = media(tmp_path)
    with pytest.raises(NeedsManual, match="@creator2 offers the privacy levels SELF_ONLY, not PUBLIC_TO_EVERYONE"):
        make(refresh_token="rft.private-creator", account="private").publish(publish_request(video, thumb))
    assert app.calls["init"] == 0 and app.calls["upload.put"] == 0
    make().publish(publish_request(video, thumb))  # the other account, offering PUBLIC, is unaffected
    assert app.posted == 1


def test_inbox_mode_sends_a_draft_and_follows_it_to_the_inbox(fake, make, state, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make(post_mode="inbox")
    draft = adapter.publish(publish_request(video, thumb))
    init = next(r for name, r in app.requests if name == "inbox.init")
    assert init.json() == {
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 600 * 1024,
            "chunk_size": 600 * 1024,
            "total_chunk_count": 1,
        }
    }
    assert app.calls["init"] == 0 and app.calls["creator_info"] == 0  # a draft is no direct post
    assert draft.draft and draft.url == "" and draft.remote_id in app.publishes
    assert app.publishes[draft.remote_id].status == "SEND_TO_USER_INBOX" and app.posted == 0
    assert make(post_mode="inbox").publish(publish_request(video, thumb)) == draft  # never sent twice
    assert len(app.publishes) == 1

    request = publish_request(video, thumb)
    assert adapter.follow_up(request) is None  # the creator has not posted it yet
    post_id = app.creator_posts(draft.remote_id)
    posted = make(post_mode="inbox").follow_up(request)
    assert posted is not None and not posted.draft
    assert posted.remote_id == post_id and posted.url.endswith(f"/video/{post_id}")
    assert make(post_mode="inbox").find("vid-0001") == posted
    assert not state.namespace("tiktok.inbox")


def test_inbox_mode_needs_the_video_upload_scope(fake, make, tmp_path):
    app, _ = fake
    app.add_account("rft.no-upload", scopes=("user.info.basic", "video.publish", "video.list"))
    video, thumb = media(tmp_path)
    with pytest.raises(NeedsManual, match="log the account in again.*scope_not_authorized.*video.upload"):
        make(refresh_token="rft.no-upload", account="other", post_mode="inbox").publish(publish_request(video, thumb))
    assert not app.publishes


def test_a_draft_that_fails_processing_is_sent_afresh(fake, make, state, tmp_path):
    app, _ = fake
    app.next_outcomes = [("FAILED", "file_format_check_failed")]
    video, thumb = media(tmp_path)
    with pytest.raises(ProviderError, match="failed: file_format_check_failed"):
        make(post_mode="inbox").publish(publish_request(video, thumb))
    assert not state.namespace("tiktok.inbox")
    assert make(post_mode="inbox").publish(publish_request(video, thumb)).draft
    assert len(app.drafts()) == 1


def test_a_full_inbox_is_a_spent_budget(fake, make, tmp_path):
    app, _ = fake
    video, thumb = media(tmp_path)
    adapter = make(post_mode="inbox")
    for i in range(5):
        adapter.publish(publish_request(video, thumb, video_id=f"d{i}"))
    with pytest.raises(BudgetExhausted, match="spam_risk_too_many_pending_share"):
        adapter.publish(publish_request(video, thumb, video_id="d5"))
    assert len(app.drafts()) == 5


def test_the_fake_inbox_takes_source_info_only(fake, make):
    app, server = fake
    make().find("vid-0042")
    token = next(iter(app.access_tokens))
    source = {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        with_post = client.post(
            "/v2/post/publish/inbox/video/init/", json={"post_info": {"title": "x"}, "source_info": source}
        )
        alone = client.post("/v2/post/publish/inbox/video/init/", json={"source_info": source})
    assert with_post.status_code == 400 and with_post.json()["error"]["code"] == "invalid_params"
    assert alone.json()["error"]["code"] == "ok" and "upload_url" in alone.json()["data"]


def test_an_unknown_post_mode_is_refused(make):
    with pytest.raises(ValueError, match="post_mode must be one of direct, inbox"):
        make(post_mode="drafts")


def test_inbox_faults_are_retried_and_a_lost_status_answer_is_read_again(fake, make, tmp_path):
    app, _ = fake
    app.inject("inbox.init", Fault.answer(500, {"data": {}, "error": {"code": "internal_error", "message": "oops"}}))
    app.inject("status", Fault.drop_after())
    video, thumb = media(tmp_path)
    draft = make(post_mode="inbox").publish(publish_request(video, thumb))
    assert draft.draft and app.calls["inbox.init"] == 2
    assert [p.id for p in app.drafts()] == [draft.remote_id]  # one draft in the inbox, not two
