"""Keys: the names of media files relative to the media root, as the database stores them."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

from shorts_assets.storage.errors import MediaStoreError


def check_key(key: str) -> str:
    """`key` when it is a relative POSIX path inside the root (no `..`, no leading `/`, no scheme)."""
    text = str(key)
    parts = PurePosixPath(text).parts
    if (
        not text
        or text.startswith("/")
        or "\\" in text
        or "://" in text
        or any(part in ("..", ".") for part in parts)
        or text != "/".join(parts)
    ):
        raise MediaStoreError(f"{text!r} is not a key under the media root (a relative path such as demo/…/short.mp4)")
    return text


def video_prefix(channel: str, batch_date: date, video_id: str) -> str:
    """The folder of one video's files under the media root: `<channel>/<date>/<video id>`."""
    return check_key(f"{channel}/{batch_date.isoformat()}/{video_id}")
