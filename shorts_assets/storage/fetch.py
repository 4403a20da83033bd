"""A recorded output's files fetched to this machine for work that reads them (an upload, a check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shorts_assets.providers.media import BadMediaFile
from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.outputs import local_output
from shorts_assets.storage.store import MediaStore


def fetch_verified(
    output: Mapping[str, Any],
    media: MediaStore | None,
    verify: Callable[[Mapping[str, Any], MediaStore | None], str | None],
) -> tuple[dict[str, Any], str | None]:
    """(the output named by local paths, None) once its files are verified here, else (output, why not).

    `verify(output, media)` says whether the recorded files are as they were made (`loop.batch.verify_output`).
    Without a store the output already names local files. With one, its keys are fetched to local files
    whose SHA-256 must match. A store that cannot be reached raises MediaStoreError: that is no fault
    of the file.
    """
    problem = verify(output, media)
    if media is None or problem is not None:
        return dict(output), problem
    try:
        return local_output(output, media), None
    except MediaStoreError:
        raise
    except BadMediaFile as exc:
        return dict(output), str(exc)
