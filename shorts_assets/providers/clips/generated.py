"""Generated clips: the provider-specific parts of OpenAI Videos (Sora), Runway, Luma and Pika, and
``GeneratedClips``, the ClipGenerator that runs a script's scenes through one of them.

Each provider turns a scene into a job (``submit``), reads a job's status (``poll``) and fetches the
finished video (``download``); ``video_jobs.VideoJobs`` drives them the same way, durably. Request
parameters are checked against each API's enums when the provider is built, and a scene's length is
rounded up to the nearest duration the model offers. Every submission is charged to the optional
``Budget`` before it is sent; polls and downloads are free. Keys are redacted from every error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore
from shorts_assets.core.types import Clip, Scene, Script
from shorts_assets.providers.clips.jobs import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    JobGone,
    JobProvider,
    JobStatus,
    NotReady,
    VideoJobs,
)
from shorts_assets.providers.net.clients import api_http_client
from shorts_assets.providers.net.costs import Budget
from shorts_assets.providers.net.http import HttpClient, RetryPolicy

OPENAI_BASE_URL = "https://api.openai.com/v1"
RUNWAY_BASE_URL = "https://api.dev.runwayml.com"
RUNWAY_VERSION = "2024-11-06"
LUMA_BASE_URL = "https://api.lumalabs.ai/dream-machine/v1"
PIKA_BASE_URL = "https://devapi.pika.art"

VIDEO_RETRY = RetryPolicy(attempts=5, base_delay_s=2.0, max_delay_s=60.0, timeout=httpx.Timeout(120.0, connect=10.0))


def _round_up(seconds: float, allowed: Sequence[int]) -> int:
    """The shortest allowed duration that covers ``seconds`` (the longest if none does)."""
    for value in sorted(allowed):
        if value >= seconds:
            return value
    return max(allowed)


def _check(name: str, value: Any, allowed: Sequence[Any], service: str) -> None:
    if value not in allowed:
        raise ValueError(f"{service}: {name} {value!r} is not one of {', '.join(map(str, allowed))}")


class _HttpJobs:
    """What the HTTP providers share: the client, the budget charge before a submission, downloads."""

    name = "video"
    model: str

    def __init__(
        self,
        api_key: str,
        base_url: str,
        budget: Budget | None,
        http_client: httpx.Client | None,
        transport: httpx.BaseTransport | None,
        retry: RetryPolicy | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.http: HttpClient = api_http_client(
            self.name, api_key, http_client=http_client, transport=transport, retry=retry or VIDEO_RETRY, sleep=sleep
        )

    def close(self) -> None:
        self.http.close()

    def _charge(self, video_id: str, index: int, seconds: float) -> None:
        if self.budget is not None:
            self.budget.charge_seconds(
                f"video {video_id}, scene {index}: {self.name} {self.model} clip of {seconds:g} s", self.model, seconds
            )

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        payload = self.http.json(response, what)
        if not isinstance(payload, dict):
            raise self.http.error(f"{what}: expected a JSON object, got {type(payload).__name__}")
        return payload

    def _fetch_url(self, url: str | None, dest: Path, what: str, job_id: str) -> None:
        """Download a signed output URL; it carries its own authorisation, so no key is sent."""
        if not url:
            raise NotReady(self.http.redact(f"{what}: {self.name} job {job_id} succeeded without an output URL yet"))
        response = self.http.request(
            "GET", url, what=f"{what}: downloading the {self.name} output", accept=(403, 404, 410)
        )
        if response.status_code in (403, 404, 410):
            raise JobGone(
                self.http.redact(
                    f"{what}: the output of {self.name} job {job_id} is gone (HTTP {response.status_code}); "
                    "the scene will be generated again"
                )
            )
        dest.write_bytes(response.content)


class SoraVideos(_HttpJobs):
    """OpenAI Videos API (``/v1/videos``, Sora models).

    Deprecated: OpenAI's documentation says the Videos API and the sora-2 models shut down on
    2026-09-24. Kept so the generator stays swappable; prefer another provider.
    """

    name = "sora"
    MODELS = ("sora-2", "sora-2-pro")
    SECONDS = (4, 8, 12)
    SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = OPENAI_BASE_URL,
        model: str = "sora-2",
        size: str = "720x1280",
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check("model", model, self.MODELS, self.name)
        _check("size", size, self.SIZES, self.name)
        self.model = model
        self.size = size
        super().__init__(api_key, base_url, budget, http_client, transport, retry, sleep)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def submit(self, video_id: str, index: int, scene: Scene) -> str:
        seconds = _round_up(scene.duration_s, self.SECONDS)
        self._charge(video_id, index, seconds)
        what = f"video {video_id}, scene {index}: creating a video"
        body = {"prompt": scene.prompt, "model": self.model, "seconds": str(seconds), "size": self.size}
        payload = self._json(
            self.http.request("POST", f"{self.base_url}/videos", what=what, headers=self._headers, json_body=body), what
        )
        if not payload.get("id"):
            raise self.http.error(f"{what}: the answer holds no video id")
        return str(payload["id"])

    def poll(self, job_id: str, what: str) -> JobStatus:
        response = self.http.request(
            "GET",
            f"{self.base_url}/videos/{job_id}",
            what=f"{what}: reading video {job_id}",
            headers=self._headers,
            accept=(404,),
        )
        if response.status_code == 404:
            raise JobGone(self.http.redact(f"{what}: sora video {job_id} is unknown to the API"))
        payload = self._json(response, what)
        hint = response.headers.get("openai-poll-after-ms")
        poll_after = float(hint) / 1000 if hint and hint.replace(".", "", 1).isdigit() else None
        status = payload.get("status")
        progress = payload.get("progress")
        progress = progress / 100 if isinstance(progress, (int, float)) else None
        if status == "completed":
            return JobStatus(SUCCEEDED, 1.0)
        if status == "failed":
            error = payload.get("error") or {}
            return JobStatus(FAILED, reason=f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}")
        if status in ("queued", "in_progress"):
            return JobStatus(PENDING if status == "queued" else RUNNING, progress, poll_after)
        raise self.http.error(f"{what}: sora video {job_id} has an unknown status {status!r}")

    def download(self, job_id: str, status: JobStatus, dest: Path, what: str) -> None:
        response = self.http.request(
            "GET",
            f"{self.base_url}/videos/{job_id}/content",
            what=f"{what}: downloading video {job_id}",
            headers={**self._headers, "Accept": "application/binary"},
            params={"variant": "video"},
            accept=(404,),
        )
        if response.status_code == 404:
            raise NotReady(self.http.redact(f"{what}: the content of sora video {job_id} is not ready"))
        dest.write_bytes(response.content)


class RunwayVideos(_HttpJobs):
    """Runway's API: text to video, or image to video when ``image_for`` gives the scene a first frame.

    ``image_for(video_id, index, scene)`` returns an https URL or data URI, or None for text only.
    """

    name = "runway"
    GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
    VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
    # model: (durations, ratios, endpoints it serves)
    MODELS: Mapping[str, tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...]]] = {
        "gen4_turbo": ((5, 10), GEN4_RATIOS, ("image_to_video",)),
        "gen4.5": (tuple(range(2, 11)), GEN4_RATIOS, ("image_to_video", "text_to_video")),
        "veo3.1": ((4, 6, 8), VEO_RATIOS, ("image_to_video", "text_to_video")),
        "veo3.1_fast": ((4, 6, 8), VEO_RATIOS, ("image_to_video", "text_to_video")),
        "veo3": ((8,), VEO_RATIOS, ("image_to_video", "text_to_video")),
    }
    PROMPT_UNITS = 1000

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = RUNWAY_BASE_URL,
        model: str = "veo3.1_fast",
        ratio: str = "720:1280",
        image_for: Callable[[str, int, Scene], str | None] | None = None,
        api_version: str = RUNWAY_VERSION,
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check("model", model, tuple(self.MODELS), self.name)
        durations, ratios, endpoints = self.MODELS[model]
        _check("ratio", ratio, ratios, self.name)
        if "text_to_video" not in endpoints and image_for is None:
            raise ValueError(f"runway: {model} makes video from an image only; pass image_for")
        self.model = model
        self.ratio = ratio
        self.durations = durations
        self.endpoints = endpoints
        self.image_for = image_for
        super().__init__(api_key, base_url, budget, http_client, transport, retry, sleep)
        self._headers = {"Authorization": f"Bearer {api_key}", "X-Runway-Version": api_version}

    def _prompt(self, text: str) -> str:
        encoded = text.encode("utf-16-le")
        if len(encoded) // 2 <= self.PROMPT_UNITS:
            return text
        return encoded[: self.PROMPT_UNITS * 2].decode("utf-16-le", errors="ignore")

    def submit(self, video_id: str, index: int, scene: Scene) -> str:
        image = self.image_for(video_id, index, scene) if self.image_for else None
        if image is None and "text_to_video" not in self.endpoints:
            raise ProviderError(f"video {video_id}, scene {index}: runway {self.model} needs a first-frame image")
        duration = _round_up(scene.duration_s, self.durations)
        self._charge(video_id, index, duration)
        body: dict[str, Any] = {
            "model": self.model,
            "promptText": self._prompt(scene.prompt),
            "ratio": self.ratio,
            "duration": duration,
        }
        endpoint = "text_to_video"
        if image is not None:
            endpoint = "image_to_video"
            body["promptImage"] = image
        what = f"video {video_id}, scene {index}: creating a runway task"
        payload = self._json(
            self.http.request(
                "POST", f"{self.base_url}/v1/{endpoint}", what=what, headers=self._headers, json_body=body
            ),
            what,
        )
        if not payload.get("id"):
            raise self.http.error(f"{what}: the answer holds no task id")
        return str(payload["id"])

    def poll(self, job_id: str, what: str) -> JobStatus:
        response = self.http.request(
            "GET",
            f"{self.base_url}/v1/tasks/{job_id}",
            what=f"{what}: reading task {job_id}",
            headers=self._headers,
            accept=(404,),
        )
        if response.status_code == 404:
            raise JobGone(self.http.redact(f"{what}: runway task {job_id} is unknown to the API"))
        payload = self._json(response, what)
        status = payload.get("status")
        if status in ("PENDING", "THROTTLED"):
            return JobStatus(PENDING)
        if status == "RUNNING":
            progress = payload.get("progress")
            return JobStatus(RUNNING, float(progress) if isinstance(progress, (int, float)) else None)
        if status == "SUCCEEDED":
            output = payload.get("output") or []
            return JobStatus(SUCCEEDED, 1.0, output_url=output[0] if output else None)
        if status == "FAILED":
            code = payload.get("failureCode") or "FAILED"
            return JobStatus(FAILED, reason=f"{code}: {payload.get('failure') or 'no reason given'}")
        if status == "CANCELLED":
            return JobStatus(FAILED, reason="the task was cancelled")
        raise self.http.error(f"{what}: runway task {job_id} has an unknown status {status!r}")

    def download(self, job_id: str, status: JobStatus, dest: Path, what: str) -> None:
        self._fetch_url(status.output_url, dest, what, job_id)


class LumaVideos(_HttpJobs):
    """Luma Dream Machine generations (``/generations``)."""

    name = "luma"
    MODELS = ("ray-2", "ray-flash-2", "ray-1-6")
    ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
    DURATIONS = (5, 9)
    RESOLUTIONS = ("540p", "720p", "1080p", "4k")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = LUMA_BASE_URL,
        model: str = "ray-flash-2",
        aspect_ratio: str = "9:16",
        resolution: str = "720p",
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check("model", model, self.MODELS, self.name)
        _check("aspect_ratio", aspect_ratio, self.ASPECT_RATIOS, self.name)
        _check("resolution", resolution, self.RESOLUTIONS, self.name)
        self.model = model
        self.aspect_ratio = aspect_ratio
        self.resolution = resolution
        super().__init__(api_key, base_url, budget, http_client, transport, retry, sleep)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def submit(self, video_id: str, index: int, scene: Scene) -> str:
        duration = _round_up(scene.duration_s, self.DURATIONS)
        self._charge(video_id, index, duration)
        body = {
            "prompt": scene.prompt,
            "model": self.model,
            "aspect_ratio": self.aspect_ratio,
            "duration": f"{duration}s",
            "resolution": self.resolution,
        }
        what = f"video {video_id}, scene {index}: creating a luma generation"
        payload = self._json(
            self.http.request("POST", f"{self.base_url}/generations", what=what, headers=self._headers, json_body=body),
            what,
        )
        if not payload.get("id"):
            raise self.http.error(f"{what}: the answer holds no generation id")
        return str(payload["id"])

    def poll(self, job_id: str, what: str) -> JobStatus:
        response = self.http.request(
            "GET",
            f"{self.base_url}/generations/{job_id}",
            what=f"{what}: reading generation {job_id}",
            headers=self._headers,
            accept=(404,),
        )
        if response.status_code == 404:
            raise JobGone(self.http.redact(f"{what}: luma generation {job_id} is unknown to the API"))
        payload = self._json(response, what)
        state = payload.get("state")
        if state == "queued":
            return JobStatus(PENDING)
        if state == "dreaming":
            return JobStatus(RUNNING)
        if state == "completed":
            return JobStatus(SUCCEEDED, 1.0, output_url=(payload.get("assets") or {}).get("video"))
        if state == "failed":
            return JobStatus(FAILED, reason=payload.get("failure_reason") or "no reason given")
        raise self.http.error(f"{what}: luma generation {job_id} has an unknown state {state!r}")

    def download(self, job_id: str, status: JobStatus, dest: Path, what: str) -> None:
        self._fetch_url(status.output_url, dest, what, job_id)


class PikaVideos(_HttpJobs):
    """Pika's developer API: ``POST /generate/2.2/t2v`` (form fields) and ``GET /videos/{id}``.

    The request shape and the ``X-API-KEY`` header follow Pika's partner API as exposed through
    proxies; treat them as configurable (``generate_path``) rather than settled.
    """

    name = "pika"
    DURATIONS = (5, 10)
    RESOLUTIONS = ("720p", "1080p")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = PIKA_BASE_URL,
        model: str = "pika-2.2",
        generate_path: str = "/generate/2.2/t2v",
        resolution: str = "720p",
        aspect_ratio: float = 9 / 16,
        negative_prompt: str = "text, watermark, blurry",
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check("resolution", resolution, self.RESOLUTIONS, self.name)
        if not 0.4 <= aspect_ratio <= 2.5:
            raise ValueError(f"pika: aspect_ratio {aspect_ratio} (width / height) is outside 0.4..2.5")
        self.model = model
        self.generate_path = generate_path
        self.resolution = resolution
        self.aspect_ratio = aspect_ratio
        self.negative_prompt = negative_prompt
        super().__init__(api_key, base_url, budget, http_client, transport, retry, sleep)
        self._headers = {"X-API-KEY": api_key, "Accept": "application/json"}

    def submit(self, video_id: str, index: int, scene: Scene) -> str:
        duration = _round_up(scene.duration_s, self.DURATIONS)
        self._charge(video_id, index, duration)
        form = {
            "promptText": scene.prompt,
            "negativePrompt": self.negative_prompt,
            "duration": str(duration),
            "resolution": self.resolution,
            "aspectRatio": f"{self.aspect_ratio:.4f}",
        }
        what = f"video {video_id}, scene {index}: creating a pika video"
        payload = self._json(
            self.http.request(
                "POST", f"{self.base_url}{self.generate_path}", what=what, headers=self._headers, data=form
            ),
            what,
        )
        job_id = payload.get("video_id") or payload.get("id")
        if not job_id:
            raise self.http.error(f"{what}: the answer holds no video id")
        return str(job_id)

    def poll(self, job_id: str, what: str) -> JobStatus:
        response = self.http.request(
            "GET",
            f"{self.base_url}/videos/{job_id}",
            what=f"{what}: reading video {job_id}",
            headers=self._headers,
            accept=(404,),
        )
        if response.status_code == 404:
            raise JobGone(self.http.redact(f"{what}: pika video {job_id} is unknown to the API"))
        payload = self._json(response, what)
        status = payload.get("status")
        progress = payload.get("progress")
        progress = progress / 100 if isinstance(progress, (int, float)) else None
        if status == "queued":
            return JobStatus(PENDING, progress)
        if status == "started":
            return JobStatus(RUNNING, progress)
        if status == "finished":
            return JobStatus(SUCCEEDED, 1.0, output_url=payload.get("url"))
        if status == "failed":
            return JobStatus(FAILED, reason=payload.get("error") or payload.get("failure_reason") or "no reason given")
        raise self.http.error(f"{what}: pika video {job_id} has an unknown status {status!r}")

    def download(self, job_id: str, status: JobStatus, dest: Path, what: str) -> None:
        self._fetch_url(status.output_url, dest, what, job_id)


class GeneratedClips(Closing):
    """ClipGenerator over one video provider: every scene's job is submitted (or resumed) first, then
    each is awaited and downloaded to ``scene_NN.mp4``. A failing scene raises; the other scenes'
    jobs stay recorded, so the next attempt resumes them instead of paying for them again."""

    def __init__(
        self,
        provider: JobProvider,
        state: StateStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 5.0,
        max_poll_interval_s: float = 30.0,
        timeout_s: float = 1200.0,
    ) -> None:
        self.provider = provider
        self.jobs = VideoJobs(
            provider,
            state,
            sleep=sleep,
            poll_interval_s=poll_interval_s,
            max_poll_interval_s=max_poll_interval_s,
            timeout_s=timeout_s,
        )

    @property
    def name(self) -> str:
        return self.provider.name

    def close(self) -> None:
        self.provider.close()

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        if not script.scenes:
            raise ProviderError(f"video {script.video_id}: the script has no scenes to generate")
        for index, scene in enumerate(script.scenes, start=1):
            if not scene.prompt.strip():
                raise ProviderError(f"video {script.video_id}, scene {index}: the scene has no prompt")
            if scene.duration_s <= 0:
                raise ProviderError(f"video {script.video_id}, scene {index}: duration {scene.duration_s} s")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / f"scene_{index:02d}.mp4" for index in range(1, len(script.scenes) + 1)]
        done: dict[int, Clip] = {}
        for index, (scene, path) in enumerate(zip(script.scenes, paths), start=1):
            clip = self.jobs.existing(script.video_id, index, scene, path)
            if clip is not None:
                done[index] = clip
            else:
                self.jobs.start(script.video_id, index, scene)
        for index, (scene, path) in enumerate(zip(script.scenes, paths), start=1):
            if index not in done:
                done[index] = self.jobs.finish(script.video_id, index, scene, path)
        return [done[index] for index in range(1, len(script.scenes) + 1)]
