"""The loop with all three real publishers switched on, pointed at fake YouTube, TikTok and Instagram
servers that enforce each protocol, with faults injected mid-publish.

Every video of the batch must be posted exactly once per platform, and the audience's reaction that
the servers then report must reach the database and the strategy.
"""

import os
from datetime import date

import dagster as dg
import pytest
from cryptography.fernet import Fernet

from shorts_assets.db.store import Store
from shorts_assets.defs.location import loop_assets
from shorts_assets.defs.resources import PlatformsResource, RendererResource
from shorts_assets.fakes.instagram_server import FakeInstagram
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.fakes.tiktok_server import FakeTikTok
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.settings import load_settings
from shorts_assets_tests.conftest import loop_resources

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 21)
PLATFORMS = ("youtube", "tiktok", "instagram")


@pytest.fixture(scope="module")
def servers():
    apps = {"youtube": FakeYouTube(), "tiktok": FakeTikTok(), "instagram": FakeInstagram()}
    with FakeServer(apps["youtube"]) as yt, FakeServer(apps["tiktok"]) as tt, FakeServer(apps["instagram"]) as ig:
        urls = {"youtube": yt.url, "tiktok": tt.url, "instagram": ig.url}
        yield apps, urls


@pytest.fixture(scope="module")
def environment(servers):
    apps, urls = servers
    env = {
        "SHORTS_SECRET_KEY": Fernet.generate_key().decode(),
        "PUBLISHER_YOUTUBE": "true",
        "PUBLISHER_TIKTOK": "true",
        "PUBLISHER_INSTAGRAM": "true",
        "YOUTUBE_CLIENT_ID": apps["youtube"].client_id,
        "YOUTUBE_CLIENT_SECRET": apps["youtube"].client_secret,
        "YOUTUBE_REFRESH_TOKEN_DEMO": next(iter(apps["youtube"].refresh_tokens)),
        "TIKTOK_CLIENT_KEY": apps["tiktok"].client_key,
        "TIKTOK_CLIENT_SECRET": apps["tiktok"].client_secret,
        "TIKTOK_REFRESH_TOKEN": next(iter(apps["tiktok"].refresh_tokens)),
        "INSTAGRAM_USER_ID": apps["instagram"].user_id,
        "INSTAGRAM_ACCESS_TOKEN": next(iter(apps["instagram"].valid_tokens)),
        "YOUTUBE_API_BASE_URL": f"{urls['youtube']}/youtube/v3",
        "YOUTUBE_UPLOAD_BASE_URL": f"{urls['youtube']}/upload/youtube/v3",
        "YOUTUBE_ANALYTICS_BASE_URL": f"{urls['youtube']}/v2",
        "GOOGLE_OAUTH_TOKEN_URL": f"{urls['youtube']}/token",
        "TIKTOK_API_BASE_URL": urls["tiktok"],
        "INSTAGRAM_GRAPH_BASE_URL": f"{urls['instagram']}/v21.0",
        "INSTAGRAM_RUPLOAD_BASE_URL": f"{urls['instagram']}/rupload/ig-api-upload/v21.0",
        "INSTAGRAM_TOKEN_REFRESH_URL": f"{urls['instagram']}/refresh_access_token",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield load_settings()


@pytest.fixture(scope="module")
def published(servers, environment, tmp_path_factory):
    """One batch through the loop, with a fault injected into each platform's publishing."""
    apps, _ = servers
    apps["youtube"].inject("upload.put", Fault.drop_after())
    apps["tiktok"].inject("init", Fault.answer(503, {"error": {"code": "internal_error", "message": "busy"}}))
    apps["instagram"].inject("media_publish", Fault.drop_after())
    resources = real_resources(tmp_path_factory.mktemp("real"), environment)
    with dg.instance_for_test() as instance:
        result = materialize(resources, instance=instance)
        recorded = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
    return resources, result, recorded


def real_resources(tmp_path, settings):
    resources = loop_resources(tmp_path / "data", f"sqlite:///{tmp_path / 'shorts.db'}")
    resources["renderer"] = RendererResource(profile="final")  # a real platform refuses drafts
    resources["platforms"] = PlatformsResource(
        data_dir=str(tmp_path / "data"),
        database=resources["database"],
        real=list(settings.real_publishers),
        base_urls=dict(settings.base_urls),
    )
    return resources


def materialize(resources, selection=None, instance=None):
    if instance is not None:
        return dg.materialize(
            loop_assets,
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    with dg.instance_for_test() as instance:
        return dg.materialize(
            loop_assets,
            selection=selection,
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )


def posts(apps) -> dict[str, int]:
    return {
        "youtube": apps["youtube"].created_videos,
        "tiktok": len(apps["tiktok"].publishes),
        "instagram": len(apps["instagram"].media),
    }


def test_every_video_is_posted_once_per_platform_despite_faults(servers, environment, published):
    apps, _ = servers
    assert environment.real_publishers == PLATFORMS
    resources, first, _ = published
    assert first.success
    store = Store(resources["database"].url)
    publications = store.publications("demo", DAY)
    assert sorted((p.platform, p.status) for p in publications) == sorted(
        [(platform, "published") for platform in PLATFORMS] * 2
    )
    assert posts(apps) == {"youtube": 2, "tiktok": 2, "instagram": 2}
    assert all(p.remote_id and p.url for p in publications)

    again = materialize(resources)
    assert again.success
    assert posts(apps) == {"youtube": 2, "tiktok": 2, "instagram": 2}
    assert all(p.status == "published" for p in store.publications("demo", DAY))


def test_youtube_uploads_state_their_audience_get_their_thumbnail_and_count_in_the_upload_bucket(servers, published):
    apps, _ = servers
    resources, _, _ = published
    store = Store(resources["database"].url)
    rows = {r.video_id: r for r in store.batch("demo", DAY)}
    youtube = [p for p in store.publications("demo", DAY) if p.platform == "youtube"]
    assert len(youtube) == 2
    for publication in youtube:
        video = apps["youtube"].videos[publication.remote_id]
        assert video.status["madeForKids"] is False  # stated explicitly: the fake refuses an unset audience
        key = rows[publication.video_id].outputs["render"]["thumbnail_path"]
        thumbnail = resources["media"].store().local_path(key).read_bytes()  # the render's thumbnail, by its key
        assert video.thumbnail == thumbnail
    assert apps["youtube"].uploads_today == apps["youtube"].calls["videos.insert"] >= 2
    assert apps["youtube"].quota_used < 1600  # the current model: no upload spent the 10,000-unit bucket


def test_the_learner_receives_what_the_platforms_report(servers, published):
    apps, _ = servers
    resources, _, _ = published
    store = Store(resources["database"].url)
    by_platform = {(p.platform, p.video_id): p.remote_id for p in store.publications("demo", DAY)}

    for (platform, _), remote_id in by_platform.items():
        if platform == "youtube":
            video = apps["youtube"].videos[remote_id]
            video.statistics.update(viewCount=1200, likeCount=90, commentCount=1)
            video.comments.append(
                {
                    "id": f"Ug{remote_id}",
                    "author": "@ana",
                    "text": "do one about volcanoes",
                    "at": "2026-11-21T12:00:00Z",
                }
            )
        elif platform == "tiktok":
            apps["tiktok"].videos[remote_id].stats.update(view_count=5000, like_count=300, share_count=12)
        else:
            media = apps["instagram"].media[remote_id]
            media.insights.update(
                views=800,
                likes=40,
                comments=1,
                shares=3,
                saved=2,
                reach=700,
                total_interactions=46,
                ig_reels_avg_watch_time=9000,
            )
            media.comments.append(
                {
                    "id": f"c{remote_id}",
                    "text": "love it",
                    "username": "bea",
                    "timestamp": "2026-11-21T12:00:00+0000",
                    "like_count": 1,
                }
            )

    learned = materialize(resources, selection=["metrics", "comments", "strategy"])
    assert learned.success
    video_ids = sorted({video_id for _, video_id in by_platform})
    latest = {(s["platform"], s["video_id"]): s for s in store.latest_snapshots(video_ids)}
    assert {key[0] for key in latest} == set(PLATFORMS)
    assert all(latest[("youtube", v)]["views"] == 1200 for v in video_ids)
    assert all(latest[("tiktok", v)]["views"] == 5000 for v in video_ids)
    texts = {c["text"] for c in store.comments_for(video_ids)}
    assert {"do one about volcanoes", "love it"} <= texts
    strategy = store.latest_strategy("demo", on=DAY)
    assert strategy.summary["observations"] > 0


def test_no_secret_reaches_the_event_log_metadata_or_run_config(environment, published):
    _, result, recorded = published
    secrets = [
        value
        for name in (
            "YOUTUBE_CLIENT_SECRET",
            "YOUTUBE_REFRESH_TOKEN_DEMO",
            "TIKTOK_CLIENT_SECRET",
            "TIKTOK_REFRESH_TOKEN",
            "INSTAGRAM_ACCESS_TOKEN",
        )
        if (value := os.environ.get(name))
    ]
    assert len(secrets) == 5
    assert "publications" in recorded  # the log really holds the publishing events
    run_config = repr(result.dagster_run.run_config)
    for secret in secrets:
        assert secret not in recorded
        assert secret not in run_config
