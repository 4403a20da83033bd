"""A fake of the Pixabay video API: ``GET /api/videos/`` and the CDN files it links to.

It enforces the ``key`` query parameter (a wrong one gets 400 in plain text with the key echoed
back), ``q`` of at most 100 characters, ``video_type``, ``per_page`` from 3 to 200 and pages within
``ceil(totalHits / per_page)``; every error body is plain text, as Pixabay's are. Answers have
Pixabay's shape: ``total``, ``totalHits`` (capped at 500) and ``hits`` with ``id``, ``pageURL``,
``type``, ``tags`` (a comma-separated string), ``duration``, ``videos`` (``large`` empty — no 4K —
then ``medium``, ``small``, ``tiny``), ``user_id``, ``user`` and counters. Files are real MP4s
(``video_bytes``) under ``/cdn/``.

A hit matches when one of its tags is a word of the query (``q`` uses ``+`` or spaces). Every
answer carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (seconds until the window of
``limit`` requests per ``window_s`` resets, counted per key on ``clock``); past the limit the answer
is 429 ``API rate limit exceeded``. ``empty`` makes the next searches find nothing.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from shorts_assets.fakes.pexels_server import StockVideo
from shorts_assets.fakes.server import FakeApp, Request, Response

VIDEO_TYPES = {"all", "film", "animation"}

DEFAULT_CATALOGUE = (
    StockVideo(125, ("flowers", "octopus", "ocean"), portrait=False, author="Coverr-Free-Footage"),
    StockVideo(126, ("octopus", "reef"), author="Beachfront"),
    StockVideo(127, ("octopus", "coral", "heart"), author="Engin_Akyurt"),
    StockVideo(128, ("heart", "ocean"), author="Vimeo-Free-Videos"),
)


def _text(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


class FakePixabay(FakeApp):
    def __init__(
        self,
        api_key: str = "12345678-pixabaytestkey0a1b2c",
        video_bytes: bytes = b"",
        catalogue: tuple[StockVideo, ...] = DEFAULT_CATALOGUE,
        limit: int = 100,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.video_bytes = video_bytes
        self.catalogue = list(catalogue)
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.window_start: float | None = None
        self.count = 0
        self.empty = 0

    def route(self, request: Request):
        if request.method == "GET" and request.path in ("/api/videos/", "/api/videos"):
            return "search", self.search
        if request.method == "GET" and request.path.startswith("/cdn/"):
            return "file", self.file
        raise LookupError(request.path)

    def _limits(self) -> dict[str, str]:
        now = self.clock()
        reset = 0 if self.window_start is None else max(0, math.ceil(self.window_start + self.window_s - now))
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": str(reset),
        }

    def _hit(self, video: StockVideo) -> dict[str, Any]:
        w, h = (1080, 1920) if video.portrait else (1920, 1080)
        cdn = f"{self.base_url}/cdn/video/2026/11/27/{video.id}"

        def rendition(name: str, scale: float) -> dict[str, Any]:
            return {
                "url": f"{cdn}_{name}.mp4",
                "width": int(w * scale),
                "height": int(h * scale),
                "size": int(3_000_000 * scale),
                "thumbnail": f"{cdn}_{name}.jpg",
            }

        return {
            "id": video.id,
            "pageURL": f"https://pixabay.com/videos/id-{video.id}/",
            "type": "film",
            "tags": ", ".join(video.tags),
            "duration": video.duration,
            "videos": {
                "large": {"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""},
                "medium": rendition("medium", 1.0),
                "small": rendition("small", 2 / 3),
                "tiny": rendition("tiny", 0.5),
            },
            "views": 4462,
            "downloads": 1464,
            "likes": 18,
            "comments": 0,
            "user_id": 1281706,
            "user": video.author,
            "userImageURL": "https://cdn.pixabay.com/user/2015/10/16/09-28-45-303_250x250.png",
        }

    def search(self, request: Request) -> Response:
        q = request.query
        if q.get("key") != self.api_key:
            return _text(400, f"[ERROR 400] Invalid or missing API key ({q.get('key', '')})")
        now = self.clock()
        if self.window_start is None or now >= self.window_start + self.window_s:
            self.window_start, self.count = now, 0
        self.count += 1
        if self.count > self.limit:
            return _text(429, "API rate limit exceeded", self._limits())
        limits = self._limits()
        query = q.get("q", "")
        if len(query) > 100:
            return _text(400, '[ERROR 400] "q" exceeds the maximum length of 100 characters.', limits)
        if q.get("video_type", "all") not in VIDEO_TYPES:
            return _text(400, '[ERROR 400] "video_type" is not valid.', limits)
        try:
            page = int(q.get("page", "1"))
            per_page = int(q.get("per_page", "20"))
        except ValueError:
            return _text(400, '[ERROR 400] "page" and "per_page" must be integers.', limits)
        if not 3 <= per_page <= 200:
            return _text(400, '[ERROR 400] "per_page" is out of valid range.', limits)
        words = set(query.lower().replace("+", " ").split())
        hits = [v for v in self.catalogue if not words or words & set(v.tags)]
        if self.empty > 0:
            self.empty -= 1
            hits = []
        total_hits = min(500, len(hits))
        if page < 1 or (page > 1 and page > math.ceil(total_hits / per_page)):
            return _text(400, '[ERROR 400] "page" is out of valid range.', limits)
        window = hits[(page - 1) * per_page : page * per_page]
        body = {"total": len(hits), "totalHits": total_hits, "hits": [self._hit(v) for v in window]}
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json", **limits})

    def file(self, request: Request) -> Response:
        if not request.path.endswith(".mp4"):
            return _text(404, "Not Found")
        return Response(200, self.video_bytes, {"Content-Type": "video/mp4"})
