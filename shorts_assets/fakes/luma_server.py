"""A fake of Luma's Dream Machine generations API and the storage its outputs live on.

It enforces: the bearer key; ``model``, ``aspect_ratio``, ``duration`` ("5s" | "9s") and
``resolution`` enums; a prompt. A generation answers 201 in state queued and walks through
``plan`` (default queued → dreaming → completed); ``plans`` queues plans for the next generations,
e.g. ``["dreaming", "failed"]`` (failing with ``failure``). Errors use ``{"detail": "…"}``.
Mount at the base URL's root (``/generations``).
"""

from __future__ import annotations

from typing import Any

from shorts_assets.fakes.runway_server import JobFakeApp
from shorts_assets.fakes.server import Request, Response, json_response

MODELS = {"ray-2", "ray-flash-2", "ray-1-6"}
ASPECT_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}
DURATIONS = {"5s", "9s"}
RESOLUTIONS = {"540p", "720p", "1080p", "4k"}


def detail(status: int, message: str) -> Response:
    return json_response(status, {"detail": message})


class FakeLuma(JobFakeApp):
    default_plan = ("queued", "queued", "dreaming", "completed")

    def __init__(self, api_key: str = "luma-test-key-778899", video_bytes: bytes = b"") -> None:
        super().__init__(api_key, video_bytes)
        self.failure = "400: prompt not allowed because advanced moderation failed"

    def route(self, request: Request):
        path = request.path
        if request.method == "POST" and path == "/generations":
            return "create", self.create
        if request.method == "GET" and path.startswith("/generations/"):
            return "get", self.get
        if request.method == "GET" and path.startswith("/assets/"):
            return "asset", self.asset
        raise LookupError(path)

    def _resource(self, job) -> dict[str, Any]:
        return {
            "id": job.id,
            "generation_type": "video",
            "state": job.status,
            "failure_reason": job.failure if job.status == "failed" else None,
            "created_at": "2026-11-27T06:00:00Z",
            "model": job.body.get("model"),
            "assets": {"video": self.asset_url(job)} if job.status == "completed" else None,
            "request": job.body,
        }

    def create(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return detail(401, "Invalid API key")
        body = request.json()
        for name, allowed in (
            ("model", MODELS),
            ("aspect_ratio", ASPECT_RATIOS),
            ("duration", DURATIONS),
            ("resolution", RESOLUTIONS),
        ):
            if body.get(name) not in allowed:
                return detail(400, f"{name}: value {body.get(name)!r} is not one of {sorted(allowed)}")
        if not body.get("prompt"):
            return detail(400, "prompt: field required")
        job = self.new_job(body)
        return json_response(201, self._resource(job))

    def get(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return detail(401, "Invalid API key")
        job = self.jobs.get(request.path.rsplit("/", 1)[-1])
        if job is None:
            return detail(404, "Generation not found")
        job.advance()
        return json_response(200, self._resource(job))
