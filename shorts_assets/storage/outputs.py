"""A stage output recorded on a video's row, between local files and keys of the media store.

What a stage's work returns names its files by local path (`files`, and the same paths in fields such
as `video_path` or a clip's `path`). `store_output` puts each file into the store and records the
output with keys in place of those paths and each key's size and SHA-256 (`checksums`): that is what
the database holds. `local_output` is the reverse for work that reads an upstream output: every key
fetched to a local path (verified) and named by that path again. `verify_stored` tells whether a
recorded output's files are still in the store as they were made.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shorts_assets.storage.store import ROOT_VARIABLE, MediaStore

CHECKSUMS = "checksums"


def _replaced(value: Any, mapping: Mapping[str, str]) -> Any:
    """`value` with every string that `mapping` names replaced, through dicts and lists."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, Mapping):
        return {k: _replaced(v, mapping) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replaced(v, mapping) for v in value]
    return value


def store_output(output: Mapping[str, Any], media: MediaStore) -> dict[str, Any]:
    """`output` with its files put into the store: their paths replaced by keys, with checksums."""
    keys: dict[str, str] = {}
    sums: dict[str, dict[str, Any]] = {}
    for name in output.get("files", []):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"the stage's output names {name}, which does not exist")
        key = media.key_of(path)
        sums[key] = media.put_file(path, key)
        keys[str(name)] = key
    recorded = {k: v for k, v in output.items() if k != CHECKSUMS}
    return {**_replaced(recorded, keys), CHECKSUMS: sums}


def outside_root(output: Mapping[str, Any] | None) -> str | None:
    """The first file of a recorded output named by an absolute path (from before the media root), if any."""
    for name in (output or {}).get("files", []):
        if str(name).startswith("/"):
            return str(name)
    return None


def verify_stored(output: Mapping[str, Any] | None, media: MediaStore) -> str | None:
    """None when every file of a recorded output is in the store as it was made, else why not."""
    if not output:
        return "no output recorded"
    absolute = outside_root(output)
    if absolute is not None:
        return (
            f"{Path(absolute).name} is recorded at {absolute}, outside the media root "
            f"({ROOT_VARIABLE}={media.root_uri}); it is made again"
        )
    sums: Mapping[str, Any] = output.get(CHECKSUMS) or {}
    for key in output.get("files", []):
        problem = media.verify(str(key), sums.get(str(key)))
        if problem is not None:
            return problem
    return None


def local_output(output: Mapping[str, Any], media: MediaStore) -> dict[str, Any]:
    """A recorded output with each key fetched to a verified local file and named by its local path.

    Raises BadMediaFile (naming the local file) when a stored file is missing or differs from what
    was recorded, so the stage that made it can be told to make it again.
    """
    sums: Mapping[str, Any] = output.get(CHECKSUMS) or {}
    paths: dict[str, str] = {}
    local_sums: dict[str, Any] = {}
    for key in output.get("files", []):
        local = media.get_local(str(key), sums.get(str(key)))
        paths[str(key)] = str(local)
        if str(key) in sums:
            local_sums[str(local)] = sums[str(key)]
    recorded = {k: v for k, v in output.items() if k != CHECKSUMS}
    return {**_replaced(recorded, paths), CHECKSUMS: local_sums}
