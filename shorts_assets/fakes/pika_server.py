"""A fake of Pika's developer API: ``POST /generate/2.2/t2v`` (form fields) and ``GET /videos/{id}``.

It enforces the ``X-API-KEY`` header, a ``promptText``, ``duration`` 5 | 10, ``resolution`` 720p |
1080p and a numeric ``aspectRatio``. A video walks through ``plan`` (default queued → started →
finished); ``plans`` queues plans for the next videos. Mount at the server root.
"""

from __future__ import annotations

from shorts_assets.fakes.runway_server import JobFakeApp
from shorts_assets.fakes.server import Request, Response, json_response


def detail(status: int, message: str) -> Response:
    return json_response(status, {"detail": message})


class FakePika(JobFakeApp):
    default_plan = ("queued", "started", "finished")

    def __init__(self, api_key: str = "pika-test-key-990011", video_bytes: bytes = b"") -> None:
        super().__init__(api_key, video_bytes)
        self.failure = "content moderation"

    def route(self, request: Request):
        if request.method == "POST" and request.path == "/generate/2.2/t2v":
            return "create", self.create
        if request.method == "GET" and request.path.startswith("/videos/"):
            return "get", self.get
        if request.method == "GET" and request.path.startswith("/assets/"):
            return "asset", self.asset
        raise LookupError(request.path)

    def create(self, request: Request) -> Response:
        if request.headers.get("x-api-key") != self.api_key:
            return detail(401, "Unauthorized")
        form = request.form()
        if not form.get("promptText"):
            return detail(422, "promptText: field required")
        if form.get("duration") not in ("5", "10"):
            return detail(422, f"duration: {form.get('duration')!r} is not 5 or 10")
        if form.get("resolution") not in ("720p", "1080p"):
            return detail(422, f"resolution: {form.get('resolution')!r} is not 720p or 1080p")
        try:
            float(form.get("aspectRatio", ""))
        except ValueError:
            return detail(422, "aspectRatio: must be a number")
        return json_response(200, {"video_id": self.new_job(dict(form)).id})

    def get(self, request: Request) -> Response:
        if request.headers.get("x-api-key") != self.api_key:
            return detail(401, "Unauthorized")
        job = self.jobs.get(request.path.rsplit("/", 1)[-1])
        if job is None:
            return detail(404, "Video not found")
        status = job.advance()
        payload = {
            "id": job.id,
            "status": status,
            "progress": 100 if status == "finished" else 40,
            "url": self.asset_url(job) if status == "finished" else None,
        }
        if status == "failed":
            payload["error"] = job.failure
        return json_response(200, payload)
