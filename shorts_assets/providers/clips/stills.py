"""AI stills (``VIDEO_GEN_PROVIDER=openai_images``): one image per scene from OpenAI's image API
(``POST /v1/images/generations``, GPT image models), which the renderer animates with a slow zoom.

Each scene's prompt (with ``style`` appended) is sent for one portrait image (``1024x1536`` by
default: the API has no 9:16 size, and the renderer cover-crops). The image is charged to the
channel's ``Budget`` before the request is sent, by model, quality and size (``PriceTable.images_usd``)
plus the prompt's tokens; it comes back as base64, is written to ``scene_NN.png`` atomically and
must decode as an image. With a state store, a retried video keeps a still already made for the
same prompt instead of paying for it again.

A prompt the API's safety system refuses is a ``NoMatch`` (a chain asks its next provider); a bad
key, an unverified organisation, a bad parameter or a spent quota are hard errors. Rate limits are
retried as the answer's ``retry-after-ms`` says. The key is redacted from every error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore, load_record, save_record
from shorts_assets.core.types import Clip, Script
from shorts_assets.providers.clips.chain import NoMatch, check_scene, generate_scenes, scene_path
from shorts_assets.providers.media import atomic_output, probe
from shorts_assets.providers.net.clients import api_http_client, openai_classify
from shorts_assets.providers.net.costs import Budget, estimate_tokens
from shorts_assets.providers.net.http import RetryPolicy, safe_json

OPENAI_BASE_URL = "https://api.openai.com/v1"
NAMESPACE = "image_stills"
DEFAULT_STYLE = "Vertical composition, photographic, rich detail, no text, letters or watermarks."
PROMPT_LIMIT = 32_000

STILLS_RETRY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=60.0, timeout=httpx.Timeout(300.0, connect=10.0))


def _check(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"openai_images: {name} {value!r} is not one of {', '.join(map(str, allowed))}")


class OpenAIStills(Closing):
    """A ClipGenerator and scene source of one AI still per scene (see the module docstring)."""

    name = "openai_images"
    MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5")
    SIZES = ("1024x1536", "1024x1024", "1536x1024")
    QUALITIES = ("low", "medium", "high")
    FORMATS = {"png": ".png", "jpeg": ".jpg"}

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = OPENAI_BASE_URL,
        model: str = "gpt-image-1",
        size: str = "1024x1536",
        quality: str = "medium",
        output_format: str = "png",
        style: str = DEFAULT_STYLE,
        budget: Budget | None = None,
        state: StateStore | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ProviderError("openai_images: no API key (OPENAI_API_KEY)")
        _check("model", model, self.MODELS)
        _check("size", size, self.SIZES)
        _check("quality", quality, self.QUALITIES)
        _check("output_format", output_format, tuple(self.FORMATS))
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.size = size
        self.quality = quality
        self.output_format = output_format
        self.style = style.strip()
        self.budget = budget
        self.state = state
        self.http = api_http_client(
            self.name, api_key, http_client=http_client, transport=transport, retry=retry or STILLS_RETRY, sleep=sleep
        )
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        self.http.close()

    def prompt(self, text: str) -> str:
        full = f"{text.strip()} {self.style}".strip()
        return full[:PROMPT_LIMIT]

    def _fingerprint(self, prompt: str) -> str:
        text = json.dumps([self.model, self.size, self.quality, self.output_format, prompt], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        return generate_scenes(self, script, out_dir)

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        check_scene(script, index)
        scene = script.scenes[index - 1]
        what = f"video {script.video_id}, scene {index}"
        if not scene.prompt.strip():
            raise ProviderError(f"{what}: the scene has no prompt to draw a still from")
        prompt = self.prompt(scene.prompt)
        path = scene_path(out_dir, index, self.FORMATS[self.output_format])
        key = f"{script.video_id}:{index}"
        mark = self._fingerprint(prompt)
        credit = {
            "provider": self.name,
            "clip_id": f"{script.video_id}-s{index:02d}",
            "source_url": "",
            "author": f"OpenAI {self.model}",
            "licence": "AI-generated with OpenAI's image API (OpenAI terms of use)",
        }
        kept = self._kept(key, mark, path)
        if kept is not None:
            return Clip(path, scene.duration_s, kept[0], kept[1], credit)
        image = self._request(what, prompt)
        with atomic_output(path) as temp:
            temp.write_bytes(image)
            try:
                info = probe(temp)
            except ProviderError as exc:
                raise ProviderError(
                    f"{what}: {self.name} answered with something that is not an image: {exc}"
                ) from None
            if not info.has_video or not info.width or not info.height:
                raise ProviderError(
                    f"{what}: {self.name} answered with something that is not an image (no picture in it)"
                )
        if self.state is not None:
            save_record(self.state, NAMESPACE, key, {"fingerprint": mark, "path": path.name})
        return Clip(path, scene.duration_s, info.width, info.height, credit)

    def _kept(self, key: str, mark: str, path: Path) -> tuple[int, int] | None:
        """The size of the still an earlier attempt made for this very prompt, if it is still in place."""
        if self.state is None or not path.is_file():
            return None
        record = load_record(self.state, NAMESPACE, key, "fingerprint")
        if record is None or record["fingerprint"] != mark or record.get("path") not in (path.name, str(path)):
            return None
        try:
            info = probe(path)
        except ProviderError:
            return None
        return (info.width, info.height) if info.has_video and info.width and info.height else None

    def _request(self, what: str, prompt: str) -> bytes:
        if self.budget is not None:
            self.budget.charge_images(
                f"{what}: {self.name} {self.model} {self.quality} still of {self.size}",
                self.model,
                self.quality,
                self.size,
                estimate_tokens(prompt),
            )
        body = {
            "model": self.model,
            "prompt": prompt,
            "n": 1,
            "size": self.size,
            "quality": self.quality,
            "output_format": self.output_format,
        }
        doing = f"{what}: generating a still"
        response = self.http.request(
            "POST",
            f"{self.base_url}/images/generations",
            what=doing,
            headers=self._headers,
            json_body=body,
            classify=openai_classify,
            accept=(400,),
        )
        if response.status_code == 400:
            payload = safe_json(response)
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict) and error.get("code") == "moderation_blocked":
                raise NoMatch(
                    self.http.redact(
                        f"{doing}: the image API's safety system refused the prompt: {error.get('message')}"
                    )
                )
            raise self.http.failure(response, doing)
        payload = self.http.json(response, doing)
        data = payload.get("data") if isinstance(payload, dict) else None
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        encoded = first.get("b64_json")
        if not isinstance(encoded, str) or not encoded:
            raise self.http.error(f"{doing}: the answer holds no b64_json image")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise self.http.error(f"{doing}: the answer's b64_json is not valid base64") from None
