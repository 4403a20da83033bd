"""Which media store to open: read from the environment once, opened once per process."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.s3 import ENDPOINT_VARIABLE, parse_s3_uri
from shorts_assets.storage.store import ROOT_VARIABLE, LocalMediaStore, MediaStore

SCRATCH_VARIABLE = "SHORTS_SCRATCH_DIR"
BASE_URL_VARIABLE = "CLOUD_RENDER_MEDIA_BASE_URL"


@dataclass(frozen=True)
class MediaConfig:
    """Where the media root is (a folder or `s3://bucket/prefix`), the local scratch folder, the S3
    endpoint and the http(s) base URL the root is served at (empty: none; for S3, presigned URLs)."""

    root: str
    scratch_dir: str
    endpoint_url: str = ""
    base_url: str = ""

    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: str | Path) -> MediaConfig:
        """SHORTS_MEDIA_ROOT (default `<data dir>/media`), SHORTS_SCRATCH_DIR (default `<data dir>/scratch`),
        SHORTS_MEDIA_S3_ENDPOINT_URL and CLOUD_RENDER_MEDIA_BASE_URL; MediaStoreError naming a bad one."""
        data_dir = Path(data_dir)
        root = env.get(ROOT_VARIABLE, "").strip() or str(data_dir / "media")
        if "://" in root and not root.startswith("s3://"):
            raise MediaStoreError(f"{ROOT_VARIABLE}={root!r}: a folder or s3://<bucket>[/<prefix>]")
        if root.startswith("s3://"):
            parse_s3_uri(root)
        else:
            root = str(Path(root).resolve())
        endpoint = env.get(ENDPOINT_VARIABLE, "").strip()
        if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
            raise MediaStoreError(f"{ENDPOINT_VARIABLE}={endpoint!r} must be an http(s) URL")
        scratch = env.get(SCRATCH_VARIABLE, "").strip() or str(data_dir / "scratch")
        base_url = env.get(BASE_URL_VARIABLE, "").strip().rstrip("/")
        return cls(root=root, scratch_dir=str(Path(scratch).resolve()), endpoint_url=endpoint, base_url=base_url)


@functools.lru_cache(maxsize=16)
def open_store(config: MediaConfig) -> MediaStore:
    """The store `config` names (one per process and configuration: an S3 client is costly to make)."""
    if config.is_s3:
        from shorts_assets.storage.s3 import S3MediaStore

        return S3MediaStore(config.root, config.scratch_dir, endpoint_url=config.endpoint_url, base_url=config.base_url)
    return LocalMediaStore(config.root, base_url=config.base_url)
