"""The simulated platform: platform-shaped ids on a host that says it is simulated, an idempotent outbox,
checked limits, rejections."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import PLATFORMS, PublishRequest
from shorts_assets.providers.platforms.marker import marker
from shorts_assets.providers.platforms.simulated import MAX_DURATION_S, SimulatedPlatform, load_manifest

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
FEATURES = {"topic": "space", "hook": "question", "length": "short"}


@pytest.fixture
def media(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "render"
    source.mkdir()
    video = source / "final.mp4"
    thumbnail = source / "thumb.jpg"
    video.write_bytes(b"not really an mp4")
    thumbnail.write_bytes(b"not really a jpeg")
    return video, thumbnail


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def make_request(media: tuple[Path, Path], video_id: str = "vid-001", **changes) -> PublishRequest:
    video, thumbnail = media
    request = PublishRequest(
        video_id=video_id,
        title="Why is space so quiet?",
        description="Sound needs something to travel through.",
        tags=("space", "science"),
        video_path=video,
        thumbnail_path=thumbnail,
        scheduled_at=NOW - timedelta(hours=2),
        duration_s=42.5,
        features=FEATURES,
    )
    return dataclasses.replace(request, **changes)


def platform(outbox: Path, name: str, **kwargs) -> SimulatedPlatform:
    return SimulatedPlatform(outbox, name, now=lambda: NOW, **kwargs)


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


B64 = r"[A-Za-z0-9_-]{11}"


@pytest.mark.parametrize(
    ("name", "id_pattern", "url_pattern"),
    [
        ("youtube", B64, rf"https://simulated\.invalid/youtube/acme/shorts/(?P<id>{B64})"),
        ("tiktok", r"7\d{18}", r"https://simulated\.invalid/tiktok/acme/video/(?P<id>7\d{18})"),
        ("instagram", r"17\d{15}", rf"https://simulated\.invalid/instagram/acme/reel/(?P<code>{B64})/"),
    ],
)
def test_ids_have_the_platforms_shape_and_urls_say_they_are_simulated(outbox, media, name, id_pattern, url_pattern):
    publication = platform(outbox, name, account="acme").publish(make_request(media))

    assert re.fullmatch(id_pattern, publication.remote_id)
    url = re.fullmatch(url_pattern, publication.url)
    assert url, publication.url
    manifest = load_manifest(outbox, name, publication.remote_id)
    if "id" in url.groupdict():
        assert url["id"] == publication.remote_id
    else:
        assert url["code"] == manifest["shortcode"]
    assert (publication.platform, publication.account, publication.video_id) == (
        name,
        "acme",
        "vid-001",
    )


@pytest.mark.parametrize("name", PLATFORMS)
def test_ids_are_deterministic_and_depend_on_account_and_video(tmp_path, media, name):
    first = platform(tmp_path / "a", name).publish(make_request(media))
    again = platform(tmp_path / "b", name).publish(make_request(media))
    other_account = platform(tmp_path / "c", name, account="second").publish(make_request(media))
    other_video = platform(tmp_path / "d", name).publish(make_request(media, video_id="vid-002"))

    assert (first.remote_id, first.url) == (again.remote_id, again.url)
    assert other_account.remote_id != first.remote_id
    assert other_video.remote_id != first.remote_id


def test_publish_stores_media_and_a_complete_manifest(outbox, media):
    request = make_request(media)
    publication = platform(outbox, "youtube").publish(request)

    post_dir = outbox / "youtube" / "default" / publication.remote_id
    assert sorted(p.name for p in post_dir.iterdir()) == [
        "manifest.json",
        "thumbnail.jpg",
        "video.mp4",
    ]
    assert (post_dir / "video.mp4").read_bytes() == b"not really an mp4"
    assert (post_dir / "thumbnail.jpg").read_bytes() == b"not really a jpeg"
    # Same filesystem: the upload is a hard link, not a second copy.
    assert os.path.samefile(post_dir / "video.mp4", request.video_path)

    manifest = json.loads((post_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == load_manifest(outbox, "youtube", publication.remote_id)
    for field in dataclasses.fields(PublishRequest):
        assert field.name in manifest, field.name
    assert manifest["video_path"] == str(request.video_path)
    assert manifest["thumbnail_path"] == str(request.thumbnail_path)
    assert manifest["tags"] == ["space", "science"]
    assert manifest["features"] == FEATURES
    assert manifest["duration_s"] == 42.5
    assert manifest["ai_generated"] is True
    assert datetime.fromisoformat(manifest["scheduled_at"]) == request.scheduled_at
    assert manifest["remote_id"] == publication.remote_id
    assert manifest["url"] == publication.url
    assert datetime.fromisoformat(manifest["published_at"]) == publication.published_at


def test_find_reports_the_remote_state(outbox, media):
    youtube = platform(outbox, "youtube")
    assert youtube.find("vid-001") is None

    publication = youtube.publish(make_request(media))

    assert youtube.find("vid-001") == publication
    assert SimulatedPlatform(outbox, "youtube").find("vid-001") == publication
    assert platform(outbox, "tiktok").find("vid-001") is None
    assert platform(outbox, "youtube", account="other").find("vid-001") is None


def test_publishing_again_returns_the_existing_post_and_copies_nothing(outbox, media):
    youtube = platform(outbox, "youtube")
    first = youtube.publish(make_request(media))
    stored = {p: p.stat().st_mtime_ns for p in files_under(outbox)}

    for path in media:
        path.unlink()
    later = SimulatedPlatform(outbox, "youtube", now=lambda: NOW + timedelta(days=3))
    second = later.publish(make_request(media, title="A different title"))

    assert second == first
    assert {p: p.stat().st_mtime_ns for p in files_under(outbox)} == stored


def test_an_interrupted_upload_without_manifest_is_not_a_post(outbox, media):
    youtube = platform(outbox, "youtube")
    publication = youtube.publish(make_request(media))
    (outbox / "youtube" / "default" / publication.remote_id / "manifest.json").unlink()

    assert youtube.find("vid-001") is None
    assert youtube.publish(make_request(media)) == publication
    assert youtube.find("vid-001") == publication


def test_a_rejected_upload_raises_and_leaves_nothing(outbox, media):
    tiktok = platform(outbox, "tiktok", reject_rate=1.0)

    message = r"^simulated tiktok rejected vid-001: processing failed$"
    with pytest.raises(ProviderError, match=message):
        tiktok.publish(make_request(media))

    assert files_under(outbox) == []
    assert not outbox.exists() or list(outbox.rglob("*")) == []
    assert tiktok.find("vid-001") is None


def test_rejections_are_deterministic_per_platform_and_video(tmp_path, media):
    def rejected(outbox: Path, account: str) -> set[str]:
        publisher = platform(outbox, "instagram", account=account, reject_rate=0.3)
        out = set()
        for i in range(200):
            try:
                publisher.publish(make_request(media, video_id=f"vid-{i:03d}"))
            except ProviderError:
                out.add(f"vid-{i:03d}")
        return out

    first = rejected(tmp_path / "a", "default")
    assert 30 <= len(first) <= 90
    assert rejected(tmp_path / "b", "other") == first
    survivors = {p.parent.name for p in (tmp_path / "a").rglob("manifest.json")}
    assert len(survivors) == 200 - len(first)


@pytest.mark.parametrize("name", PLATFORMS)
def test_duration_limit_per_platform(outbox, media, name):
    limit = MAX_DURATION_S[name]
    publisher = platform(outbox, name)

    publisher.publish(make_request(media, video_id="at-limit", duration_s=limit))
    with pytest.raises(ProviderError, match=rf"too-long.*{name} limit of {limit:.0f} s"):
        publisher.publish(make_request(media, video_id="too-long", duration_s=limit + 1))
    assert publisher.find("too-long") is None


def test_duration_limits_are_the_platforms_upload_limits():
    assert dict(MAX_DURATION_S) == {"youtube": 180.0, "tiktok": 600.0, "instagram": 900.0}


def test_youtube_title_limit(outbox, media):
    long_title = "x" * 101
    with pytest.raises(ProviderError, match=r"vid-001.*youtube title limit of 100"):
        platform(outbox, "youtube").publish(make_request(media, title=long_title))
    assert files_under(outbox) == []

    platform(outbox, "youtube").publish(make_request(media, title="x" * 100))
    platform(outbox, "tiktok").publish(make_request(media, title=long_title))


def test_instagram_hashtag_limit(outbox, media):
    tags = tuple(f"tag{i}" for i in range(31))
    with pytest.raises(ProviderError, match=r"vid-001.*limit of 30 hashtags"):
        platform(outbox, "instagram").publish(make_request(media, tags=tags))


@pytest.mark.parametrize("which", ["video_path", "thumbnail_path"])
def test_a_missing_file_raises_naming_its_path(outbox, media, tmp_path, which):
    missing = tmp_path / "nowhere" / "gone.mp4"
    with pytest.raises(ProviderError, match=re.escape(str(missing))):
        platform(outbox, "youtube").publish(make_request(media, **{which: missing}))
    assert files_under(outbox) == []


def test_published_at_is_the_slot_or_now_if_the_slot_is_ahead(outbox, media):
    youtube = platform(outbox, "youtube")
    past_slot = NOW - timedelta(hours=5)
    future_slot = NOW + timedelta(hours=5)

    past = youtube.publish(make_request(media, "past", scheduled_at=past_slot))
    future = youtube.publish(make_request(media, "future", scheduled_at=future_slot))

    assert past.published_at == past_slot
    assert future.published_at == NOW


def test_the_default_clock_is_utc_now(outbox, media):
    before = datetime.now(timezone.utc)
    request = make_request(media, scheduled_at=before + timedelta(days=1))
    publication = SimulatedPlatform(outbox, "tiktok").publish(request)
    assert before <= publication.published_at <= datetime.now(timezone.utc)


def test_load_manifest_misses_and_account_filter(outbox, media):
    publication = platform(outbox, "youtube", account="acme").publish(make_request(media))

    assert load_manifest(outbox, "youtube", publication.remote_id)["account"] == "acme"
    assert load_manifest(outbox, "youtube", publication.remote_id, account="acme") is not None
    assert load_manifest(outbox, "youtube", publication.remote_id, account="other") is None
    assert load_manifest(outbox, "tiktok", publication.remote_id) is None
    assert load_manifest(outbox, "youtube", "../../etc") is None
    assert load_manifest(outbox / "empty", "youtube", publication.remote_id) is None


def test_constructor_rejects_unknown_platform_and_bad_arguments(outbox):
    with pytest.raises(ValueError, match="vimeo"):
        SimulatedPlatform(outbox, "vimeo")
    with pytest.raises(ValueError, match="account"):
        SimulatedPlatform(outbox, "youtube", account="../escape")
    with pytest.raises(ValueError, match="reject_rate"):
        SimulatedPlatform(outbox, "youtube", reject_rate=1.5)


REAL_DOMAINS = ("youtube.com", "youtu.be", "tiktok.com", "instagram.com", "facebook.com")


@pytest.mark.parametrize("name", PLATFORMS)
def test_a_simulated_post_says_it_is_simulated_and_never_points_at_a_real_platform(outbox, media, name):
    publication = platform(outbox, name, account="acme").publish(make_request(media))
    host = urlsplit(publication.url).hostname

    assert host == "simulated.invalid"
    assert not any(host == d or host.endswith("." + d) for d in REAL_DOMAINS)
    assert SimulatedPlatform.simulated is True


@pytest.mark.parametrize("name", PLATFORMS)
def test_a_simulated_post_carries_the_videos_marker_as_a_real_one_does(outbox, media, name):
    publication = platform(outbox, name).publish(make_request(media))
    manifest = load_manifest(outbox, name, publication.remote_id)

    assert manifest["marker"] == marker("vid-001")
    assert manifest["description"].splitlines()[-1] == marker("vid-001")
    assert manifest["description"].startswith("Sound needs something to travel through.")


def test_a_new_publisher_over_the_same_outbox_finds_the_post(outbox, media):
    made = platform(outbox, "tiktok").publish(make_request(media))
    assert platform(outbox, "tiktok").find("vid-001") == made
