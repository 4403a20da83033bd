"""The marker of a video in a post's text: found again by listing the account's posts.

Every post carries, on its own last line of the description or caption, ``sv-`` and twelve hex
digits derived from our video id. A run that lost its local record of a post (its database, its
upload state) lists the account's recent posts and recognises the video by it, instead of posting
the video again.
"""

from __future__ import annotations

import hashlib
import re

MARKER_CHARS = 15  # "sv-" and twelve hex digits
_MARKER = re.compile(r"(?<![\w-])sv-[0-9a-f]{12}(?![\w-])")


def marker(video_id: str) -> str:
    """The video's marker: the same for the same video id, on every platform."""
    if not video_id:
        raise ValueError("a marker needs a video id, got an empty one")
    return "sv-" + hashlib.sha256(f"shorts-engine|{video_id}".encode()).hexdigest()[:12]


def with_marker(text: str, video_id: str) -> str:
    """The text with the video's marker on its own last line."""
    body = text.rstrip()
    return f"{body}\n\n{marker(video_id)}" if body else marker(video_id)


def carries_marker(text: object, video_id: str) -> bool:
    """Whether a post's text carries this video's marker."""
    return isinstance(text, str) and marker(video_id) in _MARKER.findall(text)
