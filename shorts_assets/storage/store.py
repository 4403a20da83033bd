"""The media store's interface, and the store on a local folder or shared volume.

A store keeps files under keys relative to its root. Work that needs a file on this machine happens in
`work_dir(prefix)`: for a local root that is the root itself (files are written in place, whole, by
their writers), for object storage a local scratch folder whose results `put_file` uploads. Every
stored file has a size and SHA-256 recorded with it; `verify` compares them before a file is reused
and `get_local` before a file is read, so a changed or half-written file is never used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shorts_assets.providers.media import BadMediaFile, atomic_output, remove_stale_partials
from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.keys import check_key

ROOT_VARIABLE = "SHORTS_MEDIA_ROOT"
_CHUNK = 1 << 20


def file_checksum(path: str | os.PathLike[str]) -> dict[str, Any]:
    """`{"size": bytes, "sha256": hex}` of the file at `path`."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def name_of(key: str) -> str:
    return key.rsplit("/", 1)[-1]


class MediaStore(ABC):
    """Files under keys relative to a media root (see the module docstring)."""

    #: where the root is, for messages and metadata: a folder or `s3://bucket/prefix` (no credential)
    root_uri: str

    @abstractmethod
    def work_dir(self, prefix: str) -> Path:
        """The local folder where the files of `prefix` are made (created if needed)."""

    @abstractmethod
    def local_path(self, key: str) -> Path:
        """Where the file of `key` is (or is fetched to) on this machine."""

    def key_of(self, path: str | os.PathLike[str]) -> str:
        """The key of a file made in a work folder of this store."""
        work = self.work_dir("")
        try:
            relative = Path(path).resolve().relative_to(work.resolve())
        except ValueError:
            raise MediaStoreError(
                f"{path} is outside the media store's work folder {work} ({ROOT_VARIABLE}={self.root_uri}): "
                "only files made there can be stored"
            ) from None
        return check_key(relative.as_posix())

    @abstractmethod
    def put_file(self, path: str | os.PathLike[str], key: str) -> dict[str, Any]:
        """Store the local file at `path` under `key`, whole or not at all; return its size and SHA-256."""

    @abstractmethod
    def verify(self, key: str, made: dict[str, Any] | None) -> str | None:
        """None when the file of `key` is as `made` recorded it (size, SHA-256), else why not, naming it."""

    @abstractmethod
    def get_local(self, key: str, made: dict[str, Any] | None) -> Path:
        """A local path holding the file of `key`, verified against `made`; BadMediaFile when it differs."""

    @abstractmethod
    def url_for(self, key: str, version: str = "") -> str | None:
        """An http(s) URL a remote service can fetch the file of `key` from, or None where none is served."""

    @abstractmethod
    def check(self) -> None:
        """Raise MediaStoreError, naming what to fix, unless a file can be written to the root and removed."""

    def uri(self, key: str) -> str:
        return f"{self.root_uri.rstrip('/')}/{check_key(key)}"

    def sweep(self, keys: Iterable[str]) -> None:
        """Remove what dead writers left half-written beside the files of `keys` (local folders only)."""
        for folder in {self.local_path(key).parent for key in keys}:
            remove_stale_partials(folder)


def _joined_url(base_url: str, key: str, version: str) -> str:
    url = f"{base_url.rstrip('/')}/{quote(check_key(key))}"
    return f"{url}?v={version}" if version else url


class LocalMediaStore(MediaStore):
    """A media root on a local folder or a shared volume: files written in place, renamed into place whole."""

    def __init__(self, root: str | os.PathLike[str], *, base_url: str = ""):
        self.root = Path(root).resolve()
        self.root_uri = str(self.root)
        self.base_url = base_url

    def _folder(self, path: Path) -> Path:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MediaStoreError(f"{ROOT_VARIABLE}={self.root}: cannot create {path}: {exc.strerror or exc}") from None
        return path

    def work_dir(self, prefix: str) -> Path:
        return self._folder(self.root / check_key(prefix) if prefix else self.root)

    def local_path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, path: str | os.PathLike[str], key: str) -> dict[str, Any]:
        source, target = Path(path), self.local_path(key)
        made = file_checksum(source)
        if source.resolve() == target.resolve():
            return made  # made in place, whole, by its writer
        self._folder(target.parent)
        try:
            with atomic_output(target) as temp:
                shutil.copyfile(source, temp)
                if file_checksum(temp) != made:
                    raise MediaStoreError(f"storing {key} under {self.root}: the copy differs from {source}")
        except OSError as exc:
            raise MediaStoreError(f"{ROOT_VARIABLE}={self.root}: cannot write {key}: {exc.strerror or exc}") from None
        return made

    def verify(self, key: str, made: dict[str, Any] | None) -> str | None:
        path = self.local_path(key)
        name = name_of(key)
        if not path.is_file():
            return f"{name} is missing ({key})"
        size = path.stat().st_size
        if made is None:
            return f"{name} is empty ({key})" if size == 0 else None
        if size != made["size"]:
            return f"{name} changed since it was made ({size} bytes, {made['size']} when made: {key})"
        if file_checksum(path)["sha256"] != made["sha256"]:
            return f"{name} changed since it was made (its SHA-256 differs: {key})"
        return None

    def get_local(self, key: str, made: dict[str, Any] | None) -> Path:
        problem = self.verify(key, made)
        if problem is not None:
            raise BadMediaFile(f"{problem} in the media store {self.root}", self.local_path(key))
        return self.local_path(key)

    def url_for(self, key: str, version: str = "") -> str | None:
        return _joined_url(self.base_url, key, version) if self.base_url else None

    def check(self) -> None:
        self._folder(self.root)
        probe = self.root / f".write-probe-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise MediaStoreError(f"{ROOT_VARIABLE}={self.root} is not writable: {exc.strerror or exc}") from None
