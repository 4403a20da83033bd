"""A simulated short-video platform: publishing writes a platform-shaped post into a local outbox.

Each post lives in ``<outbox>/<platform>/<account>/<remote_id>/`` with the uploaded video, its
thumbnail and ``manifest.json``. The manifest is written last and atomically, so a post exists
exactly when its manifest does; ``find`` relies on that to make publishing idempotent. The
simulated audience reads the manifests back to produce metrics and comments. A post's id has the
platform's shape, but its URL is on ``simulated.invalid``, never on a real platform's domain, and its
description carries the video's marker as a real post's does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import PLATFORMS, Publication, PublishRequest
from shorts_assets.providers.platforms.marker import MARKER_CHARS, marker, with_marker

MANIFEST_NAME = "manifest.json"
# Simulated posts live on a host that cannot exist (RFC 2606 reserves .invalid).
SIMULATED_URL_BASE = "https://simulated.invalid"

# Upload limits the simulation can check without parsing the media.
MAX_DURATION_S: MappingProxyType[str, float] = MappingProxyType({"youtube": 180.0, "tiktok": 600.0, "instagram": 900.0})
MAX_TITLE_CHARS: MappingProxyType[str, int] = MappingProxyType({"youtube": 100})
MAX_DESCRIPTION_CHARS: MappingProxyType[str, int] = MappingProxyType(
    {"youtube": 5000, "tiktok": 4000, "instagram": 2200}
)

MAX_HASHTAGS: MappingProxyType[str, int] = MappingProxyType({"instagram": 30})

_ACCOUNT_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode("utf-8")).digest()


def _base64url(data: bytes, length: int) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")[:length]


def _identity(platform: str, account: str, video_id: str) -> tuple[str, str, dict[str, str]]:
    """The remote id, URL and extra platform ids of a video, derived from its identity.

    Ids have the platform's shape; the URL is on the reserved ``.invalid`` domain, so a simulated
    post can never be taken for (or point at) a real one.
    """
    digest = _digest(platform, account, video_id)
    if platform == "youtube":
        # 8 bytes -> 11 significant base64url characters, like a real video id (64 bits).
        remote_id = _base64url(digest[:8], 11)
        return remote_id, f"{SIMULATED_URL_BASE}/youtube/{account}/shorts/{remote_id}", {}
    if platform == "tiktok":
        remote_id = "7" + str(int.from_bytes(digest[:16], "big") % 10**18).zfill(18)
        return remote_id, f"{SIMULATED_URL_BASE}/tiktok/{account}/video/{remote_id}", {}
    if platform == "instagram":
        remote_id = "17" + str(int.from_bytes(digest[:16], "big") % 10**15).zfill(15)
        shortcode = _base64url(digest[16:25], 11)
        return remote_id, f"{SIMULATED_URL_BASE}/instagram/{account}/reel/{shortcode}/", {"shortcode": shortcode}
    raise ValueError(f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")


def _is_safe_segment(segment: str) -> bool:
    return bool(segment) and not segment.startswith(".") and not ({"/", "\\"} & set(segment))


def load_manifest(outbox_dir: Path, platform: str, remote_id: str, account: str | None = None) -> dict[str, Any] | None:
    """The manifest of a post on ``platform`` (under any account unless one is given), or None."""
    if not _is_safe_segment(platform) or not _is_safe_segment(remote_id):
        return None
    platform_dir = Path(outbox_dir) / platform
    if account is not None:
        if not _is_safe_segment(account):
            return None
        account_dirs = [platform_dir / account]
    elif platform_dir.is_dir():
        account_dirs = sorted(p for p in platform_dir.iterdir() if p.is_dir())
    else:
        account_dirs = []
    for account_dir in account_dirs:
        path = account_dir / remote_id / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        try:
            manifest = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProviderError(f"corrupt manifest {path}: {exc}") from exc
        if not isinstance(manifest, dict):
            raise ProviderError(f"corrupt manifest {path}: not a JSON object")
        return manifest
    return None


def publication_from_manifest(manifest: dict[str, Any]) -> Publication:
    """The Publication a manifest records."""
    return Publication(
        platform=manifest["platform"],
        account=manifest["account"],
        video_id=manifest["video_id"],
        remote_id=manifest["remote_id"],
        url=manifest["url"],
        published_at=datetime.fromisoformat(manifest["published_at"]),
    )


def _place(source: Path, destination: Path) -> None:
    """Hard-link (or copy) ``source`` to ``destination``, replacing it atomically."""
    temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
    try:
        try:
            os.link(source, temporary)
        except OSError:
            shutil.copy2(source, temporary)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def _write_json_atomically(path: Path, payload: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class SimulatedPlatform(Closing):
    """A ``Publisher`` for one account on one platform, backed by a local outbox directory."""

    name = "simulated"
    simulated = True  # its posts are local: drafts may be "posted"

    def __init__(
        self,
        outbox_dir: Path,
        platform: str,
        account: str = "default",
        reject_rate: float = 0.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
        if not _ACCOUNT_PATTERN.fullmatch(account):
            raise ValueError(f"invalid account {account!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if not 0.0 <= reject_rate <= 1.0:
            raise ValueError(f"reject_rate must be within [0, 1], got {reject_rate}")
        self.outbox_dir = Path(outbox_dir)
        self.platform = platform
        self.account = account
        self.reject_rate = reject_rate
        self._now = now

    def _post_dir(self, remote_id: str) -> Path:
        return self.outbox_dir / self.platform / self.account / remote_id

    def find(self, video_id: str) -> Publication | None:
        """The platform's record of the video, read from the outbox alone (the database is not asked)."""
        remote_id, _, _ = _identity(self.platform, self.account, video_id)
        manifest = load_manifest(self.outbox_dir, self.platform, remote_id, account=self.account)
        if manifest is not None and manifest.get("video_id") == video_id:
            return publication_from_manifest(manifest)
        return None

    def _rejects(self, video_id: str) -> bool:
        if self.reject_rate <= 0.0:
            return False
        draw = int.from_bytes(_digest("reject", self.platform, video_id)[:8], "big") / 2.0**64
        return draw < self.reject_rate

    def _check_limits(self, request: PublishRequest) -> None:
        name = f"{self.platform} upload of {request.video_id}"
        max_duration = MAX_DURATION_S[self.platform]
        if not request.duration_s > 0:
            raise ProviderError(f"{name}: duration {request.duration_s} s is not positive")
        if request.duration_s > max_duration:
            raise ProviderError(
                f"{name}: duration {request.duration_s:.1f} s exceeds the {self.platform} limit of {max_duration:.0f} s"
            )
        max_title = MAX_TITLE_CHARS.get(self.platform)
        if max_title is not None and len(request.title) > max_title:
            raise ProviderError(
                f"{name}: title has {len(request.title)} characters, over the "
                f"{self.platform} title limit of {max_title}"
            )
        # The marker line takes its share of the limit, as on the real platforms.
        max_description = MAX_DESCRIPTION_CHARS[self.platform] - MARKER_CHARS - 2
        if len(request.description) > max_description:
            raise ProviderError(
                f"{name}: description has {len(request.description)} characters, over the "
                f"{self.platform} description limit of {max_description} (with room for the video's marker)"
            )
        max_hashtags = MAX_HASHTAGS.get(self.platform)
        if max_hashtags is not None and len(request.tags) > max_hashtags:
            raise ProviderError(
                f"{name}: {len(request.tags)} tags, over the {self.platform} limit of {max_hashtags} hashtags"
            )
        if request.scheduled_at.tzinfo is None or request.scheduled_at.utcoffset() is None:
            raise ProviderError(f"{name}: scheduled_at {request.scheduled_at} has no timezone")
        for label, path in (("video", request.video_path), ("thumbnail", request.thumbnail_path)):
            if not Path(path).is_file():
                raise ProviderError(f"{name}: {label} file {path} does not exist")

    def publish(self, request: PublishRequest) -> Publication:
        existing = self.find(request.video_id)
        if existing is not None:
            return existing
        self._check_limits(request)
        if self._rejects(request.video_id):
            raise ProviderError(f"simulated {self.platform} rejected {request.video_id}: processing failed")

        remote_id, url, extra_ids = _identity(self.platform, self.account, request.video_id)
        now = self._now()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the platform clock returned a naive datetime: {now}")
        published_at = min(request.scheduled_at, now)

        post_dir = self._post_dir(remote_id)
        post_dir.mkdir(parents=True, exist_ok=True)
        video_name = "video" + Path(request.video_path).suffix.lower()
        thumbnail_name = "thumbnail" + Path(request.thumbnail_path).suffix.lower()
        try:
            _place(Path(request.video_path), post_dir / video_name)
            _place(Path(request.thumbnail_path), post_dir / thumbnail_name)
        except OSError as exc:
            shutil.rmtree(post_dir, ignore_errors=True)
            raise ProviderError(f"{self.platform} upload of {request.video_id}: could not store media: {exc}") from exc

        manifest: dict[str, Any] = {
            "platform": self.platform,
            "account": self.account,
            "video_id": request.video_id,
            "remote_id": remote_id,
            "url": url,
            **extra_ids,
            "published_at": published_at.isoformat(),
            "title": request.title,
            "description": with_marker(request.description, request.video_id),
            "marker": marker(request.video_id),
            "tags": list(request.tags),
            "video_path": str(request.video_path),
            "thumbnail_path": str(request.thumbnail_path),
            "scheduled_at": request.scheduled_at.isoformat(),
            "duration_s": request.duration_s,
            "features": dict(request.features),
            "ai_generated": request.ai_generated,
            "stored_video": video_name,
            "stored_thumbnail": thumbnail_name,
        }
        _write_json_atomically(post_dir / MANIFEST_NAME, manifest)
        return publication_from_manifest(manifest)
