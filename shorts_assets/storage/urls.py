"""URLs a remote service (the cloud renderer) fetches the store's files from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.store import MediaStore, file_checksum


def url_resolver(media: MediaStore) -> Callable[[Path], str]:
    """For a local file of the store (made in or fetched to its work folder): the URL its key is served at.

    The base URL the media root is served at joined with the key and a content version (so a file made
    again is never served from a stale cache), or, for S3 without a base URL, a presigned URL.
    """

    def url_of(path: Path) -> str:
        key = media.key_of(path)
        url = media.url_for(key, version=file_checksum(path)["sha256"][:12])
        if url is None:
            raise MediaStoreError(
                f"{key}: the media root {media.root_uri} is served at no URL; set CLOUD_RENDER_MEDIA_BASE_URL "
                "to where it is served (or keep the media root on s3://, which serves presigned URLs)"
            )
        return url

    return url_of
