"""A fake of the Pexels video API: ``GET /videos/search`` and the video files it links to.

It enforces the raw key in ``Authorization`` (no ``Bearer``; a wrong one gets 401 with the key
echoed back, as a careless server would), ``query`` (required), ``orientation``, ``size``,
``page`` and ``per_page`` (1 to 80). Answers have Pexels' shape: ``page``, ``per_page``,
``total_results``, ``url``, ``videos`` (``id``, ``width``, ``height``, ``url``, ``image``,
``duration``, ``user``, ``video_files``, ``video_pictures``) and ``next_page`` only when there is
one. Every video offers an ``hls`` file with null sizes, an SD and an HD rendition in its own
orientation; the files are real MP4s (``video_bytes``), served from ``/files/<id>/<quality>.mp4``.

A video matches when one of its tags is a word of the query. Successful answers carry
``X-Ratelimit-Limit`` / ``-Remaining`` / ``-Reset`` (a UNIX time); past ``hourly_limit`` requests, or
with nothing remaining, the answer is 429 with none of those headers. ``empty`` makes the next
searches find nothing; faults are injected per route (``search``, ``file``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response
from shorts_assets.providers.media import run_ffmpeg

ORIENTATIONS = {"landscape", "portrait", "square"}
SIZES = {"large", "medium", "small"}


def make_mp4(path: Path, width: int = 1080, height: int = 1920, seconds: float = 3.0) -> bytes:
    """A real H.264 MP4 of a moving test pattern (the bytes the fake stock servers serve)."""
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=25",
            "-t",
            f"{seconds:g}",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-movflags",
            "+faststart",
            f"file:{path}",
        ],
        f"making a {width}x{height} stock clip",
    )
    return path.read_bytes()


@dataclass
class StockVideo:
    id: int
    tags: tuple[str, ...]
    portrait: bool = True
    author: str = "Joey Farina"
    duration: int = 12


DEFAULT_CATALOGUE = (
    StockVideo(2499611, ("octopus", "ocean", "reef"), author="Joey Farina"),
    StockVideo(2499612, ("octopus", "coral", "reef"), author="Ana Benet"),
    StockVideo(2499613, ("octopus", "heart", "ocean"), author="Kelly Lacy"),
    StockVideo(2499614, ("coral", "reef", "fish"), portrait=False, author="Taryn Elliott"),
    StockVideo(2499615, ("heart", "ocean"), author="Pressmaster"),
)


class FakePexels(FakeApp):
    def __init__(
        self,
        api_key: str = "pexels-test-key-5551234",
        video_bytes: bytes = b"",
        catalogue: tuple[StockVideo, ...] = DEFAULT_CATALOGUE,
        hourly_limit: int = 200,
        monthly_limit: int = 20_000,
        reset_at: int = 1_800_000_000,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.video_bytes = video_bytes
        self.catalogue = list(catalogue)
        self.hourly_limit = hourly_limit
        self.monthly_limit = monthly_limit
        self.remaining = monthly_limit
        self.reset_at = reset_at
        self.hour_count = 0
        self.empty = 0  # the next searches that find nothing

    def route(self, request: Request):
        if request.method == "GET" and request.path.rstrip("/") == "/videos/search":
            return "search", self.search
        if request.method == "GET" and request.path.startswith("/files/"):
            return "file", self.file
        raise LookupError(request.path)

    def _limits(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.monthly_limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Reset": str(self.reset_at),
        }

    def _video(self, video: StockVideo) -> dict[str, Any]:
        w, h = (1080, 1920) if video.portrait else (1920, 1080)
        sw, sh = (540, 960) if video.portrait else (960, 540)
        base = self.base_url
        return {
            "id": video.id,
            "width": w,
            "height": h,
            "url": f"https://www.pexels.com/video/{video.id}/",
            "image": f"https://images.pexels.com/videos/{video.id}/free-video-{video.id}.jpg",
            "full_res": None,
            "tags": [],
            "duration": video.duration,
            "user": {
                "id": 680589,
                "name": video.author,
                "url": f"https://www.pexels.com/@{video.author.split()[0].lower()}",
            },
            # Never in a useful order: the adapter must choose.
            "video_files": [
                {
                    "id": video.id * 10 + 1,
                    "quality": "hls",
                    "file_type": "video/mp4",
                    "width": None,
                    "height": None,
                    "fps": None,
                    "link": f"{base}/files/{video.id}/playlist.m3u8",
                },
                {
                    "id": video.id * 10 + 2,
                    "quality": "sd",
                    "file_type": "video/mp4",
                    "width": sw,
                    "height": sh,
                    "fps": 25,
                    "link": f"{base}/files/{video.id}/sd.mp4",
                },
                {
                    "id": video.id * 10 + 3,
                    "quality": "hd",
                    "file_type": "video/mp4",
                    "width": w,
                    "height": h,
                    "fps": 25,
                    "link": f"{base}/files/{video.id}/hd.mp4",
                },
            ],
            "video_pictures": [
                {"id": video.id * 10, "picture": f"https://images.pexels.com/videos/{video.id}/p0.jpg", "nr": 0}
            ],
        }

    def search(self, request: Request) -> Response:
        given = request.headers.get("authorization", "")
        if given != self.api_key:
            return json_response(401, {"error": f"Unauthorized: the key {given!r} is not valid"})
        self.hour_count += 1
        if self.hour_count > self.hourly_limit or self.remaining <= 0:
            return Response(429, b"Too Many Requests", {"Content-Type": "text/plain"})
        self.remaining -= 1
        query = request.query.get("query", "").strip()
        if not query:
            return json_response(400, {"error": "query is required"}, self._limits())
        orientation = request.query.get("orientation")
        if orientation is not None and orientation not in ORIENTATIONS:
            return json_response(400, {"error": f"orientation {orientation!r} is not valid"}, self._limits())
        size = request.query.get("size")
        if size is not None and size not in SIZES:
            return json_response(400, {"error": f"size {size!r} is not valid"}, self._limits())
        try:
            page = int(request.query.get("page", "1"))
            per_page = int(request.query.get("per_page", "15"))
        except ValueError:
            return json_response(400, {"error": "page and per_page must be integers"}, self._limits())
        if page < 1 or not 1 <= per_page <= 80:
            return json_response(400, {"error": "per_page must be 1 to 80 and page at least 1"}, self._limits())
        words = set(query.lower().split())
        hits = [v for v in self.catalogue if words & set(v.tags)]
        if orientation == "portrait":
            hits = [v for v in hits if v.portrait]
        elif orientation == "landscape":
            hits = [v for v in hits if not v.portrait]
        if self.empty > 0:
            self.empty -= 1
            hits = []
        window = hits[(page - 1) * per_page : page * per_page]
        payload: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "total_results": len(hits),
            "url": f"https://www.pexels.com/search/videos/{query}/",
            "videos": [self._video(v) for v in window],
        }
        if page > 1:
            payload["prev_page"] = f"{self.base_url}/videos/search/?page={page - 1}&per_page={per_page}&query={query}"
        if page * per_page < len(hits):
            payload["next_page"] = f"{self.base_url}/videos/search/?page={page + 1}&per_page={per_page}&query={query}"
        return json_response(200, payload, self._limits())

    def file(self, request: Request) -> Response:
        if not request.path.endswith(".mp4"):
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, self.video_bytes, {"Content-Type": "video/mp4"})
