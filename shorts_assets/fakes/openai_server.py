"""A fake of the OpenAI API: Responses and Chat Completions with strict structured output, Videos (Sora)
and Speech.

It enforces: the bearer key (401 with OpenAI's error envelope otherwise); on text calls a
``json_schema`` format with a valid name and ``strict: true`` over a schema where every object lists
all its properties in ``required`` and sets ``additionalProperties: false``; on videos the ``model``,
``seconds`` ("4" | "8" | "12", strings) and ``size`` enums, the status machine queued → in_progress →
completed | failed, and ``content`` answering 404 until the video is completed (and, to mimic
storage lagging behind the status, ``content_not_ready`` more times).

Text answers follow ``answers``, a queue of modes (``valid`` when empty): ``valid``, ``refusal``,
``truncated`` (status incomplete / finish_reason length), ``invalid_json`` and ``schema_violation``.
A valid answer is built from the request's schema, echoing the arms it pins. ``served`` lists which
text APIs exist; the others answer 404 like a server that lacks them.

Speech (``/audio/speech``) enforces the ``model``, ``voice`` (fewer for tts-1 and tts-1-hd),
``response_format`` and ``speed`` values, ``input`` of 1 to 4096 characters, and no ``instructions``
for tts-1 and tts-1-hd. It answers with real speech at 24 kHz (the offline narrator's, ``fable``
British, the rest American), in the format asked for: ``pcm`` raw, ``wav`` with the placeholder
sizes of a streamed WAV, the others encoded by ffmpeg; ``speeches`` keeps what was spoken.

Images (``/images/generations``) enforce the GPT image models, ``prompt`` (1 to 32 000 characters),
``n`` (1 to 10), ``size`` (``1024x1024``, ``1024x1536``, ``1536x1024``, ``auto``), ``quality``,
``output_format``, ``background`` and ``moderation``, and refuse ``response_format`` (GPT image
models always answer base64); without ``model`` the request is DALL·E 2's, which has no portrait
size. An answer holds real images of the size asked for as ``b64_json`` and the ``usage`` that is
billed. ``image_answers`` queues failures: ``moderation`` (400 ``moderation_blocked``),
``rate_limit`` (429 with ``retry-after-ms``), ``insufficient_quota`` (429) and ``unverified``
(403, the organisation must be verified); ``images`` keeps the bodies served.
Mount at ``/v1``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SORA_MODELS = {"sora-2", "sora-2-pro"}
SORA_SECONDS = {"4", "8", "12"}
SORA_SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024"}
TTS_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"}
TTS_CLASSIC_MODELS = {"tts-1", "tts-1-hd"}
TTS_CLASSIC_VOICES = {"alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"}
TTS_VOICES = TTS_CLASSIC_VOICES | {"ballad", "verse", "marin", "cedar"}
TTS_FORMATS = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TTS_INPUT_LIMIT = 4096
IMAGE_MODELS = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"}
IMAGE_SIZES = {"1024x1024", "1024x1536", "1536x1024", "auto"}
IMAGE_QUALITIES = {"low", "medium", "high", "auto"}
IMAGE_FORMATS = {"png": "png", "jpeg": "mjpeg", "webp": "libwebp"}
IMAGE_PROMPT_LIMIT = 32_000
# Image output tokens billed per image (gpt-image-1), by quality and size.
IMAGE_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
_IMAGE_CACHE: dict[tuple[str, str], bytes] = {}  # (size, format) -> the image served


def error(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return json_response(status, {"error": {"message": message, "type": type_, "param": param, "code": code}}, headers)


def strict_schema_problem(schema: Any, path: str = "schema") -> str | None:
    """Why ``schema`` is not valid for strict structured output, or None."""
    if not isinstance(schema, dict):
        return f"{path}: not an object"
    if schema.get("type") == "object":
        props = schema.get("properties")
        if not isinstance(props, dict):
            return f"{path}: object without properties"
        if schema.get("additionalProperties") is not False:
            return f"{path}: additionalProperties must be false"
        if sorted(schema.get("required") or []) != sorted(props):
            return f"{path}: every property must be required"
        for name, sub in props.items():
            problem = strict_schema_problem(sub, f"{path}.{name}")
            if problem:
                return problem
    if schema.get("type") == "array":
        return strict_schema_problem(schema.get("items"), f"{path}.items")
    return None


def script_document(schema: dict[str, Any]) -> dict[str, Any]:
    """A valid script document for the request's schema (arms echoed from their pinned enums)."""
    arms = {name: prop["enum"][0] for name, prop in schema["properties"]["arms"]["properties"].items()}
    visual = schema["properties"]["scenes"]["items"]["properties"]["visual"]["enum"][0]
    hook = "Did you know octopuses have three hearts?"
    return {
        "title": "Three hearts, blue blood",
        "hook": hook,
        "narration": f"{hook} Two pump blood to the gills, one to the body. Follow for more.",
        "description": "Octopuses are stranger than you think. #shorts #ocean",
        "scenes": [
            {
                "prompt": "Close-up of an octopus gliding over a coral reef, soft light",
                "duration_s": 3.5,
                "visual": visual,
                "keywords": ["octopus", "coral reef"],
            },
            {
                "prompt": "Animated diagram-like shot of glowing hearts inside a translucent octopus",
                "duration_s": 5.0,
                "visual": visual,
                "keywords": ["octopus", "heart"],
            },
        ],
        "tags": ["octopus", "ocean", "#facts"],
        **({"emphasis": ["three", "hearts"]} if "emphasis" in schema["properties"] else {}),
        "arms": arms,
    }


def answer_text(mode: str, schema: dict[str, Any]) -> str:
    doc = script_document(schema)
    if mode == "invalid_json":
        return '{"title": "Three hearts", "hook": "Did you know'
    if mode == "schema_violation":
        doc["scenes"][0]["duration_s"] = -2
        del doc["tags"]
    return json.dumps(doc)


@dataclass
class Video:
    id: str
    model: str
    seconds: str
    size: str
    prompt: str
    status: str = "queued"
    progress: int = 0
    polls: int = 0
    error: dict[str, str] | None = None

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": self.status,
            "progress": self.progress,
            "created_at": 1790000000,
            "completed_at": None,
            "expires_at": 1790086400,
            "seconds": self.seconds,
            "size": self.size,
            "remixed_from_video_id": None,
            "error": self.error,
        }


class FakeOpenAI(FakeApp):
    def __init__(
        self,
        api_key: str = "sk-test-openai-key-000111",
        video_bytes: bytes = b"",
        served: tuple[str, ...] = ("responses", "chat"),
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.served = set(served)
        self.answers: deque[str] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.video_bytes = video_bytes
        self.videos: dict[str, Video] = {}
        self.ids = itertools.count(1)
        self.polls_to_finish = 2  # polls a video spends queued/in progress before it is done
        self.fail_next: deque[dict[str, str]] = deque()  # errors for the next created videos
        self.poll_after_ms: int | None = 1500
        self.content_not_ready = 0  # content requests answered 404 even after completion
        self.speeches: list[tuple[dict[str, Any], Any]] = []  # (request body, what was spoken)
        self.image_answers: deque[str] = deque()  # failures for the next image requests
        self.images: list[dict[str, Any]] = []  # image request bodies answered with images

    def route(self, request: Request):
        path = request.path
        if request.method == "POST" and path == "/v1/responses":
            return "responses", self.responses
        if request.method == "POST" and path == "/v1/chat/completions":
            return "chat", self.chat
        if request.method == "POST" and path == "/v1/audio/speech":
            return "speech", self.speech
        if request.method == "POST" and path == "/v1/images/generations":
            return "images", self.generate_images
        if request.method == "POST" and path == "/v1/videos":
            return "videos.create", self.create_video
        match = re.fullmatch(r"/v1/videos/([^/]+)(/content)?", path)
        if match and request.method == "GET":
            return ("videos.content", self.content) if match.group(2) else ("videos.get", self.get_video)
        raise LookupError(path)

    def _unauthorized(self, request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        if given != f"Bearer {self.api_key}":
            # Echoes what it was sent, so tests can prove the adapter keeps keys out of its errors.
            return error(401, f"Incorrect API key provided: {given.removeprefix('Bearer ')}.", code="invalid_api_key")
        return None

    def _format_problem(self, fmt: Any) -> str | None:
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            return "format.type must be 'json_schema'"
        if not NAME_RE.match(str(fmt.get("name", ""))):
            return "format.name must match ^[A-Za-z0-9_-]{1,64}$"
        if fmt.get("strict") is not True:
            return "format.strict must be true"
        return strict_schema_problem(fmt.get("schema"))

    def responses(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if "responses" not in self.served:
            return json_response(
                404, {"error": {"message": "Not found", "type": "invalid_request_error", "code": None, "param": None}}
            )
        body = request.json()
        self.bodies.append(body)
        if not isinstance(body.get("model"), str) or not isinstance(body.get("input"), list):
            return error(400, "model and input are required")
        fmt = (body.get("text") or {}).get("format")
        if (problem := self._format_problem(fmt)) is not None:
            return error(400, f"Invalid schema for response_format: {problem}", param="text.format")
        mode = self.answers.popleft() if self.answers else "valid"
        status, incomplete, content = "completed", None, []
        if mode == "refusal":
            content = [{"type": "refusal", "refusal": "I'm sorry, I can't help with that."}]
        elif mode == "truncated":
            status, incomplete = "incomplete", {"reason": "max_output_tokens"}
            content = [{"type": "output_text", "text": answer_text("valid", fmt["schema"])[:60], "annotations": []}]
        else:
            content = [{"type": "output_text", "text": answer_text(mode, fmt["schema"]), "annotations": []}]
        return json_response(
            200,
            {
                "id": f"resp_{next(self.ids)}",
                "object": "response",
                "status": status,
                "model": body["model"],
                "incomplete_details": incomplete,
                "error": None,
                "output": [
                    {"type": "reasoning", "id": "rs_1", "summary": []},
                    {"type": "message", "id": "msg_1", "role": "assistant", "status": status, "content": content},
                ],
                "usage": {"input_tokens": 500, "output_tokens": 300, "total_tokens": 800},
            },
        )

    def chat(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if "chat" not in self.served:
            return error(404, "Not found")
        body = request.json()
        self.bodies.append(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, "messages must be a non-empty array", param="messages")
        rf = body.get("response_format") or {}
        fmt = {"type": rf.get("type"), **(rf.get("json_schema") or {})}
        if (problem := self._format_problem(fmt)) is not None:
            return error(400, f"Invalid schema for response_format: {problem}", param="response_format")
        mode = self.answers.popleft() if self.answers else "valid"
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish = "stop"
        if mode == "refusal":
            message["refusal"] = "I'm sorry, I can't help with that."
        elif mode == "truncated":
            message["content"] = answer_text("valid", fmt["schema"])[:60]
            finish = "length"
        else:
            message["content"] = answer_text(mode, fmt["schema"])
        return json_response(
            200,
            {
                "id": f"chatcmpl-{next(self.ids)}",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            },
        )

    # --- videos (Sora) ------------------------------------------------------------------------------

    def create_video(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        body = request.json()
        if not isinstance(body, dict) or not body.get("prompt"):
            return error(400, "Missing required parameter: 'prompt'.", param="prompt")
        model = body.get("model", "sora-2")
        seconds = body.get("seconds", "4")
        size = body.get("size", "720x1280")
        if model not in SORA_MODELS:
            return error(400, f"Invalid value for 'model': {model!r}.", param="model")
        if not isinstance(seconds, str) or seconds not in SORA_SECONDS:
            return error(
                400, f"Invalid value for 'seconds': {seconds!r}; expected one of '4', '8', '12'.", param="seconds"
            )
        if size not in SORA_SIZES:
            return error(400, f"Invalid value for 'size': {size!r}.", param="size")
        video = Video(f"video_{next(self.ids):04d}", model, seconds, size, body["prompt"])
        if self.fail_next:
            video.error = self.fail_next.popleft()
        self.videos[video.id] = video
        return json_response(200, video.resource())

    def _video(self, request: Request) -> Video | Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        video_id = request.path.split("/")[3]
        video = self.videos.get(video_id)
        if video is None:
            return error(404, f"Video with id '{video_id}' not found.", code="not_found")
        return video

    def get_video(self, request: Request) -> Response:
        video = self._video(request)
        if isinstance(video, Response):
            return video
        if video.status in ("queued", "in_progress"):
            video.polls += 1
            if video.polls >= self.polls_to_finish:
                video.status = "failed" if video.error else "completed"
                video.progress = 100 if video.status == "completed" else video.progress
            else:
                video.status, video.progress = "in_progress", 50
        headers = {"openai-poll-after-ms": str(self.poll_after_ms)} if self.poll_after_ms else {}
        return json_response(200, video.resource(), headers)

    def content(self, request: Request) -> Response:
        video = self._video(request)
        if isinstance(video, Response):
            return video
        if request.query.get("variant", "video") != "video":
            return error(400, "only the video variant is served here", param="variant")
        if video.status != "completed" or self.content_not_ready > 0:
            self.content_not_ready = max(0, self.content_not_ready - 1)
            return error(404, f"Video '{video.id}' is not ready: its status is {video.status}.", code="not_found")
        return Response(200, self.video_bytes, {"Content-Type": "video/mp4"})

    # --- speech ---------------------------------------------------------------------------------------

    def speech(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        try:
            body = request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return error(400, "The body must be a JSON object.")
        model, voice, text = body.get("model"), body.get("voice"), body.get("input")
        response_format, speed = body.get("response_format", "mp3"), body.get("speed", 1.0)
        if model not in TTS_MODELS:
            return error(400, f"Invalid value for 'model': {model!r}.", param="model")
        if not isinstance(text, str) or not text:
            return error(400, "Missing required parameter: 'input'.", param="input")
        if len(text) > TTS_INPUT_LIMIT:
            return error(
                400,
                f"Invalid 'input': string too long. Expected a string with maximum length "
                f"{TTS_INPUT_LIMIT}, but got a string with length {len(text)} instead.",
                param="input",
                code="string_above_max_length",
            )
        voices = TTS_CLASSIC_VOICES if model in TTS_CLASSIC_MODELS else TTS_VOICES
        if voice not in voices:
            return error(
                400,
                f"Invalid value for 'voice': {voice!r}; {model} supports {', '.join(sorted(voices))}.",
                param="voice",
            )
        if response_format not in TTS_FORMATS:
            return error(400, f"Invalid value for 'response_format': {response_format!r}.", param="response_format")
        if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not 0.25 <= speed <= 4.0:
            return error(400, f"Invalid 'speed': {speed!r}; expected a number from 0.25 to 4.0.", param="speed")
        if body.get("instructions") and model in TTS_CLASSIC_MODELS:
            return error(400, f"'instructions' is not supported with {model}.", param="instructions")
        from shorts_assets.fakes.elevenlabs_server import encode, speak

        spoken = speak(text, "en-gb" if voice == "fable" else "en-us", 24_000)
        self.speeches.append((body, spoken))
        audio = encode(spoken.samples, spoken.rate, response_format)
        return Response(
            200,
            audio,
            {
                "Content-Type": TTS_FORMATS[response_format],
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "499",
            },
        )

    # --- images ---------------------------------------------------------------------------------------

    def _image_bytes(self, size: str, output_format: str) -> bytes:
        """A real image of ``size`` in ``output_format``, drawn by ffmpeg (once per size and format)."""
        key = (size, output_format)
        if key not in _IMAGE_CACHE:
            from shorts_assets.providers.media import run_ffmpeg

            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"image.{output_format}"
                run_ffmpeg(
                    [
                        "-f",
                        "lavfi",
                        "-i",
                        f"color=c=0x1b6f8a:s={size},drawbox=x=iw/4:y=ih/4:w=iw/2:h=ih/2:c=0xffb300:t=fill",
                    ]
                    + ["-frames:v", "1", "-c:v", IMAGE_FORMATS[output_format], "-f", "image2", f"file:{path}"],
                    f"drawing a {size} {output_format} image",
                )
                _IMAGE_CACHE[key] = path.read_bytes()
        return _IMAGE_CACHE[key]

    def _image_failure(self, mode: str, model: str) -> Response:
        if mode == "moderation":
            return error(
                400,
                "Your request was rejected as a result of our safety system. Your request may contain content "
                "that is not allowed by our safety system.",
                type_="image_generation_user_error",
                code="moderation_blocked",
            )
        if mode == "rate_limit":
            return error(
                429,
                f"Rate limit reached for {model} in organization org-test on images per min (IPM): Limit 5, "
                "Used 5, Requested 1. Please try again in 1.5s.",
                type_="requests",
                code="rate_limit_exceeded",
                headers={
                    "retry-after-ms": "1500",
                    "x-ratelimit-limit-images": "5",
                    "x-ratelimit-remaining-images": "0",
                },
            )
        if mode == "insufficient_quota":
            return error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                type_="insufficient_quota",
                code="insufficient_quota",
            )
        if mode == "unverified":
            return error(
                403,
                f"Your organization must be verified to use the model `{model}`. Please go to "
                "https://platform.openai.com/settings/organization/general and click on Verify Organization.",
            )
        raise ValueError(f"unknown image failure mode {mode!r}")

    def generate_images(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        try:
            body = request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return error(400, "The body must be a JSON object.")
        model = body.get("model", "dall-e-2")
        size = body.get("size", "auto" if model in IMAGE_MODELS else "1024x1024")
        if model == "dall-e-2":
            if size not in {"256x256", "512x512", "1024x1024"}:
                return error(
                    400,
                    f"Invalid value: '{size}'. Supported values are: '256x256', '512x512', and '1024x1024'.",
                    param="size",
                    code="invalid_value",
                )
            return error(400, "dall-e-2 is not served here; send a GPT image model.", param="model")
        if model not in IMAGE_MODELS:
            return error(400, f"Invalid value for 'model': {model!r}.", param="model", code="invalid_value")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return error(
                400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
            )
        if len(prompt) > IMAGE_PROMPT_LIMIT:
            return error(
                400,
                f"Invalid 'prompt': string too long. Expected a string with maximum length {IMAGE_PROMPT_LIMIT}, "
                f"but got a string with length {len(prompt)} instead.",
                param="prompt",
                code="string_above_max_length",
            )
        if "response_format" in body:
            return error(
                400, "Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter"
            )
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
            return error(400, f"Invalid 'n': {n!r}; expected an integer from 1 to 10.", param="n")
        if size not in IMAGE_SIZES:
            return error(
                400,
                f"Invalid value: '{size}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
                param="size",
                code="invalid_value",
            )
        quality = body.get("quality", "auto")
        if quality not in IMAGE_QUALITIES:
            return error(400, f"Invalid value for 'quality': {quality!r}.", param="quality", code="invalid_value")
        output_format = body.get("output_format", "png")
        if output_format not in IMAGE_FORMATS:
            return error(
                400,
                f"Invalid value for 'output_format': {output_format!r}.",
                param="output_format",
                code="invalid_value",
            )
        background = body.get("background", "auto")
        if background not in {"transparent", "opaque", "auto"}:
            return error(400, f"Invalid value for 'background': {background!r}.", param="background")
        if background == "transparent" and output_format == "jpeg":
            return error(400, "Transparent background requires png or webp output.", param="background")
        if body.get("moderation", "auto") not in {"low", "auto"}:
            return error(400, f"Invalid value for 'moderation': {body.get('moderation')!r}.", param="moderation")
        if self.image_answers:
            return self._image_failure(self.image_answers.popleft(), model)
        served_size = "1024x1024" if size == "auto" else size
        served_quality = "medium" if quality == "auto" else quality
        image = base64.b64encode(self._image_bytes(served_size, output_format)).decode("ascii")
        self.images.append(body)
        prompt_tokens = len(prompt) // 4 + 1
        image_tokens = IMAGE_TOKENS[served_quality][served_size] * n
        return json_response(
            200,
            {
                "created": int(time.time()),
                "background": "opaque" if background == "auto" else background,
                "output_format": output_format,
                "quality": served_quality,
                "size": served_size,
                "data": [{"b64_json": image} for _ in range(n)],
                "usage": {
                    "input_tokens": prompt_tokens,
                    "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
                    "output_tokens": image_tokens,
                    "output_tokens_details": {"image_tokens": image_tokens, "text_tokens": 0},
                    "total_tokens": prompt_tokens + image_tokens,
                },
            },
        )
