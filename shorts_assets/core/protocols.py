"""The seams between the loop and its providers: the small interfaces adapters implement.

Every adapter has a ``name`` (what the metadata reports) and is a context manager: ``with
build(...) as adapter:`` closes whatever it holds (HTTP clients, engines) however the block ends.
Adapters are plain Python with no Dagster import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from shorts_assets.core.types import (
    Clip,
    Comment,
    MetricSnapshot,
    Publication,
    PublishRequest,
    RenderResult,
    Script,
    Voiceover,
)


class Adapter(Protocol):
    """What every adapter is: named, and closed when its ``with`` block ends."""

    name: str

    def __enter__(self): ...

    def __exit__(self, *exc_info: object) -> None: ...


class Closing:
    """The ``with`` protocol for adapters: ``__exit__`` calls ``close``, which holds nothing by default."""

    name = "adapter"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the adapter holds (HTTP clients, engines); nothing by default."""


class ScriptWriter(Adapter, Protocol):
    def write(
        self,
        video_id: str,
        arms: Mapping[str, str],
        seed: int,
        hints: Mapping[str, object] | None = None,
        language: str = "en",
    ) -> Script:
        """A script realising ``arms`` in ``language`` (the channel's, core.languages); ``hints`` is
        what the learner knows (top and bottom performers, topics viewers asked for), for writers
        that can use it."""


class ClipGenerator(Adapter, Protocol):
    def generate(self, script: Script, out_dir: Path) -> list[Clip]: ...


class Voice(Adapter, Protocol):
    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover: ...


class Renderer(Adapter, Protocol):
    def render(self, clips: Sequence[Clip], voiceover: Voiceover, script: Script, out_path: Path) -> RenderResult: ...


class Publisher(Protocol):
    platform: str
    account: str

    def find(self, video_id: str) -> Publication | None:
        """The platform's own record of an earlier post of this video, if any."""

    def publish(self, request: PublishRequest) -> Publication: ...


class FollowsUp(Protocol):
    """A publisher whose posts can leave something pending (optional: the loop asks when it has it)."""

    def follow_up(self, request: PublishRequest) -> Publication | None:
        """Finish what the video's post left pending (a thumbnail that failed, a draft the creator has
        since posted), idempotently; the publication as it now stands when that changed it, else None."""


class Analytics(Protocol):
    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]: ...


class CommentSource(Protocol):
    def supports_comments(self, platform: str) -> bool:
        """False where the platform offers no way to read comments (TikTok outside research)."""

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]: ...


class Audience(Analytics, CommentSource, Protocol):
    """Analytics and comments from one source (the simulated audience serves both)."""
