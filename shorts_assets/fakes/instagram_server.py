"""A fake of the Instagram Graph API for Reels: containers, rupload, status, media_publish, the
publishing limit, media insights and comments, and long-lived token refresh.

It enforces: REELS containers with either ``video_url`` or ``upload_type=resumable``; caption
limits; rupload ``offset``/``file_size`` headers and contiguity (a ``GET`` on the upload URL tells
how many bytes are held); the container status machine (IN_PROGRESS, FINISHED, ERROR, EXPIRED,
PUBLISHED); 9007/2207027 when publishing a container that is not ready; the 50-per-24-hours cap
(9/2207042); retired insight metrics refused (code 100); code 190 for an invalid token; the
account's media listed newest first with only the ``fields`` asked for, ``limit`` (default 25, at
most 100) and cursor paging (``paging.cursors.after``, ``paging.next`` while more remain). Mount the
adapter's graph base at ``/v21.0``, its rupload base at ``/rupload/ig-api-upload/v21.0`` and its
token refresh URL at ``/refresh_access_token``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

VERSION = "v21.0"
RETIRED = {"plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count", "impressions", "video_views"}
CURRENT = {
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
}

MEDIA_FIELDS = {"id", "caption", "timestamp", "permalink", "media_product_type", "media_type"}


def graph_error(
    code: int, message: str, subcode: int | None = None, status: int = 400, transient: bool = False
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_response(status, {"error": error})


@dataclass
class Container:
    id: str
    caption: str
    file_size: int | None = None
    data: bytearray = field(default_factory=bytearray)
    status: str = "IN_PROGRESS"
    polls_left: int = 1
    outcome: str = "FINISHED"
    media_id: str | None = None


@dataclass
class Media:
    id: str
    caption: str
    timestamp: str
    insights: dict[str, int] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    not_enough_viewers: bool = False


class FakeInstagram(FakeApp):
    def __init__(self, user_id: str = "17841400000000001", token: str = "IGQVJlong-lived-token-0") -> None:
        super().__init__()
        self.user_id = user_id
        self.valid_tokens = {token}
        self.token_counter = itertools.count(1)
        self.ids = itertools.count(1)
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Media] = {}
        self.published_24h = 0
        self.quota_total = 50
        self.processing_polls = 1
        self.next_outcomes: list[str] = []
        self.drop_upload_keep: list[int] = []

    # --- test helpers ---------------------------------------------------------------------------

    def invalidate(self, token: str) -> None:
        with self.lock:
            self.valid_tokens.discard(token)

    def add_media(self, media_id: str, **fields: Any) -> Media:
        with self.lock:
            media = Media(media_id, fields.pop("caption", ""), fields.pop("timestamp", "2026-11-27T10:00:00+0000"))
            for key, value in fields.items():
                setattr(media, key, value)
            self.media[media_id] = media
            return media

    # --- routing --------------------------------------------------------------------------------

    def route(self, request: Request):
        m, p = request.method, request.path
        if p == "/refresh_access_token" and m == "GET":
            return "refresh_access_token", self.refresh
        if p.startswith("/rupload/ig-api-upload/"):
            return ("rupload", self.rupload) if m == "POST" else ("rupload.status", self.rupload_status)
        match = re.fullmatch(rf"/{VERSION}/(\w+)(?:/(\w+))?", p)
        if not match:
            raise LookupError(p)
        node, edge = match.groups()
        if node == self.user_id:
            handlers = {
                ("POST", "media"): ("media.create", self.create_container),
                ("GET", "media"): ("media.list", self.list_media),
                ("POST", "media_publish"): ("media_publish", self.media_publish),
                ("GET", "content_publishing_limit"): ("content_publishing_limit", self.publishing_limit),
            }
            if (m, edge) in handlers:
                return handlers[(m, edge)]
        if m == "GET" and edge is None and node in self.containers:
            return "container.status", self.container_status
        if m == "GET" and node in self.media:
            return {
                None: ("media.get", self.media_get),
                "insights": ("insights", self.insights),
                "comments": ("comments", self.comments),
            }[edge]
        if m == "GET" and edge is None:
            return "unknown.get", lambda r: graph_error(
                100, f"Unsupported get request. Object with ID '{node}' does not exist"
            )
        raise LookupError(p)

    def _token(self, request: Request, scheme: str = "Bearer") -> Response | None:
        auth = request.headers.get("authorization", "")
        token = auth[len(scheme) + 1 :] if auth.startswith(scheme + " ") else request.query.get("access_token")
        if token not in self.valid_tokens:
            return graph_error(190, "Error validating access token: Session has expired.", 463)
        return None

    def refresh(self, request: Request) -> Response:
        if request.query.get("grant_type") != "ig_refresh_token":
            return graph_error(100, "grant_type must be ig_refresh_token")
        if request.query.get("access_token") not in self.valid_tokens:
            return graph_error(190, "Error validating access token: Session has expired.", 463)
        token = f"IGQVJlong-lived-token-{next(self.token_counter)}"
        self.valid_tokens.add(token)
        return json_response(200, {"access_token": token, "token_type": "bearer", "expires_in": 5183944})

    # --- publishing ----------------------------------------------------------------------------------

    def create_container(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        form = {**request.query, **request.form()}
        if form.get("media_type") != "REELS":
            return graph_error(100, "media_type must be REELS for a Reel")
        if ("video_url" in form) == (form.get("upload_type") == "resumable"):
            return graph_error(100, "Provide either video_url or upload_type=resumable")
        caption = form.get("caption", "")
        if len(caption) > 2200 or len(re.findall(r"#\w+", caption)) > 30 or len(re.findall(r"@\w+", caption)) > 20:
            return graph_error(100, "The caption is too long or has too many hashtags or mentions", 2207018)
        if len(self.containers) >= 400:
            return graph_error(4, "Too many containers in 24 hours", 2207051)
        cid = f"1790{next(self.ids):013d}"
        self.containers[cid] = Container(
            cid,
            caption,
            polls_left=self.processing_polls,
            outcome=self.next_outcomes.pop(0) if self.next_outcomes else "FINISHED",
        )
        return json_response(200, {"id": cid, "uri": f"{self.base_url}/rupload/ig-api-upload/{VERSION}/{cid}"})

    def _upload_container(self, request: Request) -> Container | None:
        return self.containers.get(request.path.rsplit("/", 1)[-1])

    def rupload(self, request: Request) -> Response | None:
        if (denied := self._token(request, "OAuth")) is not None:
            return denied
        container = self._upload_container(request)
        if container is None:
            return json_response(
                404, {"debug_info": {"retriable": False, "type": "NotFound", "message": "no container"}}
            )
        try:
            offset = int(request.headers["offset"])
            file_size = int(request.headers["file_size"])
        except (KeyError, ValueError):
            return json_response(
                400,
                {
                    "debug_info": {
                        "retriable": False,
                        "type": "BadRequest",
                        "message": "offset and file_size headers are required",
                    }
                },
            )
        if (
            container.file_size not in (None, file_size)
            or offset > len(container.data)
            or offset + len(request.body) > file_size
        ):
            return json_response(
                400,
                {
                    "debug_info": {
                        "retriable": False,
                        "type": "ProcessingFailedError",
                        "message": "offset or file_size does not match the upload",
                    }
                },
            )
        del container.data[offset:]
        container.file_size = file_size
        if self.drop_upload_keep:
            container.data += request.body[: self.drop_upload_keep.pop(0)]
            return None
        container.data += request.body
        if len(container.data) != file_size:
            return json_response(
                400, {"debug_info": {"retriable": True, "type": "PartialUpload", "message": "upload incomplete"}}
            )
        return json_response(200, {"success": True, "message": "Upload successful."})

    def rupload_status(self, request: Request) -> Response:
        if (denied := self._token(request, "OAuth")) is not None:
            return denied
        container = self._upload_container(request)
        if container is None:
            return json_response(
                404, {"debug_info": {"retriable": False, "type": "NotFound", "message": "no container"}}
            )
        return json_response(200, {"offset": len(container.data)})

    def container_status(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        container = self.containers[request.path.rsplit("/", 1)[-1]]
        if container.status == "IN_PROGRESS" and container.file_size and len(container.data) == container.file_size:
            if container.polls_left > 0:
                container.polls_left -= 1
            else:
                container.status = container.outcome
        body: dict[str, Any] = {"id": container.id, "status_code": container.status}
        if container.status == "ERROR":
            body["status"] = "Error: Media upload has failed with error code 2207053"
        elif container.status == "EXPIRED":
            body["status"] = "Error: The container was not published within 24 hours"
        else:
            body["status"] = container.status.capitalize()
        return json_response(200, body)

    def publishing_limit(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        return json_response(
            200,
            {
                "data": [
                    {
                        "quota_usage": self.published_24h,
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                    }
                ]
            },
        )

    def media_publish(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        form = {**request.query, **request.form()}
        container = self.containers.get(form.get("creation_id", ""))
        if container is None:
            return graph_error(100, "Invalid creation_id")
        if container.status == "PUBLISHED":
            return graph_error(100, "The container was already published", 2207008)
        if container.status == "EXPIRED":
            return graph_error(-2, "The media container has expired", 2207020)
        if container.status != "FINISHED":
            return graph_error(9007, "Media ID is not available", 2207027)
        if self.published_24h >= self.quota_total:
            return graph_error(9, "Application request limit reached", 2207042)
        self.published_24h += 1
        media_id = f"1780{next(self.ids):013d}"
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
        self.media[media_id] = Media(media_id, container.caption, now)
        container.status, container.media_id = "PUBLISHED", media_id
        return json_response(200, {"id": media_id})

    # --- reads -------------------------------------------------------------------------------------

    def list_media(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        q = request.query
        fields = [f for f in q.get("fields", "id").split(",") if f]
        if not set(fields) <= MEDIA_FIELDS:
            return graph_error(
                100, f"(#100) Tried accessing nonexisting field ({sorted(set(fields) - MEDIA_FIELDS)[0]})"
            )
        try:
            limit = int(q.get("limit", "25"))
        except ValueError:
            return graph_error(100, "(#100) limit must be an integer")
        if not 1 <= limit <= 100:
            return graph_error(100, "(#100) limit must be within 1..100")
        newest_first = list(reversed(list(self.media.values())))
        start = 0
        if "after" in q:
            match = re.fullmatch(r"QVFI(\d+)", q["after"])
            if not match or int(match.group(1)) > len(newest_first):
                return graph_error(100, "(#100) The after cursor is invalid")
            start = int(match.group(1))
        page = newest_first[start : start + limit]
        items = []
        for m in page:
            item = {
                "id": m.id,
                "caption": m.caption,
                "timestamp": m.timestamp,
                "permalink": f"https://www.instagram.com/reel/{m.id[-8:]}/",
                "media_product_type": "REELS",
                "media_type": "VIDEO",
            }
            items.append({k: v for k, v in item.items() if k in fields or k == "id"})
        body: dict[str, Any] = {"data": items}
        if page:
            body["paging"] = {"cursors": {"before": f"QVFI{start}", "after": f"QVFI{start + len(page)}"}}
            if start + len(page) < len(newest_first):
                body["paging"]["next"] = (
                    f"{self.base_url}/{VERSION}/{self.user_id}/media?fields={','.join(fields)}"
                    f"&limit={limit}&after=QVFI{start + len(page)}"
                )
        return json_response(200, body)

    def media_get(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        media = self.media[request.path.rsplit("/", 1)[-1]]
        return json_response(
            200,
            {
                "id": media.id,
                "permalink": f"https://www.instagram.com/reel/{media.id[-8:]}/",
                "timestamp": media.timestamp,
                "media_product_type": "REELS",
                "like_count": media.insights.get("likes", 0),
                "comments_count": media.insights.get("comments", 0),
            },
        )

    def insights(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        media = self.media[request.path.split("/")[-2]]
        metrics = [m for m in request.query.get("metric", "").split(",") if m]
        retired = [m for m in metrics if m in RETIRED]
        if retired or not metrics or not set(metrics) <= CURRENT:
            return graph_error(
                100, f"(#100) metric[0] must be one of the following values: {', '.join(sorted(CURRENT))}"
            )
        if media.not_enough_viewers:
            return graph_error(10, "(#10) Not enough viewers for the media to show insights")
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": media.insights[m]}],
                "title": m,
                "description": m,
                "id": f"{media.id}/insights/{m}/lifetime",
            }
            for m in metrics
            if m in media.insights
        ]
        return json_response(200, {"data": data})

    def comments(self, request: Request) -> Response:
        if (denied := self._token(request)) is not None:
            return denied
        media = self.media[request.path.split("/")[-2]]
        limit = int(request.query.get("limit", "25"))
        start = int(request.query["after"][3:]) if request.query.get("after", "").startswith("cur") else 0
        page = media.comments[start : start + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            body["paging"] = {"cursors": {"before": f"cur{start}", "after": f"cur{start + len(page)}"}}
            if start + limit < len(media.comments):
                body["paging"]["next"] = f"{self.base_url}/{VERSION}/{media.id}/comments?after=cur{start + len(page)}"
        return json_response(200, body)
