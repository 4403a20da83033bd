"""Instagram Reels over the Instagram Graph API.

Publishing: the 24-hour publishing cap is read first (``content_publishing_limit``); a REELS
container is created with ``upload_type=resumable`` and its id stored at once; the local file is
sent to the container's rupload URL (resuming from the offset the upload URL reports after an
interruption); the container's ``status_code`` is polled until FINISHED (ERROR and EXPIRED drop the
container so the next attempt starts a new one); then ``media_publish``, retried while the media is
not ready (9007/2207027). The caption ends with the video's marker (see ``marker``). A lost answer
to ``media_publish`` is resolved by reading the container: PUBLISHED means the post exists, and it is
found among the account's media by that marker; when nothing local knows a video at all, ``find``
lists the account's media (``/{ig-user-id}/media`` with captions, page by page) the same way, so even
a lost database does not post it twice.

Metrics come from the current media insights (``views``, not the retired ``plays``/``impressions``);
average watch percentage needs the video's duration, remembered at publish time, and is -1 when
unknown. Comments come with their replies, page by page. The long-lived token is refreshed before
it is ``refresh_every_s`` old; an invalid token that cannot be refreshed marks the account revoked.
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

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import BudgetExhausted, OutcomeUnknown, PartialResultError, ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore
from shorts_assets.core.types import Comment, MetricSnapshot, Publication, PublishRequest
from shorts_assets.providers.net.http import HttpClient, Redactor, RetryPolicy, StoredToken, Verdict, safe_json
from shorts_assets.providers.platforms.marker import MARKER_CHARS, carries_marker, with_marker

logger = logging.getLogger(__name__)

GRAPH_BASE_URL = "https://graph.facebook.com/v21.0"
RUPLOAD_BASE_URL = "https://rupload.facebook.com/ig-api-upload/v21.0"
TOKEN_REFRESH_URL = "https://graph.instagram.com/refresh_access_token"

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
INSIGHT_METRICS = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
)

RATE_LIMIT_CODES = {4, 17, 32, 613, 80002}
TRANSIENT_SUBCODES = {2207001, 2207003, 2207032}
BUDGET_SUBCODES = {2207042, 2207051}
NOT_READY = (9007, 2207027)

CONTAINER_NS = "instagram.container"
MEDIA_NS = "instagram.media"
DURATION_NS = "instagram.duration"


def _error(response: httpx.Response) -> dict[str, Any]:
    payload = safe_json(response)
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def _classify(response: httpx.Response) -> Verdict | None:
    error = _error(response)
    code, subcode = error.get("code"), error.get("error_subcode")
    if code == 190:
        return Verdict.REFRESH
    if code == 9 or subcode in BUDGET_SUBCODES:
        return Verdict.BUDGET
    if code in RATE_LIMIT_CODES or subcode in TRANSIENT_SUBCODES or error.get("is_transient") is True:
        return Verdict.RETRY
    return None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class InstagramAdapter(Closing):
    """Publisher, Analytics and CommentSource for one Instagram professional account."""

    name = "instagram"

    platform = "instagram"

    def __init__(
        self,
        *,
        user_id: str,
        access_token: str,
        state: StateStore,
        account: str = "default",
        graph_base_url: str = GRAPH_BASE_URL,
        rupload_base_url: str = RUPLOAD_BASE_URL,
        token_refresh_url: str = TOKEN_REFRESH_URL,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        share_to_feed: bool = True,
        refresh_every_s: float = 7 * 24 * 3600.0,
        status_polls: int = 30,
        status_poll_interval_s: float = 10.0,
        publish_not_ready_attempts: int = 6,
        max_comment_pages: int = 50,
        max_find_pages: int = 4,
    ) -> None:
        self.user_id = user_id
        self.account = account
        self.state = state
        self.graph_base_url = graph_base_url.rstrip("/")
        self.rupload_base_url = rupload_base_url.rstrip("/")
        self.token_refresh_url = token_refresh_url
        self.share_to_feed = share_to_feed
        self.refresh_every_s = refresh_every_s
        self.status_polls = status_polls
        self.status_poll_interval_s = status_poll_interval_s
        self.publish_not_ready_attempts = publish_not_ready_attempts
        self.max_comment_pages = max_comment_pages
        self.max_find_pages = max_find_pages
        self.clock = clock
        self._initial_token = access_token
        redactor = Redactor([access_token])
        self.http = HttpClient(
            "instagram", client=http_client, transport=transport, policy=retry, sleep=sleep, redactor=redactor
        )
        self.auth = StoredToken(
            "instagram",
            account,
            state,
            self._refresh_token,
            redactor,
            clock=lambda: self.clock().timestamp(),
            margin_s=0,
        )
        if state.get(StoredToken.NAMESPACE, self.auth.key) is None:
            state.put(
                StoredToken.NAMESPACE,
                self.auth.key,
                json.dumps({"access_token": access_token, "expires_at": self.clock().timestamp() + refresh_every_s}),
            )

    def close(self) -> None:
        self.http.close()

    # --- auth ----------------------------------------------------------------------------------------

    def _current_token(self) -> str:
        raw = self.state.get(StoredToken.NAMESPACE, self.auth.key)
        try:
            return str(json.loads(raw)["access_token"]) if raw else self._initial_token
        except (ValueError, KeyError, TypeError):
            return self._initial_token

    def _refresh_token(self) -> tuple[str, float]:
        response = self.http.request(
            "GET",
            self.token_refresh_url,
            what="token refresh",
            params={"grant_type": "ig_refresh_token", "access_token": self._current_token()},
            classify=lambda r: Verdict.FAIL if _error(r).get("code") == 190 else _classify(r),
            accept={400, 401},
        )
        if response.status_code != 200:
            error = _error(response)
            if error.get("code") == 190:
                raise self.auth.revoke(
                    f"the access token is invalid and cannot be refreshed: code 190/{error.get('error_subcode')}"
                )
            raise self.http.failure(response, "token refresh")
        payload = self.http.json(response, "token refresh")
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise self.http.error("token refresh: the answer has no access_token")
        # Renew well before the 60-day expiry rather than at it.
        return str(payload["access_token"]), min(float(payload.get("expires_in") or 0), self.refresh_every_s)

    def _graph(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(
            method, f"{self.graph_base_url}/{path}", what=what, token=self.auth, classify=_classify, **kwargs
        )

    def _graph_json(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        payload = self.http.json(self._graph(method, path, what=what, **kwargs), what)
        if not isinstance(payload, dict):
            raise self.http.error(f"{what}: the answer is not an object")
        return payload

    # --- publishing ------------------------------------------------------------------------------------

    def _key(self, video_id: str) -> str:
        return f"{self.account}:{video_id}"

    def caption(self, request: PublishRequest) -> str:
        hashtags = []
        for tag in request.tags:
            word = "".join(ch for ch in tag if ch.isalnum() or ch == "_")
            if word and f"#{word}" not in hashtags:
                hashtags.append(f"#{word}")
        existing = request.description.count("#")
        hashtags = hashtags[: max(0, MAX_HASHTAGS - existing)]
        room = MAX_CAPTION - MARKER_CHARS - 2  # the video's marker takes the last line
        caption = "\n\n".join(
            part for part in (request.title.strip(), request.description.strip(), " ".join(hashtags)) if part
        )
        if len(caption) > room:
            caption = "\n\n".join(part for part in (request.title.strip(), request.description.strip()) if part)
        if len(caption) > room:
            raise ProviderError(
                f"instagram upload of {request.video_id}: caption has {len(caption)} characters, over {room} "
                f"({MAX_CAPTION} less the line of the video's marker)"
            )
        caption = with_marker(caption, request.video_id)
        if caption.count("#") > MAX_HASHTAGS:
            raise ProviderError(f"instagram upload of {request.video_id}: over {MAX_HASHTAGS} hashtags")
        return caption

    def _record(self, video_id: str, media_id: str, fallback_time: datetime) -> Publication:
        item = self._graph_json("GET", media_id, what=f"media {media_id}", params={"fields": "id,permalink,timestamp"})
        return self._remember(video_id, media_id, item, fallback_time)

    def _remember(self, video_id: str, media_id: str, item: dict[str, Any], fallback_time: datetime) -> Publication:
        """Keep the media a video became (its permalink and time from `item`) and forget its container."""
        published_at = _parse_time(item.get("timestamp")) or fallback_time
        url = str(item.get("permalink") or f"https://www.instagram.com/p/{media_id}/")
        record = {"remote_id": media_id, "url": url, "published_at": published_at.isoformat()}
        self.state.put(MEDIA_NS, self._key(video_id), json.dumps(record))
        self.state.delete(CONTAINER_NS, self._key(video_id))
        return Publication("instagram", self.account, video_id, media_id, url, published_at)

    def _container(self, video_id: str) -> dict[str, Any] | None:
        raw = self.state.get(CONTAINER_NS, self._key(video_id))
        return json.loads(raw) if raw else None

    def _save_container(self, video_id: str, container: dict[str, Any]) -> None:
        self.state.put(CONTAINER_NS, self._key(video_id), json.dumps(container))

    def _status(self, container_id: str) -> tuple[str, str]:
        item = self._graph_json(
            "GET", container_id, what=f"container {container_id} status", params={"fields": "status_code,status"}
        )
        return str(item.get("status_code") or ""), str(item.get("status") or "")

    def _listed(self, video_id: str) -> Publication | None:
        """The account's media whose caption carries the video's marker, newest first, page by page."""
        params: dict[str, Any] = {"fields": "id,caption,timestamp,permalink", "limit": 50}
        for _ in range(self.max_find_pages):
            listing = self._graph_json("GET", f"{self.user_id}/media", what="media list", params=params)
            for item in listing.get("data") or []:
                if isinstance(item, dict) and item.get("id") and carries_marker(item.get("caption"), video_id):
                    return self._record_listed(video_id, item)
            paging = listing.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return None
            params = {**params, "after": after}
        return None

    def _record_listed(self, video_id: str, item: dict[str, Any]) -> Publication:
        logger.info(f"instagram: {video_id} is already posted as {item['id']}; recorded, not posted again")
        return self._remember(video_id, str(item["id"]), item, self.clock())

    def find(self, video_id: str) -> Publication | None:
        self.auth.check_revoked()
        raw = self.state.get(MEDIA_NS, self._key(video_id))
        if raw:
            record = json.loads(raw)
            return Publication(
                "instagram",
                self.account,
                video_id,
                record["remote_id"],
                record["url"],
                datetime.fromisoformat(record["published_at"]),
            )
        container = self._container(video_id)
        if container is not None:
            status, _ = self._status(container["id"])
            if status != "PUBLISHED":
                return None  # the container is not a post yet, so no listing holds it
        return self._listed(video_id)

    def _check_cap(self, video_id: str) -> None:
        payload = self._graph_json(
            "GET",
            f"{self.user_id}/content_publishing_limit",
            what="content_publishing_limit",
            params={"fields": "quota_usage,config"},
        )
        data = (payload.get("data") or [{}])[0]
        usage = int(data.get("quota_usage") or 0)
        total = int((data.get("config") or {}).get("quota_total") or 50)
        if usage >= total:
            raise BudgetExhausted(
                f"instagram upload of {video_id}: the publishing cap is reached ({usage} of {total} posts in "
                "the last 24 hours); try again later"
            )

    def publish(self, request: PublishRequest) -> Publication:
        video_id = request.video_id
        name = f"instagram upload of {video_id}"
        existing = self.find(video_id)
        if existing is not None:
            return existing
        path = Path(request.video_path)
        if not path.is_file() or path.stat().st_size == 0:
            raise ProviderError(f"{name}: video file {path} is missing or empty")
        if not 3.0 <= request.duration_s <= 900.0:
            raise ProviderError(f"{name}: duration {request.duration_s:.1f} s is outside 3 s to 15 min")
        self._check_cap(video_id)
        self.state.put(DURATION_NS, f"{self.account}:{video_id}", str(request.duration_s))
        container = self._container(video_id)
        if container is not None:
            status, detail = self._status(container["id"])
            if status in {"ERROR", "EXPIRED"}:
                logger.warning(f"{name}: container {container['id']} is {status} ({detail}); starting a new one")
                container = None
        if container is None:
            container = self._create_container(request)
        if not container.get("uploaded"):
            self._upload(video_id, path, container)
            container["uploaded"] = True
            self._save_container(video_id, container)
        self._await_container(video_id, container)
        return self._publish_container(video_id, container)

    def _create_container(self, request: PublishRequest) -> dict[str, Any]:
        caption = self.caption(request)
        # An orphaned container from a lost answer is never published and expires in 24 hours.
        payload = self._graph_json(
            "POST",
            f"{self.user_id}/media",
            what=f"container for {request.video_id}",
            data={
                "media_type": "REELS",
                "upload_type": "resumable",
                "caption": caption,
                "share_to_feed": "true" if self.share_to_feed else "false",
            },
        )
        if not payload.get("id"):
            raise self.http.error(f"container for {request.video_id}: the answer has no id")
        container = {
            "id": str(payload["id"]),
            "uri": payload.get("uri") or f"{self.rupload_base_url}/{payload['id']}",
            "caption": caption,
        }
        self._save_container(request.video_id, container)
        return container

    def _upload(self, video_id: str, path: Path, container: dict[str, Any]) -> None:
        total = path.stat().st_size
        offset = 0
        for interruption in range(1, self.http.policy.attempts + 1):
            with open(path, "rb") as handle:
                handle.seek(offset)
                body = handle.read()
            try:
                response = self.http.request(
                    "POST",
                    container["uri"],
                    what=f"upload of {video_id} from byte {offset}",
                    token=self.auth,
                    auth_scheme="OAuth",
                    headers={
                        "offset": str(offset),
                        "file_size": str(total),
                        "Content-Type": "application/octet-stream",
                    },
                    content=body,
                    idempotent=False,
                    classify=_classify,
                )
            except OutcomeUnknown as exc:
                logger.warning(f"{exc}; asking the upload URL how much it holds")
                self.http.sleep(self.http.backoff(interruption))
                offset = self._uploaded_offset(container["uri"], video_id)
                continue
            payload = self.http.json(response, f"upload of {video_id}")
            if isinstance(payload, dict) and payload.get("success"):
                return
            raise self.http.error(f"upload of {video_id}: the upload was not accepted: {json.dumps(payload)[:200]}")
        raise self.http.error(
            f"upload of {video_id}: interrupted {self.http.policy.attempts} times; the container is kept to resume"
        )

    def _uploaded_offset(self, uri: str, video_id: str) -> int:
        try:
            response = self.http.request(
                "GET",
                uri,
                what=f"upload offset of {video_id}",
                token=self.auth,
                auth_scheme="OAuth",
                classify=_classify,
            )
            payload = self.http.json(response, f"upload offset of {video_id}")
            return int(payload.get("offset") or 0) if isinstance(payload, dict) else 0
        except ProviderError as exc:
            logger.warning(f"{exc}; resending from byte 0")
            return 0

    def _await_container(self, video_id: str, container: dict[str, Any]) -> None:
        for poll in range(max(1, self.status_polls)):
            status, detail = self._status(container["id"])
            if status in {"FINISHED", "PUBLISHED"}:
                return
            if status in {"ERROR", "EXPIRED"}:
                self.state.delete(CONTAINER_NS, self._key(video_id))
                raise ProviderError(
                    f"instagram upload of {video_id}: container {container['id']} is {status}: {detail}; "
                    "the next attempt starts a new container"
                )
            if poll + 1 < self.status_polls:
                self.http.sleep(self.status_poll_interval_s)
        raise ProviderError(
            f"instagram upload of {video_id}: container {container['id']} is still processing; "
            "the next attempt resumes waiting for it"
        )

    def _publish_container(self, video_id: str, container: dict[str, Any]) -> Publication:
        what = f"media_publish of {video_id}"
        for attempt in range(1, self.publish_not_ready_attempts + 1):
            try:
                response = self._graph(
                    "POST",
                    f"{self.user_id}/media_publish",
                    what=what,
                    data={"creation_id": container["id"]},
                    idempotent=False,
                    accept={400},
                )
            except OutcomeUnknown as exc:
                logger.warning(f"{exc}; reading the container before publishing again")
                status, _ = self._status(container["id"])
                if status == "PUBLISHED":
                    found = self._listed(video_id)
                    if found is not None:
                        return found
                    raise ProviderError(f"{exc}; the container is PUBLISHED but its media was not found yet") from None
                continue
            if response.status_code == 400:
                error = _error(response)
                if (error.get("code"), error.get("error_subcode")) == NOT_READY:
                    self.http.sleep(self.http.backoff(attempt) + self.status_poll_interval_s)
                    self._await_container(video_id, container)
                    continue
                raise self.http.failure(response, what)
            payload = self.http.json(response, what)
            media_id = payload.get("id") if isinstance(payload, dict) else None
            if not media_id:
                raise self.http.error(f"{what}: the answer has no media id")
            return self._record(video_id, str(media_id), self.clock())
        raise ProviderError(
            f"instagram {what}: the media was still not ready after {self.publish_not_ready_attempts} tries; the container is kept"
        )

    # --- reads ------------------------------------------------------------------------------------------

    def _duration(self, publication: Publication) -> float | None:
        raw = self.state.get(DURATION_NS, f"{publication.account}:{publication.video_id}")
        return float(raw) if raw else None

    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]:
        mine = [p for p in publications if p.platform == "instagram"]
        snapshots: list[MetricSnapshot] = []
        failures: list[str] = []
        for publication in mine:
            try:
                response = self._graph(
                    "GET",
                    f"{publication.remote_id}/insights",
                    what=f"insights of {publication.remote_id}",
                    params={"metric": ",".join(INSIGHT_METRICS)},
                    accept={400},
                )
            except BudgetExhausted as exc:
                raise PartialResultError(str(exc), snapshots) from None
            except ProviderError as exc:
                failures.append(str(exc))
                continue
            if response.status_code == 400:
                if _error(response).get("code") == 10:
                    logger.info(f"instagram {publication.remote_id}: not enough viewers for insights yet")
                    continue
                failures.append(str(self.http.failure(response, f"insights of {publication.remote_id}")))
                continue
            payload = self.http.json(response, f"insights of {publication.remote_id}")
            values: dict[str, float] = {}
            for item in payload.get("data") or []:
                entry = (item.get("values") or [{}])[0] if item.get("values") else item.get("total_value") or {}
                values[str(item.get("name"))] = float(entry.get("value") or 0)
            duration = self._duration(publication)
            avg_ms = values.get("ig_reels_avg_watch_time")
            snapshots.append(
                MetricSnapshot(
                    platform="instagram",
                    remote_id=publication.remote_id,
                    fetched_at=now,
                    window="lifetime",
                    age_hours=max(0.0, (now - publication.published_at).total_seconds() / 3600.0),
                    views=int(values.get("views", 0)),
                    likes=int(values.get("likes", 0)),
                    comments=int(values.get("comments", 0)),
                    shares=int(values.get("shares", 0)),
                    avg_view_pct=min(100.0, avg_ms / 10.0 / duration) if avg_ms is not None and duration else -1.0,
                    watch_time_s=values["ig_reels_video_view_total_time"] / 1000.0
                    if "ig_reels_video_view_total_time" in values
                    else -1.0,
                )
            )
        if failures:
            raise PartialResultError(
                f"instagram insights failed for {len(failures)} of {len(mine)} media; first: {failures[0]}", snapshots
            )
        return snapshots

    def supports_comments(self, platform: str) -> bool:
        return platform == "instagram"

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]:
        comments: list[Comment] = []
        after: str | None = None
        fields = "id,text,timestamp,username,like_count,parent_id,replies{id,text,timestamp,username,like_count}"
        for _ in range(self.max_comment_pages):
            params: dict[str, Any] = {"fields": fields, "limit": 50}
            if after:
                params["after"] = after
            payload = self._graph_json(
                "GET", f"{publication.remote_id}/comments", what=f"comments of {publication.remote_id}", params=params
            )
            for item in payload.get("data") or []:
                comments.append(self._comment(publication, item, item.get("parent_id")))
                for reply in (item.get("replies") or {}).get("data") or []:
                    comments.append(self._comment(publication, reply, str(item["id"])))
            paging = payload.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
        return comments

    @staticmethod
    def _comment(publication: Publication, item: dict[str, Any], parent: str | None) -> Comment:
        return Comment(
            platform="instagram",
            remote_id=publication.remote_id,
            comment_id=str(item["id"]),
            author=str(item.get("username") or (item.get("from") or {}).get("username") or ""),
            text=str(item.get("text") or ""),
            published_at=_parse_time(item.get("timestamp")) or publication.published_at,
            like_count=int(item.get("like_count") or 0),
            parent_id=parent,
        )
