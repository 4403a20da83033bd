"""The script document a language model writes, its JSON schema, and its one validation into a ``Script``.

A document holds the title, the hook, the narration (everything spoken), the description, the
scenes (a prompt for the clip generator, a duration in seconds and a procedural visual used when no
generated clip is available), the tags and the arms it realises. ``script_json_schema`` is strict in
the Structured Outputs sense: every property is required and no others are allowed. ``parse_script``
checks the same rules and more (lengths, ranges, the arms matching the ones requested) and reports
every problem at once, each with its path, so a repair request can quote them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from shorts_assets.core.types import VISUALS, Scene, Script

SCHEMA_NAME = "short_video_script"
TITLE_MAX = 100
DESCRIPTION_MAX = 5000
MAX_SCENES = 12
MAX_TAGS = 15
SCENE_MIN_S = 1.0
SCENE_MAX_S = 20.0
VIDEO_MAX_S = 180.0

_TEXT_FIELDS = ("title", "hook", "narration", "description")
_TOP_FIELDS = (*_TEXT_FIELDS, "scenes", "tags", "emphasis", "arms")
_SCENE_FIELDS = ("prompt", "duration_s", "visual", "keywords")
MAX_KEYWORDS = 6
MAX_EMPHASIS = 8


class ScriptValidationError(ValueError):
    """A script document broke the schema; ``problems`` lists each one as ``path: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def script_json_schema(arms: Mapping[str, str]) -> dict[str, Any]:
    """The strict JSON schema of a script realising ``arms`` (each arm pinned to its value)."""
    arm_names = sorted(arms)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(_TOP_FIELDS),
        "properties": {
            "title": {"type": "string", "description": f"at most {TITLE_MAX} characters"},
            "hook": {"type": "string", "description": "the opening line, spoken first"},
            "narration": {"type": "string", "description": "everything spoken, starting with the hook"},
            "description": {"type": "string"},
            "scenes": {
                "type": "array",
                "description": f"1 to {MAX_SCENES} scenes in order",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(_SCENE_FIELDS),
                    "properties": {
                        "prompt": {"type": "string", "description": "what the clip shows, for a video model"},
                        "duration_s": {
                            "type": "number",
                            "description": f"{SCENE_MIN_S:g} to {SCENE_MAX_S:g} seconds",
                        },
                        "visual": {"type": "string", "enum": sorted(VISUALS)},
                        "keywords": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": f"1 to {MAX_KEYWORDS} plain nouns a stock footage search would use",
                        },
                    },
                },
            },
            "tags": {"type": "array", "items": {"type": "string"}, "description": f"at most {MAX_TAGS}"},
            "emphasis": {
                "type": "array",
                "items": {"type": "string"},
                "description": f"0 to {MAX_EMPHASIS} words of the narration, as written there, the captions colour",
            },
            "arms": {
                "type": "object",
                "additionalProperties": False,
                "required": arm_names,
                "properties": {name: {"type": "string", "enum": [arms[name]]} for name in arm_names},
            },
        },
    }


def _text(doc: Mapping[str, Any], name: str, path: str, problems: list[str], limit: int | None = None) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        problems.append(f"{path}{name}: expected a string, got {_kind(value)}")
        return ""
    value = value.strip()
    if not value:
        problems.append(f"{path}{name}: must not be empty")
    elif limit is not None and len(value) > limit:
        problems.append(f"{path}{name}: {len(value)} characters, at most {limit} allowed")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _keywords(raw: Any, path: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(raw, list):
        problems.append(f"{path}keywords: expected an array of words, got {_kind(raw)}")
        return ()
    words = tuple(dict.fromkeys(w.strip().lower() for w in raw if isinstance(w, str) and w.strip()))
    if len(words) != len(raw) and not all(isinstance(w, str) for w in raw):
        problems.append(f"{path}keywords: every keyword must be a string")
    if not 1 <= len(words) <= MAX_KEYWORDS:
        problems.append(f"{path}keywords: {len(words)} keywords, 1 to {MAX_KEYWORDS} allowed")
    return words


def _unknown(doc: Mapping[str, Any], allowed: tuple[str, ...], path: str, problems: list[str]) -> None:
    for key in doc:
        if key not in allowed:
            problems.append(f"{path}{key}: unknown field")


def parse_script(document: str | bytes | Mapping[str, Any], video_id: str, arms: Mapping[str, str]) -> Script:
    """Validate a script document (JSON text or an already parsed object) into a ``Script``.

    Raises ``ScriptValidationError`` listing every problem. A narration that does not begin with the
    hook gets the hook put in front of it, since the hook is always spoken first.
    """
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise ScriptValidationError([f"(document): not valid JSON: {exc}"]) from None
    if not isinstance(document, Mapping):
        raise ScriptValidationError([f"(document): expected a JSON object, got {_kind(document)}"])

    problems: list[str] = []
    _unknown(document, _TOP_FIELDS, "", problems)
    for name in _TOP_FIELDS:
        if name not in document:
            problems.append(f"{name}: missing")
    title = _text(document, "title", "", problems, TITLE_MAX) if "title" in document else ""
    hook = _text(document, "hook", "", problems) if "hook" in document else ""
    narration = _text(document, "narration", "", problems) if "narration" in document else ""
    description = _text(document, "description", "", problems, DESCRIPTION_MAX) if "description" in document else ""

    scenes: list[Scene] = []
    raw_scenes = document.get("scenes")
    if "scenes" in document:
        if not isinstance(raw_scenes, list):
            problems.append(f"scenes: expected an array, got {_kind(raw_scenes)}")
        elif not 1 <= len(raw_scenes) <= MAX_SCENES:
            problems.append(f"scenes: {len(raw_scenes)} scenes, 1 to {MAX_SCENES} allowed")
        else:
            for i, raw in enumerate(raw_scenes):
                path = f"scenes[{i}]."
                if not isinstance(raw, Mapping):
                    problems.append(f"scenes[{i}]: expected an object, got {_kind(raw)}")
                    continue
                _unknown(raw, _SCENE_FIELDS, path, problems)
                prompt = _text(raw, "prompt", path, problems, 1000)
                duration = raw.get("duration_s")
                if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration):
                    problems.append(f"{path}duration_s: expected a number of seconds, got {_kind(duration)}")
                    duration = 0.0
                elif not SCENE_MIN_S <= duration <= SCENE_MAX_S:
                    problems.append(f"{path}duration_s: {duration:g} s, {SCENE_MIN_S:g} to {SCENE_MAX_S:g} s allowed")
                visual = raw.get("visual")
                if visual not in VISUALS:
                    problems.append(f"{path}visual: {visual!r} is not one of {', '.join(sorted(VISUALS))}")
                keywords = _keywords(raw.get("keywords"), path, problems)
                scenes.append(
                    Scene(prompt=prompt, duration_s=round(float(duration), 2), visual=str(visual), keywords=keywords)
                )
            total = sum(s.duration_s for s in scenes)
            if total > VIDEO_MAX_S:
                problems.append(f"scenes: {total:g} s in all, at most {VIDEO_MAX_S:g} s allowed")

    tags: list[str] = []
    raw_tags = document.get("tags")
    if "tags" in document:
        if not isinstance(raw_tags, list):
            problems.append(f"tags: expected an array, got {_kind(raw_tags)}")
        else:
            for i, tag in enumerate(raw_tags):
                if not isinstance(tag, str) or not tag.strip().lstrip("#").strip():
                    problems.append(f"tags[{i}]: expected a non-empty string, got {tag!r}")
                    continue
                cleaned = tag.strip().lstrip("#").strip()
                if cleaned.lower() not in (t.lower() for t in tags):
                    tags.append(cleaned)
            if len(tags) > MAX_TAGS:
                problems.append(f"tags: {len(tags)} tags, at most {MAX_TAGS} allowed")

    emphasis: list[str] = []
    raw_emphasis = document.get("emphasis")
    if "emphasis" in document:
        if not isinstance(raw_emphasis, list) or not all(isinstance(w, str) for w in raw_emphasis):
            problems.append(f"emphasis: expected an array of words, got {_kind(raw_emphasis)}")
        else:
            emphasis = list(dict.fromkeys(w.strip() for w in raw_emphasis if w.strip()))
            if len(emphasis) > MAX_EMPHASIS:
                problems.append(f"emphasis: {len(emphasis)} words, at most {MAX_EMPHASIS} allowed")

    raw_arms = document.get("arms")
    if "arms" in document:
        if not isinstance(raw_arms, Mapping):
            problems.append(f"arms: expected an object, got {_kind(raw_arms)}")
        else:
            for name, value in arms.items():
                if raw_arms.get(name) != value:
                    problems.append(f"arms.{name}: expected {value!r}, got {raw_arms.get(name)!r}")
            for name in raw_arms:
                if name not in arms:
                    problems.append(f"arms.{name}: not an arm of this video")

    if problems:
        raise ScriptValidationError(problems)
    if not _normalised(narration).startswith(_normalised(hook)):
        narration = f"{hook} {narration}"
    return Script(
        video_id=video_id,
        title=title,
        hook=hook,
        narration=narration,
        description=description,
        scenes=tuple(scenes),
        tags=tuple(tags),
        arms=dict(arms),
        emphasis=tuple(emphasis),
    )


def _normalised(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())
