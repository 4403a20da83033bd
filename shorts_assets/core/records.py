"""Provider value types to and from the JSON stored on each video's row."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shorts_assets.core.types import Clip, Scene, Script, Voiceover, WordTiming


def to_json(value: Any) -> Any:
    """Dataclasses, paths and tuples as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def script_from_json(data: Mapping[str, Any]) -> Script:
    return Script(
        video_id=data["video_id"],
        title=data["title"],
        hook=data["hook"],
        narration=data["narration"],
        description=data["description"],
        scenes=tuple(Scene(**{**scene, "keywords": tuple(scene.get("keywords", ()))}) for scene in data["scenes"]),
        tags=tuple(data["tags"]),
        arms=dict(data["arms"]),
        emphasis=tuple(data.get("emphasis", ())),
        language=data.get("language", "en"),
    )


def clips_from_json(data: Mapping[str, Any]) -> list[Clip]:
    return [
        Clip(
            path=Path(c["path"]),
            duration_s=c["duration_s"],
            width=c["width"],
            height=c["height"],
            credit={str(k): str(v) for k, v in (c.get("credit") or {}).items()},
        )
        for c in data["clips"]
    ]


def voiceover_from_json(data: Mapping[str, Any]) -> Voiceover:
    return Voiceover(
        audio_path=Path(data["audio_path"]),
        duration_s=data["duration_s"],
        sample_rate=data["sample_rate"],
        voice=data["voice"],
        words=tuple(WordTiming(**w) for w in data["words"]),
    )
