"""Helpers shared by the adapter tests: a recording no-op sleep, media files, a transport that dies."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from shorts_assets.core.types import PublishRequest


class Sleeps(list):
    """A sleep function that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing in the adapter may catch it."""


class DyingTransport(httpx.BaseTransport):
    """Passes requests through until ``dies(request, count)`` says the process dies.

    ``after_send=True`` delivers the request (its effects happen) and dies before the answer is
    read; otherwise it dies before sending.
    """

    def __init__(self, dies: Callable[[httpx.Request, int], bool], after_send: bool = False) -> None:
        self.inner = httpx.HTTPTransport()
        self.dies = dies
        self.after_send = after_send
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.dies(request, self.count):
            if self.after_send:
                response = self.inner.handle_request(request)
                response.read()
                response.close()
            raise ProcessDied(f"killed during {request.method} {request.url.path}")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def media(tmp_path: Path, size: int = 600 * 1024, name: str = "short.mp4") -> tuple[Path, Path]:
    video = tmp_path / name
    video.write_bytes(os.urandom(size))
    thumb = tmp_path / (name + ".jpg")
    thumb.write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
    return video, thumb


def publish_request(
    video: Path, thumb: Path, video_id: str = "vid-0001", *, scheduled_in: timedelta = timedelta(days=1), **fields
) -> PublishRequest:
    values = dict(
        video_id=video_id,
        title="Why octopuses have three hearts #shorts",
        description="Three hearts, blue blood. Made with AI.",
        tags=("octopus", "ocean facts", "science"),
        video_path=video,
        thumbnail_path=thumb,
        scheduled_at=datetime.now(timezone.utc) + scheduled_in,
        duration_s=42.0,
        features={"topic": "ocean"},
        ai_generated=True,
    )
    values.update(fields)
    return PublishRequest(**values)


def script_json(video_id: str, **fields) -> dict:
    """A complete stored script (as the writers store it), with the given fields changed."""
    values = dict(
        video_id=video_id,
        title="T",
        hook="H?",
        narration="N",
        description="",
        scenes=[{"prompt": "a scene", "duration_s": 4.0, "visual": "starfield"}],
        tags=[],
        arms={"topic": "space"},
    )
    values.update(fields)
    return values
