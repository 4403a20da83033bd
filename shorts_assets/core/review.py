"""The review gate's vocabulary: when a person must approve a video, and what a decision is.

`off` publishes whatever passes the render check (no person in the loop); `before_publish` renders
every video and holds it until a person approves it; `before_generation` holds each script before
any paid clip or voice call. A held video has the status `awaiting_review`; a rejected one `rejected`.
"""

from __future__ import annotations

from collections.abc import Mapping

from shorts_assets.core.errors import ConfigError

OFF = "off"
BEFORE_PUBLISH = "before_publish"
BEFORE_GENERATION = "before_generation"
REVIEW_MODES = (OFF, BEFORE_PUBLISH, BEFORE_GENERATION)
REVIEW_VARIABLE = "SHORTS_REVIEW"

APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)
VIA = ("ui", "cli")

AWAITING_REVIEW = "awaiting_review"
REJECTED = "rejected"
APPROVED = "approved"

# What an edited title or description may be: the strictest platform's limits (YouTube's title,
# Instagram's caption, room left for the video's marker line).
MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_CHARS = 2000


def review_mode(value: object, where: str) -> str:
    """A validated review mode; a ConfigError names `where` it was written and the choices."""
    if not isinstance(value, str) or value.strip() not in REVIEW_MODES:
        raise ConfigError(f"{where}={value!r} is not a review mode: use one of {', '.join(REVIEW_MODES)}")
    return value.strip()


def review_default(env: Mapping[str, str]) -> str:
    """SHORTS_REVIEW: the review mode of every channel that names none (off when unset)."""
    raw = env.get(REVIEW_VARIABLE, "").strip()
    return review_mode(raw, REVIEW_VARIABLE) if raw else OFF
