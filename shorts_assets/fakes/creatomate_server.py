"""A fake of Creatomate's render API that really renders.

``POST /v1/renders`` takes ``{"source": RenderScript}`` and answers 202 with a list of one render
object; ``GET /v1/renders/{id}`` answers the render object. Both need ``Authorization: Bearer <key>``;
errors are JSON ``{"hint": "…"}`` (a 401's hint echoes the header it got, as careless services do, so a
client that logs error bodies would leak it).

The source is validated: ``output_format`` mp4, integer ``width``/``height``, a numeric ``frame_rate``
and ``duration``, ``elements`` of type video, image, audio or text, each with a numeric ``time`` and
``duration`` (≥ 0, > 0), an integer ``track``, an http(s) ``source`` for media, and for text either
``text`` or a ``transcript_source`` of ``{time, duration, value}`` keyframes.

A render walks through ``plan``, one status per poll (default planned → rendering → succeeded);
``plans`` queues plans for the next created renders, e.g. ``["planned"] + ["rendering"] * 50`` to get
stuck. When a render reaches ``succeeded`` it is rendered for real: every ``source`` URL is fetched over
HTTP (a fetch that fails fails the render with an ``error_message`` naming the element, as the service
does), the visual elements are cover-cropped to the requested size and laid end to end, cross-fading
where they overlap, the audio elements are mixed at their times and loudness-normalised to -14 LUFS
under -1.5 dBTP (``normalise_audio=False`` leaves them as they are), and the result is encoded as
H.264 yuv420p + AAC 48 kHz with faststart. Text is not drawn. A plan step ``"failed"`` fails the
render with ``failure``. The MP4 is served at the render's ``url`` (``/cdn/{id}.mp4``, no
authorisation, which it refuses) until ``expire`` drops it. Faults are queued on the routes
``create``, ``render`` and ``cdn``.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shorts_assets.core.errors import ProviderError
from shorts_assets.fakes.server import FakeApp, Request, Response, json_response
from shorts_assets.providers.media import ffmpeg_report, probe, run_ffmpeg

ELEMENT_TYPES = {"video", "image", "audio", "text", "shape", "composition"}
MEDIA_TYPES = {"video", "image", "audio"}
LOUDNORM = "I=-14:TP=-1.5:LRA=11"


def hint(status: int, message: str) -> Response:
    return json_response(status, {"hint": message})


class RenderFailed(Exception):
    pass


@dataclass
class FakeRender:
    id: str
    source: dict[str, Any]
    metadata: Any
    plan: deque[str]
    status: str
    error_message: str = ""
    video: bytes = b""
    duration: float | None = None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(source: Any) -> str | None:
    """Why the source is not a renderable RenderScript, or None."""
    if not isinstance(source, dict):
        return "source must be a RenderScript object."
    if source.get("output_format") != "mp4":
        return f"output_format {source.get('output_format')!r} is not supported by this renderer; use mp4."
    for name in ("width", "height"):
        value = source.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 16 <= value <= 4096:
            return f"{name} must be an integer number of pixels, got {value!r}."
    if not _number(source.get("frame_rate")) or not 1 <= source["frame_rate"] <= 60:
        return f"frame_rate must be a number of frames per second, got {source.get('frame_rate')!r}."
    if not _number(source.get("duration")) or source["duration"] <= 0:
        return f"duration must be a positive number of seconds, got {source.get('duration')!r}."
    elements = source.get("elements")
    if not isinstance(elements, list) or not elements:
        return "elements must be a non-empty array."
    for index, element in enumerate(elements):
        label = f"elements[{index}]"
        if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
            return f"{label}.type must be one of {', '.join(sorted(ELEMENT_TYPES))}."
        if not _number(element.get("time")) or element["time"] < 0:
            return f"{label}.time must be a number of seconds ≥ 0, got {element.get('time')!r}."
        if not _number(element.get("duration")) or element["duration"] <= 0:
            return f"{label}.duration must be a positive number of seconds, got {element.get('duration')!r}."
        track = element.get("track")
        if not isinstance(track, int) or isinstance(track, bool) or track < 1:
            return f"{label}.track must be an integer ≥ 1, got {track!r}."
        if element["type"] in MEDIA_TYPES:
            url = element.get("source")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                return f"{label}.source must be an http(s) URL, got {url!r}."
            if element.get("fit", "cover") != "cover":
                return f"{label}.fit {element.get('fit')!r} is not supported by this renderer."
        if element["type"] == "text":
            keyframes = element.get("transcript_source")
            if keyframes is None and not isinstance(element.get("text"), str):
                return f"{label} needs text or a transcript_source."
            if keyframes is not None:
                if not isinstance(keyframes, list) or not keyframes:
                    return f"{label}.transcript_source must be a non-empty array of keyframes."
                for frame in keyframes:
                    if (
                        not isinstance(frame, dict)
                        or not _number(frame.get("time"))
                        or not _number(frame.get("duration"))
                        or not isinstance(frame.get("value"), str)
                    ):
                        return f"{label}.transcript_source keyframes need a numeric time and duration and a value."
    return None


class FakeCreatomate(FakeApp):
    default_plan: tuple[str, ...] = ("planned", "rendering", "succeeded")

    def __init__(
        self, api_key: str = "ct_key_4b1f9e77a0c2d3e5", *, normalise_audio: bool = True, preset: str = "ultrafast"
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.normalise_audio = normalise_audio
        self.preset = preset
        self.renders: dict[str, FakeRender] = {}
        self.plans: deque[list[str]] = deque()
        self.failure = "The render was cancelled by the render farm."
        self.expired: set[str] = set()
        self.fetched: list[str] = []

    def route(self, request: Request):
        path = request.path
        if request.method == "POST" and path == "/v1/renders":
            return "create", self.create
        if request.method == "GET" and path.startswith("/v1/renders/"):
            return "render", self.get
        if request.method == "GET" and path.startswith("/cdn/"):
            return "cdn", self.cdn
        raise LookupError(path)

    def submissions(self) -> int:
        return len(self.renders)

    def sources(self) -> list[dict[str, Any]]:
        """The RenderScript of every accepted submission, in order."""
        return [r.source for r in self.renders.values()]

    def expire(self, render_id: str) -> None:
        self.expired.add(render_id)

    def _denied(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if header != f"Bearer {self.api_key}":
            return hint(401, f"The API key is invalid: {header!r}. Provide it as a Bearer token.")
        return None

    def _object(self, render: FakeRender) -> dict[str, Any]:
        source = render.source
        payload: dict[str, Any] = {
            "id": render.id,
            "status": render.status,
            "url": f"{self.base_url}/cdn/{render.id}.mp4",
            "output_format": "mp4",
            "render_scale": 1,
            "width": source["width"],
            "height": source["height"],
            "frame_rate": source["frame_rate"],
            "metadata": render.metadata,
        }
        if render.status == "succeeded":
            payload.update(duration=render.duration, file_size=len(render.video))
        if render.status == "failed":
            payload["error_message"] = render.error_message
        return payload

    def create(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        try:
            body = request.json()
        except ValueError:
            return hint(400, "The request body is not valid JSON.")
        if not isinstance(body, dict) or "source" not in body:
            return hint(400, "Provide a template_id or a source.")
        problem = validate(body["source"])
        if problem is not None:
            return hint(400, problem)
        plan = deque(self.plans.popleft() if self.plans else self.default_plan)
        render = FakeRender(str(uuid.uuid4()), body["source"], body.get("metadata"), plan, plan.popleft())
        self.renders[render.id] = render
        return json_response(202, [self._object(render)])

    def get(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        render = self.renders.get(request.path.rsplit("/", 1)[-1])
        if render is None:
            return hint(404, "The render was not found.")
        if render.plan and render.status not in ("succeeded", "failed"):
            status = render.plan.popleft()
            if status == "succeeded":
                try:
                    render.video, render.duration = self.render(render.source)
                except RenderFailed as exc:
                    status, render.error_message = "failed", str(exc)
            elif status == "failed":
                render.error_message = self.failure
            render.status = status
        return json_response(200, self._object(render))

    def cdn(self, request: Request) -> Response:
        render_id = request.path.rsplit("/", 1)[-1].removesuffix(".mp4")
        render = self.renders.get(render_id)
        if "authorization" in request.headers:
            return Response(400, b"<Error><Code>InvalidArgument</Code></Error>", {"Content-Type": "application/xml"})
        if render is None or render.status != "succeeded" or render_id in self.expired:
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
        return Response(200, render.video, {"Content-Type": "video/mp4"})

    # --- rendering ---------------------------------------------------------------------------------

    def _fetch(self, element: dict[str, Any], folder: Path, index: int) -> Path:
        url = element["source"]
        name = element.get("name") or f"element {index}"
        try:
            response = httpx.get(url, timeout=30.0)
        except httpx.HTTPError as exc:
            raise RenderFailed(f"The source of element '{name}' could not be loaded: {url} ({exc}).") from None
        if response.status_code != 200:
            raise RenderFailed(
                f"The source of element '{name}' could not be loaded: {url} (HTTP {response.status_code})."
            )
        self.fetched.append(url)
        suffix = Path(httpx.URL(url).path).suffix or ".bin"
        path = folder / f"source_{index}{suffix}"
        path.write_bytes(response.content)
        return path

    def render(self, source: dict[str, Any]) -> tuple[bytes, float]:
        """The MP4 the source describes, and its duration."""
        width, height, fps, total = source["width"], source["height"], source["frame_rate"], source["duration"]
        elements = source["elements"]
        with tempfile.TemporaryDirectory(prefix="fake-creatomate-") as work:
            folder = Path(work)
            files = {i: self._fetch(e, folder, i) for i, e in enumerate(elements) if e["type"] in MEDIA_TYPES}
            visuals = sorted(
                (i for i, e in enumerate(elements) if e["type"] in ("video", "image")),
                key=lambda i: (elements[i]["time"], elements[i]["track"]),
            )
            sounds = [i for i, e in enumerate(elements) if e["type"] == "audio"]
            for i, path in files.items():
                try:
                    probe(path)
                except ProviderError:
                    raise RenderFailed(
                        f"The source of element '{elements[i].get('name', i)}' is not a media file."
                    ) from None

            args: list[str] = []
            graph: list[str] = []
            n = 0
            video_label = None
            end = 0.0
            for position, i in enumerate(visuals):
                element = elements[i]
                start, length = float(element["time"]), float(element["duration"])
                if element["type"] == "image":
                    args += ["-loop", "1", "-t", f"{length:.3f}", "-i", f"file:{files[i]}"]
                else:
                    loop = ["-stream_loop", "-1"] if element.get("loop") else []
                    args += loop + ["-t", f"{length:.3f}", "-i", f"file:{files[i]}"]
                graph.append(
                    f"[{n}:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
                    f"setsar=1,fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={length:.3f},"
                    f"trim=duration={length:.6f},setpts=PTS-STARTPTS,settb=1/{fps}[s{position}]"
                )
                n += 1
                if video_label is None:
                    if start > 0:
                        graph.append(f"[s{position}]tpad=start_duration={start:.6f}:color=black[s{position}p]")
                        video_label = f"s{position}p"
                    else:
                        video_label = f"s{position}"
                else:
                    overlap = end - start
                    if overlap > 1e-3:
                        graph.append(
                            f"[{video_label}][s{position}]xfade=transition=fade:duration={overlap:.6f}:"
                            f"offset={start:.6f},format=yuv420p[x{position}]"
                        )
                    else:
                        gap = -overlap
                        if gap > 1e-3:
                            graph.append(
                                f"[{video_label}]tpad=stop_mode=add:stop_duration={gap:.6f}:color=black[g{position}]"
                            )
                            video_label = f"g{position}"
                        graph.append(f"[{video_label}][s{position}]concat=n=2:v=1:a=0[x{position}]")
                    video_label = f"x{position}"
                end = start + length
            if video_label is None:
                args += ["-f", "lavfi", "-i", f"color=black:size={width}x{height}:rate={fps}"]
                video_label = f"{n}:v"
                n += 1
            graph.append(
                f"[{video_label}]tpad=stop_mode=clone:stop_duration={total:.6f},"
                f"trim=duration={total:.6f},setpts=PTS-STARTPTS,format=yuv420p[vout]"
            )

            audio_args: list[str] = []
            audio_graph: list[str] = []
            for k, i in enumerate(sounds):
                element = elements[i]
                delay = round(float(element["time"]) * 1000)
                audio_args += ["-i", f"file:{files[i]}"]
                audio_graph.append(
                    f"aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                    f"atrim=duration={float(element['duration']):.6f},adelay=delays={delay}:all=1[a{k}]"
                )
            if sounds:
                labels = "".join(f"[a{k}]" for k in range(len(sounds)))
                mixed = (
                    f"{labels}amix=inputs={len(sounds)}:normalize=0:duration=longest,"
                    if len(sounds) > 1
                    else f"{labels}anull,"
                )
            else:
                audio_args += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
                audio_graph.append("anull[a0]")
                mixed = "[a0]anull,"
            mixed += f"apad=whole_dur={total:.6f},atrim=end={total:.6f}"

            loudnorm = ""
            if self.normalise_audio and sounds:
                measure = [f"[{k}:a]{g}" for k, g in enumerate(audio_graph)]
                report = ffmpeg_report(
                    audio_args
                    + [
                        "-filter_complex",
                        ";".join(measure + [f"{mixed},loudnorm={LOUDNORM}:print_format=json[m]"]),
                        "-map",
                        "[m]",
                        "-f",
                        "null",
                        "-",
                    ],
                    "fake creatomate: measuring the audio",
                )
                m = json.loads(report[report.rfind("{") : report.rfind("}") + 1])
                loudnorm = (
                    f",loudnorm={LOUDNORM}:measured_I={m['input_i']}:measured_TP={m['input_tp']}:"
                    f"measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}:"
                    f"offset={m['target_offset']}:linear=true,aresample=48000"
                )
            graph += [f"[{n + k}:a]{g}" for k, g in enumerate(audio_graph)]
            graph.append(f"{mixed}{loudnorm}[aout]")

            out = folder / "render.mp4"
            run_ffmpeg(
                args
                + audio_args
                + [
                    "-filter_complex",
                    ";".join(graph),
                    "-map",
                    "[vout]",
                    "-map",
                    "[aout]",
                    "-c:v",
                    "libx264",
                    "-preset",
                    self.preset,
                    "-crf",
                    "26",
                    "-profile:v",
                    "high",
                    "-x264-params",
                    "8x8dct=1",
                    "-pix_fmt",
                    "yuv420p",
                    "-r",
                    str(fps),
                    "-c:a",
                    "aac",
                    "-b:a",
                    "128k",
                    "-ar",
                    "48000",
                    "-ac",
                    "2",
                    "-t",
                    f"{total:.6f}",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    f"file:{out}",
                ],
                "fake creatomate: rendering",
            )
            return out.read_bytes(), probe(out).duration_s
