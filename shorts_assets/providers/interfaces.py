"""The seams between the loop and its providers: value types and the small interfaces adapters implement.

Adapters are plain Python with no Dagster import. Each seam has an offline implementation that does
real local work and, where the platform exists, an HTTP one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Protocol, Sequence

PLATFORMS: tuple[str, ...] = ("youtube", "tiktok", "instagram")


class ProviderError(Exception):
    """One video's work failed at a provider; the message names the input. Siblings carry on."""


class NeedsManual(ProviderError):
    """Retrying cannot help until a person acts (a revoked login, an upload the platform rejected)."""


@dataclass(frozen=True)
class Scene:
    prompt: str
    duration_s: float
    visual: str  # a procedural look: see procedural_clips.VISUALS


@dataclass(frozen=True)
class Script:
    video_id: str
    title: str
    hook: str
    narration: str  # everything spoken, hook first
    description: str
    scenes: tuple[Scene, ...]
    tags: tuple[str, ...]
    arms: Mapping[str, str]


@dataclass(frozen=True)
class WordTiming:
    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Voiceover:
    audio_path: Path  # WAV
    duration_s: float
    sample_rate: int
    voice: str
    words: tuple[WordTiming, ...]


@dataclass(frozen=True)
class Clip:
    path: Path
    duration_s: float
    width: int
    height: int


@dataclass(frozen=True)
class RenderResult:
    video_path: Path
    thumbnail_path: Path
    duration_s: float
    width: int
    height: int
    fps: float


@dataclass(frozen=True)
class PublishRequest:
    video_id: str
    title: str
    description: str
    tags: tuple[str, ...]
    video_path: Path
    thumbnail_path: Path
    scheduled_at: datetime  # timezone-aware
    duration_s: float
    # What a viewer of the video perceives (its arms). Real platforms ignore it; the simulated
    # audience reacts to it.
    features: Mapping[str, str] = field(default_factory=dict)
    ai_generated: bool = True


@dataclass(frozen=True)
class Publication:
    platform: str
    account: str
    video_id: str
    remote_id: str
    url: str
    published_at: datetime  # timezone-aware


@dataclass(frozen=True)
class MetricSnapshot:
    platform: str
    remote_id: str
    fetched_at: datetime  # timezone-aware
    window: str  # "lifetime": counts since publish
    age_hours: float
    views: int
    likes: int
    comments: int
    shares: int
    avg_view_pct: float  # 0..100, share of the video watched on average
    watch_time_s: float


@dataclass(frozen=True)
class Comment:
    platform: str
    remote_id: str  # the video's id on the platform
    comment_id: str  # stable: re-fetching the same comment yields the same id
    author: str
    text: str
    published_at: datetime
    like_count: int
    parent_id: str | None = None


class ScriptWriter(Protocol):
    def write(
        self, video_id: str, arms: Mapping[str, str], seed: int, hints: Mapping[str, object] | None = None
    ) -> Script:
        """A script realising ``arms``; ``hints`` is what the learner knows (top and bottom performers,
        topics viewers asked for), for writers that can use it."""


class ClipGenerator(Protocol):
    def generate(self, script: Script, out_dir: Path) -> list[Clip]: ...


class Voice(Protocol):
    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover: ...


class Renderer(Protocol):
    def render(
        self, clips: Sequence[Clip], voiceover: Voiceover, script: Script, out_path: Path
    ) -> RenderResult: ...


class Publisher(Protocol):
    platform: str
    account: str

    def find(self, video_id: str) -> Publication | None:
        """The platform's own record of an earlier post of this video, if any."""

    def publish(self, request: PublishRequest) -> Publication: ...


class Analytics(Protocol):
    def fetch_metrics(
        self, publications: Sequence[Publication], now: datetime
    ) -> list[MetricSnapshot]: ...


class CommentSource(Protocol):
    def supports_comments(self, platform: str) -> bool:
        """False where the platform offers no way to read comments (TikTok outside research)."""

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]: ...


class Audience(Analytics, CommentSource, Protocol):
    """Analytics and comments from one source (the simulated audience serves both)."""
