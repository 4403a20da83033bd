"""A fake of Google OAuth, the YouTube Data API v3 (resumable videos.insert, videos.list,
commentThreads.list) and the YouTube Analytics API (reports.query).

It enforces the documented rules: the resumable protocol's headers and totals, 256 KiB chunk
alignment, contiguity (a non-contiguous block stores nothing), 308 with ``Range`` (none while no
byte is held), replaying 201 after completion, 404 for an expired session; video metadata limits;
≤50 ids per videos.list; commentThreads paging and ``maxResults`` bounds; the channel's uploads
playlist (``channels.list`` with ``mine=true``, then ``playlistItems.list`` newest first, paged by
``pageToken``, ``maxResults`` 0-50, default 5); quota units per call (``current`` model, the API's
today: uploads have their own bucket of 100 calls a day and every other call spends the 10,000-unit
bucket, a list page 1, thumbnails.set 50; ``legacy`` model: videos.insert costs 1600 of the 10,000);
an upload must state ``status.selfDeclaredMadeForKids`` (an unset audience leaves it incomplete in
YouTube Studio); ``thumbnails.set`` (``/upload/youtube/v3/thumbnails/set?videoId=``) needs a JPEG or
PNG body of at most 2 MB for a video of this channel, on a channel allowed custom thumbnails. Serve it
with ``FakeServer``; mount the adapter's base URLs at ``/youtube/v3``, ``/upload/youtube/v3``,
``/v2`` and ``/token``.
"""

from __future__ import annotations

import base64
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

CHUNK_ALIGN = 256 * 1024
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "application/octet-stream"}
QUOTA_MODELS = ("current", "legacy")
CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28"}
PRIVACY = {"public", "unlisted", "private"}
ANALYTICS_METRICS = {
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "averageViewPercentage",
    "likes",
    "dislikes",
    "shares",
    "comments",
    "subscribersGained",
    "subscribersLost",
}
INTEGER_METRICS = {
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "likes",
    "dislikes",
    "shares",
    "comments",
    "subscribersGained",
    "subscribersLost",
}


def yt_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> Response:
    return json_response(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        },
    )


@dataclass
class Session:
    total: int
    content_type: str
    resource: dict[str, Any]
    parts: list[str]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    expired: bool = False


@dataclass
class Video:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    outcome: str = "processed"  # processed | failed | rejected
    polls_until_done: int = 0
    statistics: dict[str, int] = field(default_factory=lambda: {"viewCount": 0, "likeCount": 0, "commentCount": 0})
    analytics: dict[str, float] | None = None
    comments_disabled: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    channel_id: str = ""
    thumbnail: bytes | None = None


class FakeYouTube(FakeApp):
    def __init__(
        self,
        client_id: str = "client-id.apps.googleusercontent.com",
        client_secret: str = "GOCSPX-client-secret-value",
        refresh_token: str = "1//refresh-token-value",
        quota_model: str = "current",
        daily_quota: int = 10_000,
        daily_uploads: int = 100,
    ) -> None:
        super().__init__()
        if quota_model not in QUOTA_MODELS:
            raise ValueError(f"quota_model must be one of {', '.join(QUOTA_MODELS)}, got {quota_model!r}")
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens = {refresh_token}
        self.access_tokens: set[str] = set()
        self.token_counter = itertools.count(1)
        self.quota_model = quota_model
        self.daily_quota = daily_quota
        self.daily_uploads = daily_uploads
        self.custom_thumbnails = True  # a verified channel may set custom thumbnails
        self.quota_used = 0
        self.uploads_today = 0
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Video] = {}
        self.created_videos = 0
        self.next_outcomes: list[str] = []
        self.drop_chunk_keep: list[int] = []  # per upcoming chunk PUT: keep N bytes then drop
        self.id_counter = itertools.count(1)
        self.channel_id = "UCfakeChannel0000000000a"
        self.uploads_playlist = "UU" + self.channel_id[2:]

    # --- helpers for tests -------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def exhaust_quota(self) -> None:
        with self.lock:
            self.quota_used = self.daily_quota
            self.uploads_today = self.daily_uploads

    def expire_sessions(self) -> None:
        with self.lock:
            for session in self.sessions.values():
                session.expired = True

    def add_video(self, video_id: str | None = None, **fields: Any) -> Video:
        with self.lock:
            video_id = video_id or self._new_id()
            video = Video(
                id=video_id,
                snippet={"title": video_id},
                status={"uploadStatus": "processed", "privacyStatus": "public"},
                channel_id=self.channel_id,
            )
            for key, value in fields.items():
                setattr(video, key, value)
            self.videos[video_id] = video
            return video

    def _new_id(self) -> str:
        n = next(self.id_counter)
        return base64.urlsafe_b64encode(n.to_bytes(8, "big")).decode()[:11]

    # --- routing -----------------------------------------------------------------------------

    def route(self, request: Request):
        m, p = request.method, request.path
        if m == "POST" and p == "/token":
            return "oauth.token", self.token
        if m == "POST" and p == "/upload/youtube/v3/videos":
            return "videos.insert", self.insert
        if m == "PUT" and p == "/upload/youtube/v3/videos":
            return "upload.put", self.upload_put
        if m == "POST" and p == "/upload/youtube/v3/thumbnails/set":
            return "thumbnails.set", self.thumbnails_set
        if m == "GET" and p == "/youtube/v3/videos":
            return "videos.list", self.videos_list
        if m == "GET" and p == "/youtube/v3/channels":
            return "channels.list", self.channels_list
        if m == "GET" and p == "/youtube/v3/playlistItems":
            return "playlistItems.list", self.playlist_items
        if m == "GET" and p == "/youtube/v3/commentThreads":
            return "commentThreads.list", self.comment_threads
        if m == "GET" and p == "/v2/reports":
            return "reports.query", self.reports
        raise LookupError(p)

    def _authorized(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return json_response(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials.",
                        "errors": [
                            {
                                "message": "Invalid Credentials",
                                "domain": "global",
                                "reason": "authError",
                                "location": "Authorization",
                                "locationType": "header",
                            }
                        ],
                        "status": "UNAUTHENTICATED",
                    }
                },
            )
        return None

    def _charge(self, units: int) -> Response | None:
        if self.quota_used + units > self.daily_quota:
            self.quota_used = min(self.daily_quota, self.quota_used + 1)
            return yt_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        self.quota_used += units
        return None

    # --- OAuth ---------------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("grant_type") != "refresh_token":
            return json_response(400, {"error": "unsupported_grant_type"})
        if form.get("refresh_token") not in self.refresh_tokens:
            return json_response(
                400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            )
        access = f"ya29.a0fake-access-{next(self.token_counter):06d}"
        self.access_tokens.add(access)
        return json_response(
            200,
            {
                "access_token": access,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.upload",
            },
        )

    # --- videos.insert (resumable) -----------------------------------------------------------

    def insert(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        q = request.query
        if q.get("uploadType") != "resumable":
            return yt_error(400, "invalidUploadType", "uploadType must be resumable")
        parts = [s for s in q.get("part", "").split(",") if s]
        if not parts or not set(parts) <= {"snippet", "status", "id", "contentDetails"}:
            return yt_error(400, "invalidPart", f"bad part {q.get('part')!r}")
        try:
            total = int(request.headers.get("x-upload-content-length", ""))
        except ValueError:
            return yt_error(400, "badRequest", "X-Upload-Content-Length is required")
        ctype = request.headers.get("x-upload-content-type", "")
        if not (ctype.startswith("video/") or ctype == "application/octet-stream"):
            return yt_error(400, "badContent", f"unsupported media type {ctype!r}")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return yt_error(400, "badRequest", "metadata must be JSON")
        if self.quota_model == "legacy":
            if (over := self._charge(1600)) is not None:
                return over
        else:
            if self.uploads_today >= self.daily_uploads:
                return yt_error(403, "quotaExceeded", "videos.insert daily bucket exhausted", "youtube.quota")
            self.uploads_today += 1
        try:
            resource = request.json()
        except ValueError:
            return yt_error(400, "parseError", "metadata is not JSON")
        if (problem := self._check_resource(resource, parts)) is not None:
            return problem
        upload_id = base64.urlsafe_b64encode(f"session-{len(self.sessions) + 1}".encode()).decode().rstrip("=")
        self.sessions[upload_id] = Session(total, ctype, resource, parts)
        location = f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable&part={','.join(parts)}&upload_id={upload_id}"
        return Response(200, b"", {"Location": location})

    def _check_resource(self, resource: Any, parts: list[str]) -> Response | None:
        if not isinstance(resource, dict):
            return yt_error(400, "invalidVideoMetadata", "body must be a video resource")
        snippet = resource.get("snippet") or {}
        status = resource.get("status") or {}
        title = snippet.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 100 or re.search("[<>]", title):
            return yt_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        description = snippet.get("description", "")
        if not isinstance(description, str) or len(description) > 5000 or re.search("[<>]", description):
            return yt_error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
        tags = snippet.get("tags", [])
        if (
            not isinstance(tags, list)
            or sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1) > 500
        ):
            return yt_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
        if str(snippet.get("categoryId", "22")) not in CATEGORIES:
            return yt_error(
                400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID."
            )
        privacy = status.get("privacyStatus", "public")
        if privacy not in PRIVACY:
            return yt_error(400, "invalidVideoMetadata", f"bad privacyStatus {privacy!r}")
        if "publishAt" in status:
            try:
                when = datetime.fromisoformat(status["publishAt"].replace("Z", "+00:00"))
            except (AttributeError, ValueError):
                return yt_error(
                    400, "invalidPublishAt", "The request metadata specifies an invalid scheduled publishing time."
                )
            if privacy != "private" or when.tzinfo is None or when <= datetime.now(timezone.utc):
                return yt_error(400, "invalidPublishAt", "publishAt needs privacyStatus private and a future time.")
        for flag in ("selfDeclaredMadeForKids", "containsSyntheticMedia", "embeddable", "publicStatsViewable"):
            if flag in status and not isinstance(status[flag], bool):
                return yt_error(400, "invalidVideoMetadata", f"status.{flag} must be a boolean")
        if "madeForKids" in status:
            return yt_error(400, "invalidVideoMetadata", "status.madeForKids is read-only")
        if "status" in parts and "selfDeclaredMadeForKids" not in status:
            return yt_error(
                400,
                "invalidVideoMetadata",
                "status.selfDeclaredMadeForKids must be set: an upload without its audience is incomplete in "
                "YouTube Studio",
            )
        return None

    def upload_put(self, request: Request) -> Response | None:
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None or session.expired:
            return yt_error(404, "notFound", "The upload session does not exist or has expired.")
        if session.video_id is not None:
            return self._created(session)
        crange = request.headers.get("content-range", "")
        length = int(request.headers.get("content-length") or 0)
        if length != len(request.body):
            return yt_error(400, "badRequest", "Content-Length does not match the body")
        probe = re.fullmatch(r"bytes \*/(\d+)", crange)
        if probe:
            if int(probe.group(1)) != session.total or request.body:
                return yt_error(400, "badRequest", "status probe must be empty and name the total")
            return self._incomplete(session)
        if not crange:
            start, end, total = 0, len(request.body) - 1, len(request.body)
        else:
            block = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", crange)
            if not block:
                return yt_error(400, "badRequest", f"bad Content-Range {crange!r}")
            start, end, total = (int(g) for g in block.groups())
        if total != session.total:
            return yt_error(400, "badRequest", "Content-Range total differs from X-Upload-Content-Length")
        if end - start + 1 != len(request.body) or end >= total:
            return yt_error(400, "badRequest", "Content-Range does not match the body")
        final = end + 1 == total
        if not final and len(request.body) % CHUNK_ALIGN:
            return yt_error(400, "badRequest", "non-final chunks must be a multiple of 262144 bytes")
        if start != len(session.data):
            return self._incomplete(session)  # not contiguous: nothing stored
        if self.drop_chunk_keep:
            keep = self.drop_chunk_keep.pop(0)
            session.data += request.body[:keep]
            return None
        session.data += request.body
        if len(session.data) < session.total:
            return self._incomplete(session)
        self.created_videos += 1
        video = Video(
            id=self._new_id(),
            snippet={**session.resource.get("snippet", {}), "publishedAt": datetime.now(timezone.utc).isoformat()},
            status={**session.resource.get("status", {}), "uploadStatus": "uploaded"},
            outcome=self.next_outcomes.pop(0) if self.next_outcomes else "processed",
            size=session.total,
            channel_id=self.channel_id,
        )
        video.status["madeForKids"] = bool(video.status.pop("selfDeclaredMadeForKids", False))
        self.videos[video.id] = video
        session.video_id = video.id
        return self._created(session)

    def _incomplete(self, session: Session) -> Response:
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return Response(308, b"", headers)

    def _created(self, session: Session) -> Response:
        video = self.videos[session.video_id]
        body: dict[str, Any] = {"kind": "youtube#video", "etag": "etag", "id": video.id}
        if "snippet" in session.parts:
            body["snippet"] = video.snippet
        if "status" in session.parts:
            body["status"] = {**video.status, "uploadStatus": "uploaded"}
        return json_response(201, body)

    # --- thumbnails.set ----------------------------------------------------------------------------

    def thumbnails_set(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if (over := self._charge(50)) is not None:
            return over
        video = self.videos.get(request.query.get("videoId", ""))
        if video is None:
            return yt_error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        if video.channel_id != self.channel_id or not self.custom_thumbnails:
            return yt_error(
                403,
                "forbidden",
                "The thumbnail can't be set for the specified video. The request might not be properly authorized.",
            )
        ctype = request.headers.get("content-type", "").split(";")[0].strip()
        if not request.body:
            return yt_error(400, "mediaBodyRequired", "The request does not include the image content.")
        if len(request.body) > MAX_THUMBNAIL_BYTES:
            return yt_error(413, "mediaBodyTooLarge", "The image is larger than 2 MB.")
        image = request.body.startswith(b"\xff\xd8\xff") or request.body.startswith(b"\x89PNG\r\n\x1a\n")
        if ctype not in THUMBNAIL_TYPES or not image:
            return yt_error(400, "invalidImage", "The provided image content is invalid.")
        video.thumbnail = request.body
        url = f"https://i.ytimg.com/vi/{video.id}/default.jpg"
        return json_response(
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "etag": "e",
                "items": [{"default": {"url": url, "width": 120, "height": 90}}],
            },
        )

    # --- reads -----------------------------------------------------------------------------------

    def _settle(self, video: Video) -> None:
        if video.status.get("uploadStatus") != "uploaded":
            return
        if video.polls_until_done > 0:
            video.polls_until_done -= 1
            return
        video.status["uploadStatus"] = video.outcome
        if video.outcome == "failed":
            video.status["failureReason"] = "codec"
        elif video.outcome == "rejected":
            video.status["rejectionReason"] = "duplicate"

    def videos_list(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if (over := self._charge(1)) is not None:
            return over
        parts = [s for s in request.query.get("part", "").split(",") if s]
        if not parts:
            return yt_error(400, "missingRequiredParameter", "No filter selected. Expected one of: part")
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if not ids:
            return yt_error(400, "missingRequiredParameter", "No filter selected.")
        if len(ids) > 50:
            return yt_error(400, "invalidValue", "Too many ids: at most 50")
        items = []
        for vid in ids:
            video = self.videos.get(vid)
            if video is None:
                continue
            self._settle(video)
            item: dict[str, Any] = {"kind": "youtube#video", "etag": "e", "id": vid}
            if "statistics" in parts:
                item["statistics"] = {
                    "viewCount": str(video.statistics["viewCount"]),
                    "likeCount": str(video.statistics["likeCount"]),
                    "favoriteCount": "0",
                    "commentCount": str(video.statistics["commentCount"]),
                }
            if "status" in parts:
                item["status"] = video.status
            if "snippet" in parts:
                item["snippet"] = video.snippet
            if "processingDetails" in parts:
                state = {
                    "uploaded": "processing",
                    "processed": "succeeded",
                    "failed": "failed",
                    "rejected": "terminated",
                }.get(video.status.get("uploadStatus"), "succeeded")
                item["processingDetails"] = {"processingStatus": state}
            items.append(item)
        return json_response(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": "e",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )

    def channels_list(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if (over := self._charge(1)) is not None:
            return over
        q = request.query
        parts = [s for s in q.get("part", "").split(",") if s]
        if not parts or not set(parts) <= {"id", "snippet", "contentDetails", "statistics", "status"}:
            return yt_error(400, "invalidPart", f"bad part {q.get('part')!r}")
        filters = [f for f in ("mine", "id", "forHandle", "forUsername", "managedByMe") if f in q]
        if len(filters) != 1:
            return yt_error(400, "incompatibleParameters", "exactly one filter is required")
        items = []
        if q.get("mine") == "true" or self.channel_id in q.get("id", "").split(","):
            item: dict[str, Any] = {"kind": "youtube#channel", "etag": "e", "id": self.channel_id}
            if "contentDetails" in parts:
                item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": self.uploads_playlist}}
            if "snippet" in parts:
                item["snippet"] = {"title": "Demo Shorts", "description": "", "publishedAt": "2026-01-01T00:00:00Z"}
            items.append(item)
        return json_response(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": "e",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            },
        )

    def playlist_items(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if (over := self._charge(1)) is not None:
            return over
        q = request.query
        parts = [s for s in q.get("part", "").split(",") if s]
        if not parts or not set(parts) <= {"id", "snippet", "contentDetails", "status"}:
            return yt_error(400, "invalidPart", f"bad part {q.get('part')!r}")
        if ("playlistId" in q) == ("id" in q):
            return yt_error(400, "incompatibleParameters", "exactly one of playlistId and id is required")
        if q.get("playlistId") != self.uploads_playlist:
            return yt_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        try:
            max_results = int(q.get("maxResults", "5"))
        except ValueError:
            return yt_error(400, "invalidValue", "maxResults")
        if not 0 <= max_results <= 50:
            return yt_error(400, "invalidValue", "maxResults must be within 0..50")
        uploads = list(reversed(self.videos.values()))  # the uploads playlist lists the newest first
        start = 0
        if "pageToken" in q:
            match = re.fullmatch(r"RVAp(\d+)", q["pageToken"])
            if not match or int(match.group(1)) > len(uploads):
                return yt_error(400, "invalidPageToken", "The request specifies an invalid page token.")
            start = int(match.group(1))
        items = []
        for position, video in enumerate(uploads[start : start + max_results], start):
            item: dict[str, Any] = {"kind": "youtube#playlistItem", "etag": "e", "id": f"UExpdGVt{video.id}"}
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": video.snippet.get("publishedAt", "2026-01-01T00:00:00Z"),
                    "channelId": self.channel_id,
                    "title": video.snippet.get("title", ""),
                    "description": video.snippet.get("description", ""),
                    "thumbnails": {},
                    "channelTitle": "Demo Shorts",
                    "playlistId": self.uploads_playlist,
                    "position": position,
                    "resourceId": {"kind": "youtube#video", "videoId": video.id},
                    "videoOwnerChannelTitle": "Demo Shorts",
                    "videoOwnerChannelId": self.channel_id,
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"videoId": video.id}
            if "status" in parts:
                item["status"] = {"privacyStatus": video.status.get("privacyStatus", "public")}
            items.append(item)
        body: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "etag": "e",
            "items": items,
            "pageInfo": {"totalResults": len(uploads), "resultsPerPage": max_results},
        }
        if start + max_results < len(uploads):
            body["nextPageToken"] = f"RVAp{start + max_results}"
        if start > 0:
            body["prevPageToken"] = f"RVAp{max(0, start - max_results)}"
        return json_response(200, body)

    def comment_threads(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if (over := self._charge(1)) is not None:
            return over
        q = request.query
        parts = set(q.get("part", "").split(","))
        if not parts or not parts <= {"id", "snippet", "replies"}:
            return yt_error(400, "invalidPart", "bad part")
        filters = [f for f in ("videoId", "allThreadsRelatedToChannelId", "id") if f in q]
        if len(filters) != 1:
            return yt_error(400, "incompatibleParameters", "exactly one filter is required")
        try:
            max_results = int(q.get("maxResults", "20"))
        except ValueError:
            return yt_error(400, "invalidValue", "maxResults")
        if not 1 <= max_results <= 100:
            return yt_error(400, "invalidValue", "maxResults must be within 1..100")
        video = self.videos.get(q.get("videoId", ""))
        if video is None:
            return yt_error(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
        if video.comments_disabled:
            return yt_error(
                403, "commentsDisabled", "The video identified by the videoId parameter has disabled comments."
            )
        start = 0
        if "pageToken" in q:
            token = q["pageToken"]
            match = re.fullmatch(r"QURTSl9p(\d+)", token)
            if not match or int(match.group(1)) > len(video.comments):
                return yt_error(400, "invalidPageToken", "The request specifies an invalid page token.")
            start = int(match.group(1))
        page = video.comments[start : start + max_results]
        items = []
        for thread in page:
            item: dict[str, Any] = {"kind": "youtube#commentThread", "id": thread["id"]}
            top = {
                "kind": "youtube#comment",
                "id": thread["id"],
                "snippet": {
                    "authorDisplayName": thread["author"],
                    "textDisplay": thread["text"],
                    "textOriginal": thread["text"],
                    "likeCount": thread.get("likes", 0),
                    "publishedAt": thread["at"],
                    "updatedAt": thread["at"],
                    "videoId": video.id,
                },
            }
            if "snippet" in parts:
                item["snippet"] = {
                    "videoId": video.id,
                    "topLevelComment": top,
                    "canReply": True,
                    "totalReplyCount": len(thread.get("replies", [])),
                    "isPublic": True,
                }
            if "replies" in parts and thread.get("replies"):
                item["replies"] = {
                    "comments": [
                        {
                            "kind": "youtube#comment",
                            "id": r["id"],
                            "snippet": {
                                "authorDisplayName": r["author"],
                                "textDisplay": r["text"],
                                "textOriginal": r["text"],
                                "likeCount": r.get("likes", 0),
                                "publishedAt": r["at"],
                                "parentId": thread["id"],
                                "videoId": video.id,
                            },
                        }
                        for r in thread["replies"][:5]
                    ]
                }
            items.append(item)
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": max_results},
        }
        if start + max_results < len(video.comments):
            body["nextPageToken"] = f"QURTSl9p{start + max_results}"
        return json_response(200, body)

    # --- analytics -------------------------------------------------------------------------------

    def reports(self, request: Request) -> Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        q = request.query
        if q.get("ids") != "channel==MINE":
            return yt_error(400, "invalidValue", "ids must be channel==MINE", "global")
        for key in ("startDate", "endDate"):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", q.get(key, "")):
                return yt_error(400, "invalidValue", f"{key} must be YYYY-MM-DD", "global")
        if q["startDate"] > q["endDate"]:
            return yt_error(400, "invalidValue", "startDate is after endDate", "global")
        metrics = [m for m in q.get("metrics", "").split(",") if m]
        if not metrics or not set(metrics) <= ANALYTICS_METRICS:
            return yt_error(400, "invalidValue", "unknown metrics", "global")
        dimensions = [d for d in q.get("dimensions", "").split(",") if d]
        if dimensions not in ([], ["video"]):
            return yt_error(400, "invalidValue", "only the video dimension is faked", "global")
        filters = q.get("filters", "")
        match = re.fullmatch(r"video==([\w\-,]+)", filters)
        if not match:
            return yt_error(400, "invalidValue", "filters must be video==ID[,ID...]", "global")
        ids = match.group(1).split(",")
        if len(ids) > 200:
            return yt_error(400, "invalidValue", "too many videos in the filter", "global")
        headers = [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dimensions]
        headers += [
            {"name": m, "columnType": "METRIC", "dataType": "INTEGER" if m in INTEGER_METRICS else "FLOAT"}
            for m in metrics
        ]
        rows = []
        for vid in ids:
            video = self.videos.get(vid)
            if video is None or video.analytics is None:
                continue
            values = [video.analytics.get(m, 0) for m in metrics]
            rows.append(([vid] if dimensions else []) + values)
        body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if rows:
            body["rows"] = rows
        return json_response(200, body)
