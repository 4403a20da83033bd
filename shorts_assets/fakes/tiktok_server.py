"""A fake of TikTok's Content Posting API (creator_info, direct-post init, inbox (draft) init, chunk
upload, status), the Display API video query and OAuth refresh with rotating refresh tokens.

It enforces: the ``error.code`` envelope; per-token limits per minute (creator_info 20, init 6,
status 30, video query 600) answered with 429 ``rate_limit_exceeded``; each call's scope
(``video.publish`` for creator_info and direct posts, ``video.upload`` for drafts, either for the
status, ``video.list`` for the Display API) against the scopes the account granted, else 401
``scope_not_authorized``; per account (``add_account``) its own creator info and privacy levels;
``privacy_level`` within the account's options (``privacy_level_option_mismatch``); an unaudited
client (``audited=False``) posting anything but ``SELF_ONLY`` (403
``unaudited_client_can_only_post_to_private_accounts``); the inbox init body holding ``source_info``
only, and at most 5 drafts pending in an account's inbox (``spam_risk_too_many_pending_share``); a
draft's status ending at ``SEND_TO_USER_INBOX`` until the creator posts it (``creator_posts``);
duration within the creator's maximum; the chunk rules (5–64 MB chunks, the last
absorbing the remainder, one chunk under 5 MB, ``total_chunk_count = floor(size / chunk)``); chunk
PUTs in order with matching ``Content-Range``; ≤20 ids per video query; a used refresh token stops
working; the creator's video list (``/v2/video/list/``: the public posts newest first, ``max_count``
≤20, a millisecond ``cursor`` and ``has_more``, only the ``fields`` asked for). Mount the adapter's
base URL at the server root.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

MB = 1024 * 1024
LIMITS = {"creator_info": 20, "init": 6, "inbox.init": 6, "status": 30, "video.query": 600, "video.list": 600}
VIDEO_FIELDS = {
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
}


def envelope(status: int, code: str = "ok", message: str = "", data: Any = None) -> Response:
    return json_response(
        status,
        {
            "data": data if data is not None else {},
            "error": {"code": code, "message": message, "log_id": "20261127LOG"},
        },
    )


SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")
SCOPE_OF = {
    "creator_info": ("video.publish",),
    "init": ("video.publish",),
    "inbox.init": ("video.upload",),
    "status": ("video.publish", "video.upload"),
    "video.query": ("video.list",),
    "video.list": ("video.list",),
}
MAX_PENDING_DRAFTS = 5


@dataclass
class Account:
    open_id: str
    creator: dict[str, Any]
    scopes: set[str] = field(default_factory=lambda: set(SCOPES))


@dataclass
class Publish:
    id: str
    size: int
    chunk_size: int
    count: int
    post_info: dict[str, Any]
    open_id: str = "open-1"
    inbox: bool = False
    received: int = 0
    status: str = "PROCESSING_UPLOAD"
    polls_left: int = 1
    outcome: str = "PUBLISH_COMPLETE"
    fail_reason: str = ""
    post_id: str | None = None
    last_start: int = -1


@dataclass
class Video:
    id: str
    stats: dict[str, int] = field(
        default_factory=lambda: {"view_count": 0, "like_count": 0, "comment_count": 0, "share_count": 0}
    )
    duration: int = 30
    create_time: int = 0
    caption: str = ""
    privacy_level: str = "PUBLIC_TO_EVERYONE"
    listed_ms: int = 0  # the list's cursor key: creation in milliseconds, unique


class FakeTikTok(FakeApp):
    def __init__(
        self,
        client_key: str = "awclientkey123",
        client_secret: str = "tt-client-secret-value",
        refresh_token: str = "rft.refresh-0",
        audited: bool = True,
    ) -> None:
        super().__init__()
        self.client_key = client_key
        self.client_secret = client_secret
        self.audited = audited  # an unaudited client may only post SELF_ONLY
        self.refresh_tokens = {refresh_token}
        self.access_tokens: set[str] = set()
        self.owner: dict[str, str] = {refresh_token: "open-1"}  # refresh or access token -> open_id
        self.counter = itertools.count(1)
        self.windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.creator = {
            "creator_avatar_url": "https://p16.example/avatar.jpg",
            "creator_username": "demo.shorts",
            "creator_nickname": "Demo",
            "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
            "comment_disabled": False,
            "duet_disabled": True,
            "stitch_disabled": False,
            "max_video_post_duration_sec": 600,
        }
        self.accounts = {"open-1": Account("open-1", self.creator)}
        self.publishes: dict[str, Publish] = {}
        self.videos: dict[str, Video] = {}
        self.posted = 0
        self.processing_polls = 1
        self.moderation_polls = 0
        self.next_outcomes: list[tuple[str, str]] = []

    def add_video(self, video_id: str | None = None, **fields: Any) -> Video:
        """A post on the creator's account (as publishing makes one), newer than every other."""
        with self.lock:
            video_id = video_id or f"7{next(self.counter):018d}"
            now_ms = int(time.time() * 1000)
            newest = max((v.listed_ms for v in self.videos.values()), default=0)
            video = Video(video_id, create_time=now_ms // 1000, listed_ms=max(now_ms, newest + 1))
            for key, value in fields.items():
                setattr(video, key, value)
            self.videos[video_id] = video
            return video

    def add_account(self, refresh_token: str, scopes: tuple[str, ...] = SCOPES, **creator: Any) -> Account:
        """Another creator who authorised the app: their own refresh token, scopes and creator info."""
        with self.lock:
            open_id = f"open-{len(self.accounts) + 1}"
            info = {**self.creator, "creator_username": f"creator{len(self.accounts) + 1}", **creator}
            account = Account(open_id, info, set(scopes))
            self.accounts[open_id] = account
            self.refresh_tokens.add(refresh_token)
            self.owner[refresh_token] = open_id
            return account

    def creator_posts(self, publish_id: str) -> str:
        """The creator posts a draft from their inbox: it becomes a public post; its id."""
        with self.lock:
            publish = self.publishes[publish_id]
            if publish.status != "SEND_TO_USER_INBOX":
                raise ValueError(f"{publish_id} is {publish.status}, not in the inbox")
            video = self.add_video(caption="posted by the creator from their inbox")
            publish.status, publish.post_id, publish.polls_left = "PUBLISH_COMPLETE", video.id, 0
            self.posted += 1
            return video.id

    def drafts(self, open_id: str = "open-1") -> list[Publish]:
        """The drafts waiting in an account's inbox."""
        with self.lock:
            return [p for p in self.publishes.values() if p.open_id == open_id and p.status == "SEND_TO_USER_INBOX"]

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def route(self, request: Request):
        routes = {
            ("POST", "/v2/oauth/token/"): ("oauth.token", self.token),
            ("POST", "/v2/post/publish/creator_info/query/"): ("creator_info", self.creator_info),
            ("POST", "/v2/post/publish/video/init/"): ("init", self.init),
            ("POST", "/v2/post/publish/inbox/video/init/"): ("inbox.init", self.inbox_init),
            ("POST", "/v2/post/publish/status/fetch/"): ("status", self.status),
            ("POST", "/v2/video/query/"): ("video.query", self.video_query),
            ("POST", "/v2/video/list/"): ("video.list", self.video_list),
        }
        if (request.method, request.path) in routes:
            return routes[(request.method, request.path)]
        if request.method == "PUT" and request.path.startswith("/upload/"):
            return "upload.put", self.upload
        raise LookupError(request.path)

    def _account(self, request: Request) -> Account:
        auth = request.headers.get("authorization", "")
        return self.accounts[self.owner[auth[7:]]]

    def _auth(self, request: Request, limit: str | None = None) -> Response | None:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.access_tokens:
            return envelope(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        needed = SCOPE_OF.get(limit or "", ())
        if needed and not set(needed) & self.accounts[self.owner[token]].scopes:
            return envelope(
                401, "scope_not_authorized", f"The user did not authorize the scope required: {' or '.join(needed)}."
            )
        if limit is not None:
            window = self.windows[(limit, token)]
            now = time.monotonic()
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= LIMITS[limit]:
                return envelope(429, "rate_limit_exceeded", "API rate limit was exceeded")
            window.append(now)
        return None

    def token(self, request: Request) -> Response:
        form = request.form()
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return json_response(
                401, {"error": "invalid_client", "error_description": "client_key or secret", "log_id": "x"}
            )
        if form.get("grant_type") != "refresh_token":
            return json_response(400, {"error": "unsupported_grant_type", "error_description": "", "log_id": "x"})
        if form.get("refresh_token") not in self.refresh_tokens:
            return json_response(
                400,
                {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired.", "log_id": "x"},
            )
        self.refresh_tokens.discard(form["refresh_token"])
        account = self.accounts[self.owner.get(form["refresh_token"], "open-1")]
        n = next(self.counter)
        access, refresh = f"act.access-{n:04d}", f"rft.refresh-{n}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        self.owner[access] = self.owner[refresh] = account.open_id
        return json_response(
            200,
            {
                "access_token": access,
                "expires_in": 7200,
                "open_id": account.open_id,
                "refresh_token": refresh,
                "refresh_expires_in": 15552000,
                "scope": ",".join(sorted(account.scopes)),
                "token_type": "Bearer",
            },
        )

    def creator_info(self, request: Request) -> Response:
        if (denied := self._auth(request, "creator_info")) is not None:
            return denied
        return envelope(200, data=self._account(request).creator)

    def init(self, request: Request) -> Response:
        if (denied := self._auth(request, "init")) is not None:
            return denied
        account = self._account(request)
        body = request.json() or {}
        post, source = body.get("post_info") or {}, body.get("source_info") or {}
        if post.get("privacy_level") not in account.creator["privacy_level_options"]:
            return envelope(400, "privacy_level_option_mismatch", "privacy_level is not one of the creator's options")
        if not self.audited and post.get("privacy_level") != "SELF_ONLY":
            return envelope(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account and with the SELF_ONLY privacy level.",
            )
        if len(str(post.get("title", "")).encode("utf-16-le")) // 2 > 2200:
            return envelope(400, "invalid_params", "title is too long")
        if not isinstance(post.get("is_aigc", False), bool):
            return envelope(400, "invalid_params", "is_aigc must be a boolean")
        return self._start(account, post, source, inbox=False)

    def inbox_init(self, request: Request) -> Response:
        if (denied := self._auth(request, "inbox.init")) is not None:
            return denied
        account = self._account(request)
        body = request.json() or {}
        if not isinstance(body, dict) or set(body) != {"source_info"}:
            return envelope(
                400, "invalid_params", "the inbox init takes source_info only (the creator writes the post)"
            )
        if len(self.drafts(account.open_id)) >= MAX_PENDING_DRAFTS:
            return envelope(
                403, "spam_risk_too_many_pending_share", "The user has too many pending drafts in their inbox."
            )
        return self._start(account, {}, body.get("source_info") or {}, inbox=True)

    def _start(self, account: Account, post: dict[str, Any], source: dict[str, Any], *, inbox: bool) -> Response:
        if source.get("source") != "FILE_UPLOAD":
            return envelope(400, "invalid_params", "only FILE_UPLOAD is faked")
        size, chunk, count = (int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count"))
        if size <= 0:
            return envelope(400, "invalid_params", "video_size")
        if size < 5 * MB:
            ok = chunk == size and count == 1
        else:
            ok = (
                5 * MB <= chunk <= 64 * MB
                and count == size // chunk
                and 1 <= count <= 1000
                and size - chunk * (count - 1) <= 128 * MB
            )
        if not ok:
            return envelope(400, "invalid_params", "chunk_size and total_chunk_count break the chunk rules")
        pid = f"v_pub_file~v2-1.{next(self.counter):08d}"
        outcome, reason = self.next_outcomes.pop(0) if self.next_outcomes else ("PUBLISH_COMPLETE", "")
        self.publishes[pid] = Publish(
            pid,
            size,
            chunk,
            count,
            post,
            account.open_id,
            inbox,
            polls_left=self.processing_polls,
            outcome=outcome,
            fail_reason=reason,
        )
        return envelope(
            200, data={"publish_id": pid, "upload_url": f"{self.base_url}/upload/?upload_id={pid}&upload_token=tok"}
        )

    def upload(self, request: Request) -> Response:
        publish = self.publishes.get(request.query.get("upload_id", ""))
        if publish is None:
            return envelope(404, "invalid_params", "upload_url expired or unknown")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", ""))
        if not match or request.headers.get("content-type") not in {"video/mp4", "video/quicktime", "video/webm"}:
            return envelope(400, "invalid_file_upload", "Content-Range and Content-Type are required")
        first, last, total = (int(g) for g in match.groups())
        index = first // publish.chunk_size
        expected_last = publish.size - 1 if index == publish.count - 1 else first + publish.chunk_size - 1
        if (
            total != publish.size
            or first % publish.chunk_size
            or index >= publish.count
            or last != expected_last
            or len(request.body) != last - first + 1
        ):
            return envelope(416, "invalid_file_upload", "the chunk does not follow the declared chunking")
        if first == publish.last_start and publish.received >= last + 1:
            pass  # the same chunk again
        elif first != publish.received:
            return envelope(416, "invalid_file_upload", "chunks must be sent in order")
        else:
            publish.received = last + 1
            publish.last_start = first
        if publish.received == publish.size:
            return Response(201, b"")
        return Response(206, b"", {"Range": f"bytes=0-{publish.received - 1}"})

    def status(self, request: Request) -> Response:
        if (denied := self._auth(request, "status")) is not None:
            return denied
        publish = self.publishes.get((request.json() or {}).get("publish_id", ""))
        if publish is None:
            return envelope(400, "invalid_params", "publish_id not found")
        if publish.status == "PROCESSING_UPLOAD" and publish.received == publish.size:
            if publish.polls_left > 0:
                publish.polls_left -= 1
            elif publish.outcome == "FAILED":
                publish.status = "FAILED"
            elif publish.inbox:
                publish.status = "SEND_TO_USER_INBOX"  # the creator is notified; nothing is posted yet
            else:
                publish.status = "PUBLISH_COMPLETE"
                self.posted += 1
                vid = f"7{next(self.counter):018d}"
                self.add_video(
                    vid,
                    caption=str(publish.post_info.get("title", "")),
                    privacy_level=str(publish.post_info.get("privacy_level", "")),
                )
                publish.post_id = vid
                publish.polls_left = self.moderation_polls
        elif publish.status == "PUBLISH_COMPLETE" and publish.polls_left > 0:
            publish.polls_left -= 1
        data: dict[str, Any] = {"status": publish.status, "uploaded_bytes": publish.received}
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.status == "PUBLISH_COMPLETE":
            data["publicaly_available_post_id"] = [publish.post_id] if publish.polls_left == 0 else []
        return envelope(200, data=data)

    def video_query(self, request: Request) -> Response:
        if (denied := self._auth(request, "video.query")) is not None:
            return denied
        fields = set(request.query.get("fields", "").split(","))
        ids = ((request.json() or {}).get("filters") or {}).get("video_ids") or []
        if not ids or len(ids) > 20:
            return envelope(400, "invalid_params", "video_ids must hold 1 to 20 ids")
        videos = []
        for vid in ids:
            video = self.videos.get(vid)
            if video is None:
                continue
            item = {
                "id": vid,
                "duration": video.duration,
                "create_time": video.create_time,
                **video.stats,
                "share_url": f"https://www.tiktok.com/@demo.shorts/video/{vid}",
            }
            videos.append({k: v for k, v in item.items() if k in fields})
        return envelope(200, data={"videos": videos, "cursor": 0, "has_more": False})

    def video_list(self, request: Request) -> Response:
        if (denied := self._auth(request, "video.list")) is not None:
            return denied
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields or not set(fields) <= VIDEO_FIELDS:
            return envelope(400, "invalid_params", f"fields must be among {', '.join(sorted(VIDEO_FIELDS))}")
        body = request.json() or {}
        max_count = body.get("max_count", 10)
        if not isinstance(max_count, int) or not 1 <= max_count <= 20:
            return envelope(400, "invalid_params", "max_count must be within 1..20")
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, int):
            return envelope(400, "invalid_params", "cursor must be a UTC Unix timestamp in milliseconds")
        public = sorted((v for v in self.videos.values() if v.privacy_level != "SELF_ONLY"), key=lambda v: -v.listed_ms)
        older = [v for v in public if cursor is None or v.listed_ms < cursor]
        page = older[:max_count]
        videos = []
        for video in page:
            item = {
                "id": video.id,
                "create_time": video.create_time,
                "share_url": f"https://www.tiktok.com/@{self.creator['creator_username']}/video/{video.id}",
                "video_description": video.caption,
                "title": video.caption,
                "duration": video.duration,
                **video.stats,
            }
            videos.append({k: v for k, v in item.items() if k in fields})
        next_cursor = page[-1].listed_ms if page else (cursor or 0)
        return envelope(200, data={"videos": videos, "cursor": next_cursor, "has_more": len(older) > len(page)})
