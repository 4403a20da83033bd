"""A fake of Runway's API (text/image to video, task polling) and the storage its outputs live on.

It enforces: the bearer key and ``X-Runway-Version: 2024-11-06``; per endpoint the models it serves,
each model's ratios and durations, ``promptText`` (at most 1000 UTF-16 units) and, for image to
video, a ``promptImage``. A task walks through ``plan``: the statuses its successive polls show
(default PENDING → RUNNING → SUCCEEDED); ``plans`` queues plans for the next created tasks, e.g.
``["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"]`` or ``["RUNNING", "FAILED"]`` (failing with
``failure`` / ``failure_code``). Outputs are served under ``/assets/`` until ``expire`` drops them.
Errors use Runway's ``{"error": "…"}`` body. Mount at the server root.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

GEN4_RATIOS = {"1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"}
VEO_RATIOS = {"1280:720", "720:1280", "1080:1920", "1920:1080"}
MODELS = {
    "image_to_video": {
        "gen4_turbo": ({5, 10}, GEN4_RATIOS),
        "gen4.5": (set(range(2, 11)), GEN4_RATIOS),
        "veo3.1": ({4, 6, 8}, VEO_RATIOS),
        "veo3.1_fast": ({4, 6, 8}, VEO_RATIOS),
        "veo3": ({8}, VEO_RATIOS),
    },
    "text_to_video": {
        "gen4.5": (set(range(2, 11)), GEN4_RATIOS),
        "veo3.1": ({4, 6, 8}, VEO_RATIOS),
        "veo3.1_fast": ({4, 6, 8}, VEO_RATIOS),
        "veo3": ({8}, VEO_RATIOS),
    },
}


def error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


@dataclass
class Job:
    """One generation job of a fake provider, walking through its planned statuses."""

    id: str
    body: dict[str, Any]
    plan: deque[str]
    status: str
    failure: str = ""
    failure_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def advance(self) -> str:
        if self.plan:
            self.status = self.plan.popleft()
        return self.status


class JobFakeApp(FakeApp):
    """What the video fakes share: jobs with planned statuses, and output files under /assets/."""

    default_plan: tuple[str, ...] = ()

    def __init__(self, api_key: str, video_bytes: bytes) -> None:
        super().__init__()
        self.api_key = api_key
        self.video_bytes = video_bytes
        self.jobs: dict[str, Job] = {}
        self.plans: deque[list[str]] = deque()
        self.failure = "The prompt was flagged by content moderation."
        self.failure_code = "SAFETY.INPUT.TEXT"
        self.expired: set[str] = set()

    def new_job(self, body: dict[str, Any]) -> Job:
        plan = deque(self.plans.popleft() if self.plans else self.default_plan)
        job = Job(str(uuid.uuid4()), body, plan, plan.popleft(), self.failure, self.failure_code)
        self.jobs[job.id] = job
        return job

    def expire(self, job_id: str) -> None:
        self.expired.add(job_id)

    def asset_url(self, job: Job) -> str:
        return f"{self.base_url}/assets/{job.id}.mp4?sig=signed"

    def asset(self, request: Request) -> Response:
        job_id = request.path.rsplit("/", 1)[-1].removesuffix(".mp4")
        if job_id not in self.jobs or job_id in self.expired or request.query.get("sig") != "signed":
            return Response(
                403,
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        if "authorization" in request.headers or "x-api-key" in request.headers:
            return Response(400, b"<Error><Code>InvalidArgument</Code></Error>", {"Content-Type": "application/xml"})
        return Response(200, self.video_bytes, {"Content-Type": "video/mp4"})

    def submissions(self) -> int:
        return len(self.jobs)


class FakeRunway(JobFakeApp):
    default_plan = ("PENDING", "RUNNING", "SUCCEEDED")

    def __init__(self, api_key: str = "key_runway_test_445566", video_bytes: bytes = b"") -> None:
        super().__init__(api_key, video_bytes)

    def route(self, request: Request):
        path = request.path
        if request.method == "POST" and path in ("/v1/text_to_video", "/v1/image_to_video"):
            return "create", self.create
        if request.method == "GET" and path.startswith("/v1/tasks/"):
            return "task", self.task
        if request.method == "GET" and path.startswith("/assets/"):
            return "asset", self.asset
        raise LookupError(path)

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "Invalid API key " + request.headers.get("authorization", ""))
        if request.headers.get("x-runway-version") != "2024-11-06":
            return error(400, "X-Runway-Version header must be set to 2024-11-06")
        return None

    def create(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        endpoint = request.path.rsplit("/", 1)[-1]
        body = request.json()
        model = body.get("model")
        if model not in MODELS[endpoint]:
            return error(400, f"Validation of body failed: model {model!r} is not available for {endpoint}")
        durations, ratios = MODELS[endpoint][model]
        if body.get("ratio") not in ratios:
            return error(400, f"Validation of body failed: ratio {body.get('ratio')!r} is invalid for {model}")
        duration = body.get("duration")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration not in durations:
            return error(400, f"Validation of body failed: duration {duration!r} is invalid for {model}")
        text = body.get("promptText")
        if not isinstance(text, str) or not text.strip():
            return error(400, "Validation of body failed: promptText is required")
        if len(text.encode("utf-16-le")) // 2 > 1000:
            return error(400, "Validation of body failed: promptText is longer than 1000 characters")
        if endpoint == "image_to_video" and not body.get("promptImage"):
            return error(400, "Validation of body failed: promptImage is required")
        return json_response(200, {"id": self.new_job(body).id})

    def task(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        job = self.jobs.get(request.path.rsplit("/", 1)[-1])
        if job is None:
            return error(404, "Task not found")
        status = job.advance()
        payload: dict[str, Any] = {"id": job.id, "createdAt": "2026-11-27T06:00:00.000Z", "status": status}
        if status == "RUNNING":
            payload["progress"] = 0.5
        if status == "SUCCEEDED":
            payload["output"] = [self.asset_url(job)]
        if status == "FAILED":
            payload.update(failure=job.failure, failureCode=job.failure_code)
        return json_response(200, payload)
