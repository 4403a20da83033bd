"""Media files named by keys relative to the media root, never by absolute paths.

Each stage output on a video's row named its files by absolute paths on the machine that made them.
Those under the media root (SHORTS_MEDIA_ROOT when it is a folder, else `<SHORTS_DATA_DIR>/media`,
where the files were written) become keys relative to it, in `files`, in `checksums` and in every
field that held one of those paths (a clip's `path`, `audio_path`, `video_path`, `thumbnail_path`).
A path outside the root is left as it is and reported in a warning naming the video and the path; the
engine treats such an output as not made, so its stage makes it again under the media root.

To move the media to object storage, copy the folder to the bucket (`<root>/<key>` to
`s3://bucket/prefix/<key>`) after this migration: the keys stay the same.

Revision ID: 0010
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_videos = sa.table("videos", sa.column("video_id", sa.String), sa.column("outputs", sa.JSON))


def media_root(env: Mapping[str, str] = os.environ) -> Path:
    """The local folder the recorded paths are relative to."""
    root = env.get("SHORTS_MEDIA_ROOT", "").strip()
    if root and "://" not in root:
        return Path(root).resolve()
    return (Path(env.get("SHORTS_DATA_DIR", "").strip() or "data") / "media").resolve()


def _replaced(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        return {mapping.get(k, k): _replaced(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, mapping) for v in value]
    return value


def _key(name: str, root: Path) -> str | None:
    """The key of an absolute path under `root`, or None when it lies outside."""
    for path in (Path(name), Path(name).resolve()):
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def relative_outputs(outputs: dict[str, Any], root: Path) -> tuple[dict[str, Any], list[str]]:
    """`outputs` (stage -> output) with absolute paths under `root` as keys; and the paths left outside."""
    mapping: dict[str, str] = {}
    outside: list[str] = []
    for output in outputs.values():
        for name in (output or {}).get("files", []) if isinstance(output, dict) else []:
            if not isinstance(name, str) or not name.startswith("/"):
                continue
            key = _key(name, root)
            if key is None:
                outside.append(name)
            else:
                mapping[name] = key
    return _replaced(outputs, mapping), outside


def absolute_outputs(outputs: dict[str, Any], root: Path) -> dict[str, Any]:
    """The reverse: keys named by their absolute paths under `root` again."""
    mapping = {
        name: str(root / name)
        for output in outputs.values()
        if isinstance(output, dict)
        for name in output.get("files", [])
        if isinstance(name, str) and not name.startswith("/")
    }
    return _replaced(outputs, mapping)


def _rewrite(convert: Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]]) -> list[tuple[str, str]]:
    bind = op.get_bind()
    outside: list[tuple[str, str]] = []
    for video_id, outputs in bind.execute(sa.select(_videos.c.video_id, _videos.c.outputs)).all():
        if not outputs:
            continue
        new, left = convert(dict(outputs))
        outside += [(video_id, path) for path in left]
        if new != outputs:
            bind.execute(_videos.update().where(_videos.c.video_id == video_id).values(outputs=new))
    return outside


def upgrade() -> None:
    root = media_root()
    outside = _rewrite(lambda outputs: relative_outputs(outputs, root))
    if outside:
        shown = "; ".join(f"{video} {path}" for video, path in outside[:5])
        log.warning(
            "%d recorded media file(s) lie outside the media root %s (SHORTS_MEDIA_ROOT) and were left as "
            "absolute paths; their stages make them again on the next run: %s%s",
            len(outside),
            root,
            shown,
            " …" if len(outside) > 5 else "",
        )


def downgrade() -> None:
    root = media_root()
    _rewrite(lambda outputs: (absolute_outputs(outputs, root), []))
