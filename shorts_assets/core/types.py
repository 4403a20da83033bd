"""The values that travel through the loop: scripts, clips, voiceovers, renders, publications, metrics
and comments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PLATFORMS: tuple[str, ...] = ("youtube", "tiktok", "instagram")

# The looks a scene can take when it is drawn procedurally (and the fallback of a generated one).
VISUALS: tuple[str, ...] = ("starfield", "waves", "parchment", "bubbles", "meadow", "title_card", "fractal", "cells")


@dataclass(frozen=True)
class Scene:
    prompt: str
    duration_s: float
    visual: str  # one of VISUALS
    # What a stock or library search looks for (a few nouns: "octopus", "coral reef").
    keywords: tuple[str, ...] = ()


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
    # Words of the narration the writer marks for emphasis (the keyword_colour captions colour them).
    emphasis: tuple[str, ...] = ()
    language: str = "en"  # the channel's language (core.languages), spoken and captioned


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
    # Where a found clip came from (stock, library, AI still): provider, clip_id, source_url, author,
    # licence. Empty for clips the engine made itself.
    credit: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderResult:
    video_path: Path
    thumbnail_path: Path
    duration_s: float
    width: int
    height: int
    fps: float
    # What the render measured of itself (loudness, black and silent stretches, how far it decodes),
    # for the quality checks; None when the renderer measured nothing (they decode the file then).
    measurements: Mapping[str, Any] | None = None


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
    # A draft waiting in the creator's inbox (TikTok's inbox mode): not public, nothing to measure
    # yet; remote_id is then the platform's upload id and url is empty.
    draft: bool = False


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
