"""TikTok over the Content Posting API (direct post, or drafts sent to the creator's inbox) and the
Display API.

``post_mode="direct"`` posts the video itself. It reads ``creator_info`` first and respects it: the
configured privacy level must be one the creator's account offers (otherwise the video waits for a
person, with a message explaining TikTok's audit rule: an app that has not passed TikTok's audit may
only post ``SELF_ONLY``), the video must fit the creator's maximum duration, and interactions the
creator disabled stay disabled. ``post_mode="inbox"`` uploads the video as a draft to the creator's
TikTok inbox (``/v2/post/publish/inbox/video/init/``, scope ``video.upload``, no caption: the creator
writes it), follows its status to ``SEND_TO_USER_INBOX`` and returns a *draft* publication; a later
``follow_up`` reads the status again and returns the real post once the creator has posted it.
Answers no retry can fix (a missing scope, the audit rule) raise ``NeedsManual`` saying what to do.

The file is uploaded in chunks by TikTok's rules (one chunk under 5 MB; otherwise
``floor(size / chunk)`` chunks of 5–64 MB, the last absorbing the remainder) with ``Content-Range``,
then the post's status is polled to PUBLISH_COMPLETE (and its public id), SEND_TO_USER_INBOX (a
draft) or FAILED with its reason. The publish id is stored the moment it is issued, so a lost answer or a
dead process resumes by reading the status instead of posting again. The caption ends with the
video's marker (see ``marker``): when nothing local knows a video, ``find`` lists the creator's
videos (``/v2/video/list/``, 20 a page, newest first) and recognises it there, so even a lost
database does not post it twice. That listing holds the creator's public posts only: a post made
SELF_ONLY (an unaudited app) cannot be found this way. AI-made videos carry ``is_aigc``. Refresh
tokens rotate: the newest is stored on every refresh.

Metrics come from the video query endpoint, 20 ids per call; it reports no watch time, so
``avg_view_pct`` and ``watch_time_s`` are -1 (unknown). Comments cannot be read by ordinary apps.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from shorts_assets.core.channels import TIKTOK_POST_MODES
from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import NeedsManual, PartialResultError, ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore
from shorts_assets.core.types import Comment, MetricSnapshot, Publication, PublishRequest
from shorts_assets.providers.net.http import HttpClient, Redactor, RetryPolicy, StoredToken, Verdict, safe_json
from shorts_assets.providers.platforms.marker import MARKER_CHARS, carries_marker, with_marker

logger = logging.getLogger(__name__)

API_BASE_URL = "https://open.tiktokapis.com"
MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_CAPTION_UTF16 = 2200
IDS_PER_QUERY = 20
LIST_PAGE = 20  # /v2/video/list/ returns at most 20 videos a call
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
POST_MODES = TIKTOK_POST_MODES
AUDIT_RULE = (
    "TikTok lets an app that has not passed its content-posting audit post only SELF_ONLY (private) videos, "
    "to private accounts; either have the app audited by TikTok, set TIKTOK_PRIVACY_LEVEL=SELF_ONLY, "
    "or set TIKTOK_POST_MODE=inbox to send drafts the creator posts from the TikTok app"
)
# Answers no retry can fix: a person must log in again with the scope, or change the configuration.
MANUAL_CODES = {
    "scope_not_authorized",
    "scope_permission_missed",
    "unaudited_client_can_only_post_to_private_accounts",
    "privacy_level_option_mismatch",
}
BUDGET_CODES = {
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_too_many_pending_share",
    "reached_active_user_cap",
}

PUBLISH_NS = "tiktok.publish"
POST_NS = "tiktok.post"
INBOX_NS = "tiktok.inbox"  # drafts sent to the creator's inbox, by video
REFRESH_NS = "tiktok.refresh_token"


def _code(response: httpx.Response) -> str | None:
    payload = safe_json(response)
    error = payload.get("error") if isinstance(payload, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") is not None else None


def _classify(response: httpx.Response) -> Verdict | None:
    code = _code(response)
    if code is None:
        return None
    if code == "ok":
        return Verdict.OK if response.status_code < 400 else None
    if code in BUDGET_CODES or code.startswith("spam_risk"):
        return Verdict.BUDGET
    if code in {"access_token_invalid"}:
        return Verdict.REFRESH
    if code in {"rate_limit_exceeded", "internal_error"}:
        return Verdict.RETRY
    return Verdict.FAIL


def chunk_plan(size: int, chunk_size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for a file of ``size`` bytes under TikTok's chunk rules."""
    if size < MIN_CHUNK:
        return size, 1
    chunk = min(max(chunk_size, MIN_CHUNK), MAX_CHUNK, size)
    return chunk, max(1, size // chunk)


class TikTokAdapter(Closing):
    """Publisher, Analytics and (unsupported) CommentSource for one TikTok creator."""

    name = "tiktok"

    platform = "tiktok"

    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        refresh_token: str,
        state: StateStore,
        account: str = "default",
        api_base_url: str = API_BASE_URL,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        chunk_size: int = 10 * MB,
        post_mode: str = "direct",
        privacy_level: str = "PUBLIC_TO_EVERYONE",
        disable_comment: bool = False,
        disable_duet: bool = False,
        disable_stitch: bool = False,
        status_polls: int = 60,
        status_poll_interval_s: float = 5.0,
        max_find_pages: int = 5,
    ) -> None:
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be within 5-64 MB, got {chunk_size}")
        if post_mode not in POST_MODES:
            raise ValueError(f"post_mode must be one of {', '.join(POST_MODES)}, got {post_mode!r}")
        if privacy_level not in PRIVACY_LEVELS:
            raise ValueError(f"privacy_level must be one of {', '.join(PRIVACY_LEVELS)}, got {privacy_level!r}")
        self.account = account
        self.post_mode = post_mode
        self.state = state
        self.api_base_url = api_base_url.rstrip("/")
        self.chunk_size = chunk_size
        self.privacy_level = privacy_level
        self.disable_comment = disable_comment
        self.disable_duet = disable_duet
        self.disable_stitch = disable_stitch
        self.status_polls = status_polls
        self.status_poll_interval_s = status_poll_interval_s
        self.max_find_pages = max_find_pages
        self.clock = clock
        self._client_key = client_key
        self._client_secret = client_secret
        self._initial_refresh_token = refresh_token
        self.redact = Redactor([client_secret, refresh_token, state.get(REFRESH_NS, account)])
        self.http = HttpClient(
            "tiktok", client=http_client, transport=transport, policy=retry, sleep=sleep, redactor=self.redact
        )
        self.auth = StoredToken("tiktok", account, state, self._fetch_token, self.redact)

    def close(self) -> None:
        self.http.close()

    # --- auth --------------------------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        refresh_token = self.state.get(REFRESH_NS, self.account) or self._initial_refresh_token
        response = self.http.request(
            "POST",
            f"{self.api_base_url}/v2/oauth/token/",
            what="token refresh",
            data={
                "client_key": self._client_key,
                "client_secret": self._client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            classify=lambda r: Verdict.FAIL if r.status_code == 401 else None,
            accept={400, 401},
        )
        payload = safe_json(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code != 200 or isinstance(error, str):
            if error == "invalid_grant":
                raise self.auth.revoke("the refresh token was revoked or has expired: invalid_grant")
            raise self.http.failure(response, "token refresh")
        payload = self.http.json(response, "token refresh")
        if not payload.get("access_token"):
            raise self.http.error("token refresh: the answer has no access_token")
        rotated = payload.get("refresh_token")
        if rotated:
            self.redact.add(rotated)
            self.state.put(REFRESH_NS, self.account, str(rotated))  # the old one stops working
        return str(payload["access_token"]), float(payload.get("expires_in") or 3600)

    def _post(
        self, path: str, *, what: str, body: Any = None, params: dict[str, Any] | None = None, idempotent: bool = True
    ) -> dict[str, Any]:
        response = self.http.request(
            "POST",
            f"{self.api_base_url}{path}",
            what=what,
            token=self.auth,
            classify=_classify,
            headers={"Content-Type": "application/json; charset=UTF-8"},
            content=json.dumps(body).encode() if body is not None else b"",
            params=params,
            idempotent=idempotent,
            accept={400, 401, 403},
        )
        code = _code(response)
        if code in MANUAL_CODES:
            raise self.http.failure(response, f"{what} ({self._manual_hint(code)})", NeedsManual)
        payload = self.http.json(response, what)
        if not isinstance(payload, dict) or (payload.get("error") or {}).get("code") != "ok":
            raise self.http.failure(response, what)
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _manual_hint(code: str) -> str:
        if code.startswith("scope_"):
            return (
                "the account's login lacks the scope this call needs (video.publish to post directly, video.upload "
                "to send drafts): log the account in again granting it"
            )
        return AUDIT_RULE

    # --- publishing ------------------------------------------------------------------------------------

    def _key(self, video_id: str) -> str:
        return f"{self.account}:{video_id}"

    def creator_info(self) -> dict[str, Any]:
        return self._post("/v2/post/publish/creator_info/query/", what="creator_info")

    def _record(
        self,
        video_id: str,
        post_id: str,
        username: str,
        url: str | None = None,
        published_at: datetime | None = None,
    ) -> Publication:
        url = url or f"https://www.tiktok.com/@{username}/video/{post_id}"
        published_at = published_at or self.clock()
        record = {"remote_id": post_id, "url": url, "published_at": published_at.isoformat()}
        self.state.put(POST_NS, self._key(video_id), json.dumps(record))
        self.state.delete(PUBLISH_NS, self._key(video_id))
        self.state.delete(INBOX_NS, self._key(video_id))
        return Publication("tiktok", self.account, video_id, post_id, url, published_at)

    def _record_draft(self, video_id: str, marker: dict[str, Any]) -> Publication:
        """The video sits in the creator's inbox: a draft, kept by its publish id until the creator posts it."""
        sent_at = self.clock()
        record = {"publish_id": marker["publish_id"], "username": marker["username"], "sent_at": sent_at.isoformat()}
        self.state.put(INBOX_NS, self._key(video_id), json.dumps(record))
        self.state.delete(PUBLISH_NS, self._key(video_id))
        logger.info(f"tiktok: {video_id} is in the creator's inbox as a draft ({marker['publish_id']})")
        return self._draft(video_id, record)

    def _draft(self, video_id: str, record: dict[str, Any]) -> Publication:
        return Publication(
            "tiktok",
            self.account,
            video_id,
            str(record["publish_id"]),
            "",  # a draft has no public address until the creator posts it
            datetime.fromisoformat(record["sent_at"]),
            draft=True,
        )

    def _status(self, publish_id: str, video_id: str) -> dict[str, Any]:
        return self._post(
            "/v2/post/publish/status/fetch/", what=f"status of {video_id}", body={"publish_id": publish_id}
        )

    def find(self, video_id: str) -> Publication | None:
        self.auth.check_revoked()
        raw = self.state.get(POST_NS, self._key(video_id))
        if raw:
            record = json.loads(raw)
            return Publication(
                "tiktok",
                self.account,
                video_id,
                record["remote_id"],
                record["url"],
                datetime.fromisoformat(record["published_at"]),
            )
        draft = self.state.get(INBOX_NS, self._key(video_id))
        if draft:
            return self._draft(video_id, json.loads(draft))
        marker = self._marker(video_id)
        if marker is not None:
            data = self._status(marker["publish_id"], video_id)
            ids = data.get("publicaly_available_post_id") or []
            if data.get("status") == "PUBLISH_COMPLETE" and ids:
                return self._record(video_id, str(ids[0]), marker["username"])
            if data.get("status") == "SEND_TO_USER_INBOX":
                return self._record_draft(video_id, marker)
            if data.get("status") in {"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"}:
                return None  # not posted yet, so no listing can hold it
        if self.post_mode == "inbox":
            return None  # a draft carries no caption of ours, so no listing can recognise it
        return self._listed(video_id)

    def follow_up(self, request: PublishRequest) -> Publication | None:
        """The real post of a video sent as a draft, once the creator has posted it from their inbox."""
        raw = self.state.get(INBOX_NS, self._key(request.video_id))
        if not raw:
            return None
        record = json.loads(raw)
        data = self._status(str(record["publish_id"]), request.video_id)
        ids = data.get("publicaly_available_post_id") or []
        if data.get("status") == "PUBLISH_COMPLETE" and ids:
            logger.info(f"tiktok: the creator posted the draft of {request.video_id} as {ids[0]}")
            return self._record(request.video_id, str(ids[0]), record.get("username") or self.account)
        if data.get("status") == "FAILED":
            logger.warning(
                f"tiktok: the draft of {request.video_id} in the creator's inbox failed "
                f"({data.get('fail_reason') or 'no reason given'}); it stays recorded as sent, not sent again"
            )
        return None

    def _listed(self, video_id: str) -> Publication | None:
        """The creator's post whose caption carries the video's marker, newest posts first."""
        cursor: int | None = None
        for _ in range(self.max_find_pages):
            body: dict[str, Any] = {"max_count": LIST_PAGE}
            if cursor is not None:
                body["cursor"] = cursor
            data = self._post(
                "/v2/video/list/",
                what=f"video list (looking for {video_id})",
                params={"fields": "id,create_time,share_url,video_description,title"},
                body=body,
            )
            for video in data.get("videos") or []:
                if not isinstance(video, dict) or not video.get("id"):
                    continue
                if carries_marker(video.get("video_description"), video_id) or carries_marker(
                    video.get("title"), video_id
                ):
                    created = video.get("create_time")
                    published_at = datetime.fromtimestamp(int(created), tz=timezone.utc) if created else self.clock()
                    logger.info(f"tiktok: {video_id} is already posted as {video['id']}; recorded, not posted again")
                    return self._record(
                        video_id, str(video["id"]), self.account, url=video.get("share_url"), published_at=published_at
                    )
            if not data.get("has_more") or data.get("cursor") in (None, cursor):
                return None
            cursor = int(data["cursor"])
        return None

    def _marker(self, video_id: str) -> dict[str, Any] | None:
        raw = self.state.get(PUBLISH_NS, self._key(video_id))
        return json.loads(raw) if raw else None

    def caption(self, request: PublishRequest) -> str:
        """Title, description and hashtags, cut to fit TikTok's limit, and the video's marker last."""
        tags = " ".join(f"#{''.join(c for c in t if c.isalnum() or c == '_')}" for t in request.tags)
        caption = "\n".join(p for p in (request.title.strip(), request.description.strip(), tags) if p)
        room = MAX_CAPTION_UTF16 - MARKER_CHARS - 2
        while len(caption.encode("utf-16-le")) // 2 > room:
            caption = caption[: len(caption) - 100].rstrip()
        return with_marker(caption, request.video_id)

    def publish(self, request: PublishRequest) -> Publication:
        video_id = request.video_id
        name = f"tiktok upload of {video_id}"
        existing = self.find(video_id)
        if existing is not None:
            return existing
        path = Path(request.video_path)
        if not path.is_file() or path.stat().st_size == 0:
            raise ProviderError(f"{name}: video file {path} is missing or empty")
        size = path.stat().st_size
        marker = self._marker(video_id)
        if marker is not None and marker.get("mode", "direct") != self.post_mode:
            # TIKTOK_POST_MODE changed since that upload began; an unfinished upload never posts.
            self.state.delete(PUBLISH_NS, self._key(video_id))
            marker = None
        if marker is not None:
            data = self._status(marker["publish_id"], video_id)
            status = data.get("status")
            if status == "FAILED":
                logger.warning(f"{name}: the earlier attempt failed ({data.get('fail_reason')}); posting afresh")
                marker = None
            elif status == "PROCESSING_UPLOAD" and int(data.get("uploaded_bytes") or 0) < marker["size"]:
                try:
                    self._upload(video_id, path, marker, int(data.get("uploaded_bytes") or 0))
                except ProviderError as exc:
                    # An upload that never completed never posts, so starting afresh is safe.
                    logger.warning(f"{exc}; starting a new upload")
                    marker = None
        if marker is None:
            marker = self._init_inbox(request, size) if self.post_mode == "inbox" else self._init(request, size)
            self._upload(video_id, path, marker, 0)
        return self._await(video_id, marker)

    def _source_info(self, size: int) -> dict[str, Any]:
        chunk, count = chunk_plan(size, self.chunk_size)
        return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}

    def _keep_marker(self, video_id: str, data: dict[str, Any], source: dict[str, Any], username: str) -> dict:
        if not data.get("publish_id") or not data.get("upload_url"):
            raise self.http.error(f"init of {video_id}: the answer lacks publish_id or upload_url")
        marker = {
            "publish_id": data["publish_id"],
            "upload_url": data["upload_url"],
            "size": source["video_size"],
            "chunk_size": source["chunk_size"],
            "count": source["total_chunk_count"],
            "username": username,
            "mode": self.post_mode,
        }
        self.state.put(PUBLISH_NS, self._key(video_id), json.dumps(marker))
        return marker

    def _init(self, request: PublishRequest, size: int) -> dict[str, Any]:
        name = f"tiktok direct post of {request.video_id}"
        creator = self.creator_info()
        offered = [str(level) for level in creator.get("privacy_level_options") or []]
        if self.privacy_level not in offered:
            raise NeedsManual(
                f"{name}: the account @{creator.get('creator_username') or self.account} offers the privacy levels "
                f"{', '.join(offered) or 'none'}, not {self.privacy_level} (TIKTOK_PRIVACY_LEVEL); {AUDIT_RULE}"
            )
        max_duration = float(creator.get("max_video_post_duration_sec") or 0)
        if max_duration and request.duration_s > max_duration:
            raise ProviderError(
                f"{name}: duration {request.duration_s:.1f} s exceeds the creator's maximum of {max_duration:.0f} s"
            )
        source = self._source_info(size)
        body = {
            "post_info": {
                "title": self.caption(request),
                "privacy_level": self.privacy_level,
                "disable_comment": bool(self.disable_comment or creator.get("comment_disabled")),
                "disable_duet": bool(self.disable_duet or creator.get("duet_disabled")),
                "disable_stitch": bool(self.disable_stitch or creator.get("stitch_disabled")),
                "video_cover_timestamp_ms": 1000,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
                "is_aigc": bool(request.ai_generated),
            },
            "source_info": source,
        }
        # An init whose answer is lost never receives bytes, so it never posts; re-sending is safe.
        data = self._post("/v2/post/publish/video/init/", what=f"init of {request.video_id}", body=body)
        return self._keep_marker(request.video_id, data, source, creator.get("creator_username") or self.account)

    def _init_inbox(self, request: PublishRequest, size: int) -> dict[str, Any]:
        """A draft upload: the inbox endpoint takes the file's description only, the creator writes the rest."""
        source = self._source_info(size)
        data = self._post(
            "/v2/post/publish/inbox/video/init/",
            what=f"inbox init of {request.video_id}",
            body={"source_info": source},
        )
        return self._keep_marker(request.video_id, data, source, self.account)

    def _upload(self, video_id: str, path: Path, marker: dict[str, Any], uploaded: int) -> None:
        size, chunk, count = marker["size"], marker["chunk_size"], marker["count"]
        with open(path, "rb") as handle:
            for index in range(uploaded // chunk, count):
                first = index * chunk
                last = size - 1 if index == count - 1 else first + chunk - 1
                handle.seek(first)
                body = handle.read(last - first + 1)
                # A chunk re-sent after a lost answer is accepted again, so retrying it is safe.
                self.http.request(
                    "PUT",
                    marker["upload_url"],
                    what=f"upload of {video_id}: chunk {index + 1}/{count}",
                    headers={"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"},
                    content=body,
                    classify=_classify,
                )

    def _await(self, video_id: str, marker: dict[str, Any]) -> Publication:
        name = f"tiktok upload of {video_id}"
        data: dict[str, Any] = {}
        for poll in range(max(1, self.status_polls)):
            data = self._status(marker["publish_id"], video_id)
            status = data.get("status")
            ids = data.get("publicaly_available_post_id") or []
            if status == "PUBLISH_COMPLETE" and ids:
                return self._record(video_id, str(ids[0]), marker["username"])
            if status == "SEND_TO_USER_INBOX":
                return self._record_draft(video_id, marker)
            if status == "FAILED":
                self.state.delete(PUBLISH_NS, self._key(video_id))
                raise ProviderError(f"{name} failed: {data.get('fail_reason') or 'no reason given'}")
            if poll + 1 < self.status_polls:
                self.http.sleep(self.status_poll_interval_s)
        raise ProviderError(
            f"{name}: still {data.get('status')} after {self.status_polls} polls "
            "(moderation can take hours); the next attempt resumes from the stored publish id"
        )

    # --- reads -----------------------------------------------------------------------------------------

    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]:
        mine = [p for p in publications if p.platform == "tiktok"]
        snapshots: list[MetricSnapshot] = []
        for first in range(0, len(mine), IDS_PER_QUERY):
            batch = mine[first : first + IDS_PER_QUERY]
            try:
                data = self._post(
                    "/v2/video/query/",
                    what=f"video query of {len(batch)} videos",
                    params={"fields": "id,create_time,duration,view_count,like_count,comment_count,share_count"},
                    body={"filters": {"video_ids": [p.remote_id for p in batch]}},
                )
            except ProviderError as exc:
                if not snapshots:
                    raise
                raise PartialResultError(f"{exc} (after {len(snapshots)} of {len(mine)} videos)", snapshots) from None
            found = {str(v.get("id")): v for v in data.get("videos") or []}
            for publication in batch:
                video = found.get(publication.remote_id)
                if video is None:
                    logger.warning(f"tiktok video {publication.remote_id} ({publication.video_id}) is not listed")
                    continue
                snapshots.append(
                    MetricSnapshot(
                        platform="tiktok",
                        remote_id=publication.remote_id,
                        fetched_at=now,
                        window="lifetime",
                        age_hours=max(0.0, (now - publication.published_at).total_seconds() / 3600.0),
                        views=int(video.get("view_count") or 0),
                        likes=int(video.get("like_count") or 0),
                        comments=int(video.get("comment_count") or 0),
                        shares=int(video.get("share_count") or 0),
                        avg_view_pct=-1.0,
                        watch_time_s=-1.0,
                    )
                )
        return snapshots

    def supports_comments(self, platform: str) -> bool:
        return False

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]:
        raise ProviderError(
            f"tiktok comments of {publication.remote_id} cannot be read: TikTok offers comment reading "
            "only through its Research API to approved researchers"
        )
