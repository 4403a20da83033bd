"""YouTube Shorts over the YouTube Data API v3 and the YouTube Analytics API.

Publishing uses the resumable upload protocol in chunks that are multiples of 256 KiB. The session
URI is stored the moment it is issued and the remote video id the moment it is known, so an upload
interrupted by a lost connection, a 5xx or a dead process resumes from the bytes the server holds
(a status probe) instead of posting again; an expired session (404) starts over from byte 0. The
description ends with the video's marker (see ``marker``): when nothing local knows a video, ``find``
lists the channel's uploads playlist (``channels.list mine=true``, then ``playlistItems.list``, a
unit a page) and recognises it there, so even a lost database never uploads a video twice.

Every upload states its audience (``selfDeclaredMadeForKids``, from the channel's ``made_for_kids``):
an upload without it is left incomplete in YouTube Studio. Once the video exists its generated JPEG
is set as the thumbnail (``thumbnails.set``, at most 2 MB). A thumbnail that fails never fails the
publication: it stays pending in the state store (``youtube.thumbnail``, written before the upload
starts, so even a process that died mid-upload leaves it) and ``follow_up`` sets it on a later run.

Quota is counted per Pacific day in the state store before each call; an upload that cannot fit is
not started, and a ``quotaExceeded`` answer stops every call until midnight Pacific. The ``current``
model (the API's today) gives uploads their own bucket of 100 a day, apart from the 10,000 units
every other call spends (thumbnails.set 50, a list page 1); the ``legacy`` model charges an upload
1600 of the 10,000 units.

Metrics come from ``videos.list`` (statistics, 50 ids per call) and from the Analytics API (per-video
rows for the same 50 ids). The Analytics API lags by up to two days: while it has no row for a
video, the fields only it knows (``shares``, ``avg_view_pct``, ``watch_time_s``) are -1, meaning
unknown. Comments come from ``commentThreads.list`` with its replies, page by page; a video with
comments disabled has none.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import BudgetExhausted, NeedsManual, OutcomeUnknown, PartialResultError, ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore
from shorts_assets.core.types import Comment, MetricSnapshot, Publication, PublishRequest
from shorts_assets.providers.net.http import (
    HttpClient,
    Redactor,
    RetryPolicy,
    StoredToken,
    Verdict,
    parse_retry_after,
    safe_json,
)
from shorts_assets.providers.platforms.marker import MARKER_CHARS, carries_marker, with_marker

logger = logging.getLogger(__name__)

API_BASE_URL = "https://www.googleapis.com/youtube/v3"
UPLOAD_BASE_URL = "https://www.googleapis.com/upload/youtube/v3"
ANALYTICS_BASE_URL = "https://youtubeanalytics.googleapis.com/v2"
TOKEN_URL = "https://oauth2.googleapis.com/token"

CHUNK_ALIGN = 256 * 1024
MAX_TITLE = 100
MAX_DESCRIPTION = 5000
MARKER_LINE = MARKER_CHARS + 2  # the marker and the blank line before it
MAX_TAG_CHARS = 500
MAX_SHORT_S = 180.0
IDS_PER_CALL = 50
PACIFIC = ZoneInfo("America/Los_Angeles")
LIVE_STATUSES = {"uploaded", "processed"}
ANALYTICS_METRICS = ("views", "estimatedMinutesWatched", "averageViewPercentage", "shares")

QUOTA_MODELS = ("current", "legacy")
UPLOADS_API = "youtube.videos.insert"  # the current model's own bucket of uploads
THUMBNAIL_COST = 50
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024

SESSION_NS = "youtube.session"
THUMBNAIL_NS = "youtube.thumbnail"  # thumbnails still to set, by video
VIDEO_NS = "youtube.video"
FAILED_NS = "youtube.failed"


def _reasons(response: httpx.Response) -> set[str]:
    payload = safe_json(response)
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return set()
    return {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)} - {None}


def _classify(response: httpx.Response) -> Verdict | None:
    reasons = _reasons(response)
    if "quotaExceeded" in reasons or "uploadLimitExceeded" in reasons:
        return Verdict.BUDGET
    if response.status_code == 403 and reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
        return Verdict.RETRY
    return None


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class YouTubeAdapter(Closing):
    """Publisher, Analytics and CommentSource for one YouTube channel."""

    name = "youtube"

    platform = "youtube"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        state: StateStore,
        account: str = "default",
        api_base_url: str = API_BASE_URL,
        upload_base_url: str = UPLOAD_BASE_URL,
        analytics_base_url: str = ANALYTICS_BASE_URL,
        token_url: str = TOKEN_URL,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        chunk_size: int = 32 * CHUNK_ALIGN,
        category_id: str = "28",
        privacy_status: str = "public",
        made_for_kids: bool = False,
        default_language: str | None = None,
        quota_model: str = "current",
        daily_quota_units: int = 10_000,
        upload_cost_units: int = 1600,
        daily_upload_limit: int = 100,
        processing_polls: int = 0,
        processing_poll_interval_s: float = 15.0,
        use_analytics: bool = True,
        max_comment_pages: int = 50,
        max_find_pages: int = 4,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_ALIGN:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_ALIGN} bytes, got {chunk_size}")
        if privacy_status not in {"public", "unlisted", "private"}:
            raise ValueError(f"privacy_status must be public, unlisted or private, got {privacy_status!r}")
        if quota_model not in QUOTA_MODELS:
            raise ValueError(f"quota_model must be one of {', '.join(QUOTA_MODELS)}, got {quota_model!r}")
        if not isinstance(made_for_kids, bool):
            raise ValueError(f"made_for_kids must be true or false, got {made_for_kids!r}")
        self.account = account
        self.state = state
        self.api_base_url = api_base_url.rstrip("/")
        self.upload_base_url = upload_base_url.rstrip("/")
        self.analytics_base_url = analytics_base_url.rstrip("/")
        self.token_url = token_url
        self.chunk_size = chunk_size
        self.category_id = str(category_id)
        self.privacy_status = privacy_status
        self.made_for_kids = made_for_kids
        self.default_language = default_language
        self.quota_model = quota_model
        self.daily_quota_units = daily_quota_units
        self.upload_cost_units = upload_cost_units
        self.daily_upload_limit = daily_upload_limit
        self.processing_polls = processing_polls
        self.processing_poll_interval_s = processing_poll_interval_s
        self.use_analytics = use_analytics
        self.max_comment_pages = max_comment_pages
        self.max_find_pages = max_find_pages
        self._uploads: str | None = None
        self.clock = clock
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        redactor = Redactor([client_secret, refresh_token])
        self.http = HttpClient(
            "youtube", client=http_client, transport=transport, policy=retry, sleep=sleep, redactor=redactor
        )
        self.auth = StoredToken("youtube", account, state, self._fetch_token, redactor)

    def close(self) -> None:
        self.http.close()

    # --- auth ----------------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        response = self.http.request(
            "POST",
            self.token_url,
            what="token refresh",
            data={
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "refresh_token": self._refresh_token,
                "grant_type": "refresh_token",
            },
            classify=lambda r: Verdict.FAIL if r.status_code == 401 else None,
            accept={400, 401},
        )
        payload = safe_json(response)
        if response.status_code != 200:
            error = payload.get("error") if isinstance(payload, dict) else None
            if error == "invalid_grant":
                raise self.auth.revoke("the refresh token was revoked or has expired: invalid_grant")
            raise self.http.failure(response, "token refresh")
        payload = self.http.json(response, "token refresh")
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise self.http.error("token refresh: the answer has no access_token")
        return str(payload["access_token"]), float(payload.get("expires_in") or 3600)

    # --- quota ---------------------------------------------------------------------------------

    def pacific_day(self) -> date:
        return self.clock().astimezone(PACIFIC).date()

    def _spend(self, units: int, what: str, api: str = "youtube", limit: int | None = None) -> None:
        day = self.pacific_day()
        limit = self.daily_quota_units if limit is None else limit
        used = self.state.quota_used(api, day)
        if used + units > limit:
            raise BudgetExhausted(
                f"youtube {what}: the {api} quota for {day} (Pacific) cannot fit it "
                f"({used} of {limit} used, {units} needed); it resets at midnight Pacific"
            )
        self.state.add_quota(api, day, units)

    def _exhaust(self, api: str, limit: int) -> None:
        day = self.pacific_day()
        used = self.state.quota_used(api, day)
        if used < limit:
            self.state.add_quota(api, day, limit - used)

    def quota_used(self) -> int:
        """Data API units counted today (Pacific)."""
        return self.state.quota_used("youtube", self.pacific_day())

    def uploads_counted(self) -> int:
        """Uploads counted today (Pacific) in the current model's own bucket."""
        return self.state.quota_used(UPLOADS_API, self.pacific_day())

    def _call(self, method: str, url: str, *, what: str, units: int = 1, **kwargs: Any) -> httpx.Response:
        """A Data API call: quota counted first, quotaExceeded stops the day."""
        if units:
            self._spend(units, what)
        try:
            return self.http.request(method, url, what=what, token=self.auth, classify=_classify, **kwargs)
        except BudgetExhausted as exc:
            if "quotaExceeded" in str(exc):
                self._exhaust("youtube", self.daily_quota_units)
                raise BudgetExhausted(f"{exc}; no more YouTube calls until midnight Pacific") from None
            raise

    # --- publishing ------------------------------------------------------------------------------

    def _key(self, video_id: str) -> str:
        return f"{self.account}:{video_id}"

    def _record(self, video_id: str, remote_id: str, published_at: datetime) -> Publication:
        publication = Publication(
            platform="youtube",
            account=self.account,
            video_id=video_id,
            remote_id=remote_id,
            url=f"https://www.youtube.com/shorts/{remote_id}",
            published_at=published_at,
        )
        record = {"remote_id": remote_id, "url": publication.url, "published_at": published_at.isoformat()}
        self.state.put(VIDEO_NS, self._key(video_id), json.dumps(record))
        self.state.delete(SESSION_NS, self._key(video_id))
        return publication

    def _record_resource(self, video_id: str, resource: Any) -> Publication:
        if not isinstance(resource, dict) or not resource.get("id"):
            raise self.http.error(f"upload of {video_id}: the finished upload returned no video id")
        status = resource.get("status") or {}
        snippet = resource.get("snippet") or {}
        published_at = _parse_time(status.get("publishAt")) or _parse_time(snippet.get("publishedAt")) or self.clock()
        return self._record(video_id, str(resource["id"]), published_at)

    def _stored_publication(self, video_id: str) -> Publication | None:
        raw = self.state.get(VIDEO_NS, self._key(video_id))
        if not raw:
            return None
        record = json.loads(raw)
        return Publication(
            platform="youtube",
            account=self.account,
            video_id=video_id,
            remote_id=record["remote_id"],
            url=record["url"],
            published_at=datetime.fromisoformat(record["published_at"]),
        )

    def _fail(self, video_id: str, message: str) -> ProviderError:
        self.state.put(FAILED_NS, self._key(video_id), message)
        return ProviderError(message)

    def _check_upload_status(self, video_id: str, remote_id: str, status: dict[str, Any]) -> None:
        upload_status = status.get("uploadStatus")
        if upload_status in {"failed", "rejected", "deleted"}:
            reason = status.get("failureReason") or status.get("rejectionReason") or "no reason given"
            raise self._fail(
                video_id,
                f"youtube upload of {video_id} ({remote_id}) was {upload_status}: {reason}; "
                "it is not uploaded again automatically",
            )

    def find(self, video_id: str) -> Publication | None:
        self.auth.check_revoked()
        stored = self._stored_publication(video_id)
        if stored is not None:
            item = self._videos_list([stored.remote_id], "status", f"status of {video_id}").get(stored.remote_id)
            if item is None:
                return None
            status = item.get("status") or {}
            if status.get("uploadStatus") not in LIVE_STATUSES:
                try:
                    self._check_upload_status(video_id, stored.remote_id, status)
                except ProviderError:
                    return None
            return stored
        session = self.state.get(SESSION_NS, self._key(video_id))
        if session is not None:
            size = self._session_size(video_id)
            if size is not None:
                kind, value = self._probe(session, size, video_id)
                if kind == "done":
                    return self._record_resource(video_id, value)
                if kind == "offset":
                    return None  # the upload is unfinished, so no video exists yet
                self.state.delete(SESSION_NS, self._key(video_id))
        return self._listed(video_id)

    def _uploads_playlist(self) -> str | None:
        """The channel's uploads playlist (channels.list mine=true), read once per adapter."""
        if self._uploads is None:
            response = self._call(
                "GET",
                f"{self.api_base_url}/channels",
                what="channels.list (uploads playlist)",
                params={"part": "contentDetails", "mine": "true", "maxResults": 1},
            )
            payload = self.http.json(response, "channels.list")
            items = payload.get("items") if isinstance(payload, dict) else None
            if not isinstance(items, list) or not items:
                raise self.http.error("channels.list: the account has no YouTube channel")
            uploads = ((items[0].get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
            if not uploads:
                raise self.http.error("channels.list: the channel names no uploads playlist")
            self._uploads = str(uploads)
        return self._uploads

    def _listed(self, video_id: str) -> Publication | None:
        """The channel's upload whose description carries the video's marker, newest uploads first.

        Asked whenever nothing local knows the video, so a lost database or upload state never
        leads to a second upload. Each page costs a unit; ``max_find_pages`` pages of 50 are read.
        """
        playlist = self._uploads_playlist()
        page_token: str | None = None
        for _ in range(self.max_find_pages):
            params: dict[str, Any] = {"part": "snippet", "playlistId": playlist, "maxResults": IDS_PER_CALL}
            if page_token:
                params["pageToken"] = page_token
            response = self._call(
                "GET",
                f"{self.api_base_url}/playlistItems",
                what=f"playlistItems.list (looking for {video_id})",
                params=params,
                accept={404},
            )
            if response.status_code == 404:
                if "playlistNotFound" in _reasons(response):
                    return None  # a channel without uploads has no uploads playlist to list
                raise self.http.failure(response, "playlistItems.list")
            payload = self.http.json(response, "playlistItems.list")
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise self.http.error("playlistItems.list: the answer has no items list")
            for item in payload["items"]:
                snippet = (item.get("snippet") or {}) if isinstance(item, dict) else {}
                remote_id = (snippet.get("resourceId") or {}).get("videoId")
                if remote_id and carries_marker(snippet.get("description"), video_id):
                    return self._adopt(video_id, str(remote_id))
            page_token = payload.get("nextPageToken")
            if not page_token:
                return None
        return None

    def _adopt(self, video_id: str, remote_id: str) -> Publication | None:
        """Take a listed upload as the video's post, unless its processing failed (then a person decides)."""
        item = self._videos_list([remote_id], "status,snippet", f"status of {video_id}").get(remote_id)
        if item is None:
            return None
        status = item.get("status") or {}
        if status.get("uploadStatus") not in LIVE_STATUSES:
            try:
                self._check_upload_status(video_id, remote_id, status)
            except ProviderError:
                return None  # recorded as failed: publish() now refuses to upload it again
        logger.info(f"youtube: {video_id} is already on the channel as {remote_id}; recorded, not uploaded again")
        return self._record_resource(video_id, item)

    def _session_size(self, video_id: str) -> int | None:
        raw = self.state.get(SESSION_NS + ".size", self._key(video_id))
        return int(raw) if raw else None

    def metadata(self, request: PublishRequest) -> dict[str, Any]:
        """The video resource sent with the upload, within YouTube's limits."""
        title = request.title.replace("<", "").replace(">", "").strip()
        description = request.description.replace("<", "").replace(">", "")
        name = f"youtube upload of {request.video_id}"
        if not title:
            raise ProviderError(f"{name}: the title is empty")
        if len(title) > MAX_TITLE:
            raise ProviderError(f"{name}: title has {len(title)} characters, over the limit of {MAX_TITLE}")
        if len(description) > MAX_DESCRIPTION - MARKER_LINE:
            raise ProviderError(
                f"{name}: description has {len(description)} characters, over the limit of "
                f"{MAX_DESCRIPTION - MARKER_LINE} ({MAX_DESCRIPTION} less the line of the video's marker)"
            )
        description = with_marker(description, request.video_id)
        tags: list[str] = []
        used = 0
        for tag in (t.replace("<", "").replace(">", "").strip() for t in request.tags):
            cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
            if not tag or used + cost > MAX_TAG_CHARS:
                continue
            tags.append(tag)
            used += cost
        snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "tags": tags,
            "categoryId": self.category_id,
        }
        if self.default_language:
            snippet["defaultLanguage"] = self.default_language
            snippet["defaultAudioLanguage"] = self.default_language
        status: dict[str, Any] = {
            "privacyStatus": self.privacy_status,
            "selfDeclaredMadeForKids": self.made_for_kids,
            "containsSyntheticMedia": bool(request.ai_generated),
            "embeddable": True,
            "license": "youtube",
        }
        if request.scheduled_at.tzinfo is None:
            raise ProviderError(f"{name}: scheduled_at {request.scheduled_at} has no timezone")
        if request.scheduled_at > self.clock() + timedelta(minutes=5):
            status["privacyStatus"] = "private"  # publishAt is only allowed on private videos
            status["publishAt"] = _iso_z(request.scheduled_at)
        return {"snippet": snippet, "status": status}

    def publish(self, request: PublishRequest) -> Publication:
        key = self._key(request.video_id)
        name = f"youtube upload of {request.video_id}"
        self.auth.check_revoked()
        failed = self.state.get(FAILED_NS, key)
        if failed is not None:
            raise NeedsManual(failed)
        if not 0 < request.duration_s <= MAX_SHORT_S:
            raise ProviderError(
                f"{name}: duration {request.duration_s:.1f} s is not within a Short's 0-{MAX_SHORT_S:.0f} s"
            )
        resource = self.metadata(request)  # bad metadata fails before any call
        existing = self.find(request.video_id)
        if existing is not None:
            return existing
        failed = self.state.get(FAILED_NS, key)
        if failed is not None:
            raise NeedsManual(failed)
        path = Path(request.video_path)
        if not path.is_file():
            raise ProviderError(f"{name}: video file {path} does not exist")
        total = path.stat().st_size
        if total == 0:
            raise ProviderError(f"{name}: video file {path} is empty")
        self._want_thumbnail(request)
        created = self._upload(request.video_id, path, total, resource)
        publication = self._record_resource(request.video_id, created)
        self._check_upload_status(request.video_id, publication.remote_id, created.get("status") or {})
        self._await_processing(request.video_id, publication.remote_id)
        self._set_thumbnail(request.video_id)
        return publication

    # --- thumbnails ------------------------------------------------------------------------------

    def _want_thumbnail(self, request: PublishRequest) -> None:
        """Note the thumbnail to set before the upload starts, so no crash loses it."""
        key = self._key(request.video_id)
        if self.state.get(THUMBNAIL_NS, key) is None:
            self.state.put(THUMBNAIL_NS, key, json.dumps({"path": str(request.thumbnail_path), "attempts": 0}))

    def thumbnail_pending(self, video_id: str) -> bool:
        """Whether the video's thumbnail is still to be set."""
        return self.state.get(THUMBNAIL_NS, self._key(video_id)) is not None

    def follow_up(self, request: PublishRequest) -> Publication | None:
        """Set a thumbnail that an earlier run could not; the publication itself never changes."""
        if self.thumbnail_pending(request.video_id):
            self._set_thumbnail(request.video_id)
        return None

    def _set_thumbnail(self, video_id: str) -> bool:
        """Set the pending thumbnail of an uploaded video; True once set. A failure is logged and kept
        pending for the next run, never raised: the video is published either way."""
        key = self._key(video_id)
        raw = self.state.get(THUMBNAIL_NS, key)
        stored = self._stored_publication(video_id)
        if raw is None or stored is None:
            return False
        pending = json.loads(raw)
        path = Path(pending["path"])
        name = f"youtube thumbnail of {video_id} ({stored.remote_id})"
        if not path.is_file() or not 0 < path.stat().st_size <= MAX_THUMBNAIL_BYTES:
            size = f"{path.stat().st_size} bytes" if path.is_file() else "missing"
            logger.warning(f"{name}: {path} is {size}, not a JPEG of 1 byte to 2 MB; the video keeps YouTube's own")
            self.state.delete(THUMBNAIL_NS, key)
            return False
        content_type = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        try:
            self._call(
                "POST",
                f"{self.upload_base_url}/thumbnails/set",
                what=f"thumbnails.set of {video_id}",
                units=THUMBNAIL_COST,
                params={"videoId": stored.remote_id},
                headers={"Content-Type": content_type},
                content=path.read_bytes(),
            )
        except ProviderError as exc:
            pending.update(attempts=int(pending.get("attempts", 0)) + 1, error=str(exc)[:500])
            self.state.put(THUMBNAIL_NS, key, json.dumps(pending))
            logger.warning(f"{name} was not set: {exc}; the video is published, the thumbnail is retried next run")
            return False
        self.state.delete(THUMBNAIL_NS, key)
        return True

    def _start_session(self, video_id: str, total: int, resource: dict[str, Any]) -> str:
        what = f"upload of {video_id}: start session"
        if self.quota_model == "legacy":
            self._spend(self.upload_cost_units, what)
        else:
            self._spend(1, what, api=UPLOADS_API, limit=self.daily_upload_limit)
        try:
            response = self.http.request(
                "POST",
                f"{self.upload_base_url}/videos",
                what=what,
                token=self.auth,
                classify=_classify,
                params={"uploadType": "resumable", "part": "snippet,status"},
                headers={
                    "Content-Type": "application/json; charset=UTF-8",
                    "X-Upload-Content-Length": str(total),
                    "X-Upload-Content-Type": "video/mp4",
                },
                content=json.dumps(resource).encode("utf-8"),
            )
        except BudgetExhausted as exc:
            if "quotaExceeded" in str(exc):
                if self.quota_model == "legacy":
                    self._exhaust("youtube", self.daily_quota_units)
                else:
                    self._exhaust(UPLOADS_API, self.daily_upload_limit)
                raise BudgetExhausted(f"{exc}; no more YouTube uploads until midnight Pacific") from None
            raise
        location = response.headers.get("location")
        if not location:
            raise self.http.error(f"{what}: HTTP {response.status_code} without a Location header")
        key = self._key(video_id)
        self.state.put(SESSION_NS + ".size", key, str(total))
        self.state.put(SESSION_NS, key, location)
        return location

    def _probe(self, session: str, total: int, video_id: str) -> tuple[str, Any]:
        """("done", resource), ("offset", next byte to send) or ("gone", None) for an expired session."""
        response = self.http.request(
            "PUT",
            session,
            what=f"upload of {video_id}: status probe",
            headers={"Content-Range": f"bytes */{total}", "Content-Length": "0"},
            content=b"",
            accept={404},
        )
        return self._upload_outcome(response, video_id)

    def _upload_outcome(self, response: httpx.Response, video_id: str) -> tuple[str, Any]:
        if response.status_code in (200, 201):
            return "done", self.http.json(response, f"upload of {video_id}")
        if response.status_code == 404:
            return "gone", None
        if response.status_code == 308:
            held = response.headers.get("range")
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait:
                self.http.sleep(min(wait, self.http.policy.max_delay_s))
            if not held:
                return "offset", 0
            try:
                return "offset", int(held.split("-")[-1]) + 1
            except ValueError:
                raise self.http.error(f"upload of {video_id}: unreadable Range header {held!r}") from None
        raise self.http.failure(response, f"upload of {video_id}")

    def _upload(self, video_id: str, path: Path, total: int, resource: dict[str, Any]) -> dict[str, Any]:
        key = self._key(video_id)
        session = self.state.get(SESSION_NS, key)
        if session is not None and self._session_size(video_id) != total:
            self.state.delete(SESSION_NS, key)  # the file changed since that session began
            session = None
        offset: int | None = None
        restarts = stalls = 0
        with open(path, "rb") as handle:
            while True:
                if session is None:
                    session, offset = self._start_session(video_id, total, resource), 0
                if offset is None:
                    kind, value = self._probe(session, total, video_id)
                    if kind == "done":
                        return value
                    if kind == "gone":
                        session = self._restart(video_id, restarts := restarts + 1)
                        continue
                    offset = value
                handle.seek(offset)
                chunk = handle.read(self.chunk_size)
                last = offset + len(chunk) - 1
                try:
                    response = self.http.request(
                        "PUT",
                        session,
                        what=f"upload of {video_id}: bytes {offset}-{last}/{total}",
                        headers={
                            "Content-Type": "video/mp4",
                            "Content-Range": f"bytes {offset}-{last}/{total}",
                        },
                        content=chunk,
                        accept={404},
                        idempotent=False,
                    )
                except OutcomeUnknown as exc:
                    stalls += 1
                    if stalls >= self.http.policy.attempts:
                        raise ProviderError(
                            f"{exc}; stopped after {stalls} interruptions, the session is kept to resume"
                        ) from None
                    self.http.sleep(self.http.backoff(stalls))
                    offset = None  # ask the server what it holds
                    continue
                kind, value = self._upload_outcome(response, video_id)
                if kind == "done":
                    return value
                if kind == "gone":
                    session, offset = self._restart(video_id, restarts := restarts + 1), None
                    continue
                if value <= offset:
                    stalls += 1
                    if stalls >= self.http.policy.attempts:
                        raise self.http.error(f"upload of {video_id}: no progress past byte {value} of {total}")
                else:
                    stalls = 0
                offset = value

    def _restart(self, video_id: str, restarts: int) -> None:
        """Forget an expired session (the next step starts a new one from byte 0)."""
        self.state.delete(SESSION_NS, self._key(video_id))
        if restarts > 2:
            raise self.http.error(f"upload of {video_id}: the upload session expired {restarts} times")
        logger.warning(f"youtube upload of {video_id}: the upload session expired; starting again from byte 0")
        return None

    def _await_processing(self, video_id: str, remote_id: str) -> None:
        for poll in range(self.processing_polls):
            item = self._videos_list([remote_id], "status,processingDetails", f"processing of {video_id}").get(
                remote_id
            )
            status = (item or {}).get("status") or {}
            self._check_upload_status(video_id, remote_id, status)
            if status.get("uploadStatus") == "processed":
                return
            if poll + 1 < self.processing_polls:
                self.http.sleep(self.processing_poll_interval_s)

    # --- reads -------------------------------------------------------------------------------------

    def _videos_list(self, ids: Sequence[str], part: str, what: str) -> dict[str, dict[str, Any]]:
        if len(ids) > IDS_PER_CALL:
            raise ValueError(f"videos.list takes at most {IDS_PER_CALL} ids")
        response = self._call(
            "GET",
            f"{self.api_base_url}/videos",
            what=f"videos.list ({what})",
            params={"part": part, "id": ",".join(ids), "maxResults": IDS_PER_CALL},
        )
        payload = self.http.json(response, "videos.list")
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise self.http.error("videos.list: the answer has no items list")
        return {item["id"]: item for item in items if isinstance(item, dict) and "id" in item}

    def _analytics(self, ids: Sequence[str], start: date, end: date) -> dict[str, dict[str, float]]:
        response = self.http.request(
            "GET",
            f"{self.analytics_base_url}/reports",
            what="analytics reports.query",
            token=self.auth,
            classify=_classify,
            params={
                "ids": "channel==MINE",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "metrics": ",".join(ANALYTICS_METRICS),
                "dimensions": "video",
                "filters": "video==" + ",".join(ids),
                "maxResults": len(ids),
                "sort": "-views",
            },
        )
        payload = self.http.json(response, "analytics reports.query")
        if not isinstance(payload, dict):
            raise self.http.error("analytics reports.query: the answer is not an object")
        names = [h.get("name") for h in payload.get("columnHeaders") or []]
        rows: dict[str, dict[str, float]] = {}
        for row in payload.get("rows") or []:  # omitted when there is no data yet
            values = dict(zip(names, row))
            if "video" in values:
                rows[str(values["video"])] = {k: float(v or 0) for k, v in values.items() if k != "video"}
        return rows

    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]:
        mine = [p for p in publications if p.platform == "youtube"]
        snapshots: list[MetricSnapshot] = []
        for first in range(0, len(mine), IDS_PER_CALL):
            batch = mine[first : first + IDS_PER_CALL]
            ids = [p.remote_id for p in batch]
            try:
                stats = self._videos_list(ids, "statistics", f"metrics of {len(ids)} videos")
            except ProviderError as exc:
                if not snapshots:
                    raise
                raise PartialResultError(
                    f"{exc} (after {len(snapshots)} snapshots of {len(mine)} videos were read)", snapshots
                ) from None
            rows: dict[str, dict[str, float]] = {}
            if self.use_analytics:
                end = now.astimezone(PACIFIC).date()
                start = min(min(p.published_at.astimezone(PACIFIC).date() for p in batch), end)
                try:
                    rows = self._analytics(ids, start, end)
                except BudgetExhausted as exc:
                    if not snapshots:
                        raise
                    raise PartialResultError(f"{exc}", snapshots) from None
                except ProviderError as exc:
                    logger.warning(f"{exc}; snapshots keep views, likes and comments, the rest unknown")
            for publication in batch:
                item = stats.get(publication.remote_id)
                if item is None:
                    logger.warning(f"youtube video {publication.remote_id} ({publication.video_id}) is gone")
                    continue
                counts = item.get("statistics") or {}
                row = rows.get(publication.remote_id)
                snapshots.append(
                    MetricSnapshot(
                        platform="youtube",
                        remote_id=publication.remote_id,
                        fetched_at=now,
                        window="lifetime",
                        age_hours=max(0.0, (now - publication.published_at).total_seconds() / 3600.0),
                        views=int(counts.get("viewCount") or 0),
                        likes=int(counts.get("likeCount") or 0),
                        comments=int(counts.get("commentCount") or 0),
                        shares=int(row["shares"]) if row else -1,
                        avg_view_pct=float(row["averageViewPercentage"]) if row else -1.0,
                        watch_time_s=float(row["estimatedMinutesWatched"]) * 60.0 if row else -1.0,
                    )
                )
        return snapshots

    def supports_comments(self, platform: str) -> bool:
        return platform == "youtube"

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]:
        comments: list[Comment] = []
        page_token: str | None = None
        for _ in range(self.max_comment_pages):
            params = {
                "part": "snippet,replies",
                "videoId": publication.remote_id,
                "maxResults": 100,
                "textFormat": "plainText",
                "order": "time",
            }
            if page_token:
                params["pageToken"] = page_token
            response = self._call(
                "GET",
                f"{self.api_base_url}/commentThreads",
                what=f"commentThreads.list of {publication.remote_id}",
                params=params,
                accept={403},
            )
            if response.status_code == 403:
                if "commentsDisabled" in _reasons(response):
                    return []
                raise self.http.failure(response, f"commentThreads.list of {publication.remote_id}")
            payload = self.http.json(response, "commentThreads.list")
            for thread in payload.get("items") or []:
                top = ((thread.get("snippet") or {}).get("topLevelComment")) or {}
                if top.get("id"):
                    comments.append(self._comment(publication, top, None))
                for reply in (thread.get("replies") or {}).get("comments") or []:
                    comments.append(self._comment(publication, reply, top.get("id")))
            page_token = payload.get("nextPageToken")
            if not page_token:
                break
        return comments

    @staticmethod
    def _comment(publication: Publication, item: dict[str, Any], parent: str | None) -> Comment:
        snippet = item.get("snippet") or {}
        return Comment(
            platform="youtube",
            remote_id=publication.remote_id,
            comment_id=str(item["id"]),
            author=str(snippet.get("authorDisplayName") or ""),
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            published_at=_parse_time(snippet.get("publishedAt")) or publication.published_at,
            like_count=int(snippet.get("likeCount") or 0),
            parent_id=parent or snippet.get("parentId"),
        )
