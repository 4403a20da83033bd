"""The media store on object storage (`s3://bucket/prefix`), through fsspec's S3 filesystem (s3fs).

Work happens in a local scratch folder; `put_file` uploads a finished file under its final key only when
it is complete (one PUT, or a multipart upload that S3 assembles only on completion, so a dead upload
leaves no object under the key) with its SHA-256 in the object's metadata, then reads the object's
head back to verify its size and checksum. Reads download to the scratch folder under a name of their
own, check the SHA-256 and rename into place. Credentials come from the conventional AWS variables
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_PROFILE`, `AWS_REGION`),
read by botocore itself; `SHORTS_MEDIA_S3_ENDPOINT_URL` points at an S3-compatible server. Every
failure of the service becomes a MediaStoreError naming the variable to fix, never a credential.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shorts_assets.providers.media import BadMediaFile, atomic_output
from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.keys import check_key
from shorts_assets.storage.store import ROOT_VARIABLE, MediaStore, _joined_url, file_checksum, name_of

ENDPOINT_VARIABLE = "SHORTS_MEDIA_S3_ENDPOINT_URL"
CREDENTIAL_VARIABLES = "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
SHA256_METADATA = "sha256"
# s3fs uploads a file larger than this in parts (S3 allows no part below 5 MiB but the last).
DEFAULT_PART_BYTES = 50 * 1024 * 1024
PRESIGNED_URL_SECONDS = 6 * 3600

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`; MediaStoreError naming SHORTS_MEDIA_ROOT when malformed."""
    rest = uri[len("s3://") :] if uri.startswith("s3://") else ""
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not bucket or any(c in bucket for c in " \\?#"):
        raise MediaStoreError(f"{ROOT_VARIABLE}={uri!r} must be s3://<bucket>[/<prefix>]")
    if prefix:
        check_key(prefix)
    return bucket, prefix


class S3MediaStore(MediaStore):
    """A media root in an S3 bucket (or an S3-compatible server), worked on in a local scratch folder."""

    def __init__(
        self,
        uri: str,
        scratch_dir: str | os.PathLike[str],
        *,
        endpoint_url: str = "",
        base_url: str = "",
        part_bytes: int = DEFAULT_PART_BYTES,
        connect_timeout_s: float = 10.0,
    ):
        import s3fs

        self.bucket, self.prefix = parse_s3_uri(uri)
        self.root_uri = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.scratch = Path(scratch_dir).resolve()
        self.endpoint_url = endpoint_url
        self.base_url = base_url
        self.part_bytes = part_bytes
        self.fs = s3fs.S3FileSystem(
            endpoint_url=endpoint_url or None,
            skip_instance_cache=True,
            use_listings_cache=False,
            config_kwargs={
                "connect_timeout": connect_timeout_s,
                "read_timeout": 120,
                "retries": {"max_attempts": 3, "mode": "standard"},
            },
        )

    # --- where things are ------------------------------------------------------------------------

    def _object(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _path(self, key: str) -> str:
        return f"{self.bucket}/{self._object(key)}"

    def work_dir(self, prefix: str) -> Path:
        path = self.scratch / check_key(prefix) if prefix else self.scratch
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MediaStoreError(
                f"SHORTS_SCRATCH_DIR={self.scratch}: cannot create {path}: {exc.strerror or exc}"
            ) from None
        return path

    def local_path(self, key: str) -> Path:
        return self.scratch / check_key(key)

    # --- the service -----------------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.endpoint_url} ({ENDPOINT_VARIABLE})" if self.endpoint_url else "AWS S3"

    @contextmanager
    def _service(self, what: str) -> Iterator[None]:
        """Turn the service's failures into MediaStoreError naming what to fix (never a credential)."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            yield
        except MediaStoreError:
            raise
        except NoCredentialsError:
            raise MediaStoreError(
                f"{what}: no credentials for the media store {self.root_uri}: set {CREDENTIAL_VARIABLES} "
                "(or AWS_PROFILE)"
            ) from None
        except (ClientError, PermissionError, FileNotFoundError, OSError, BotoCoreError) as exc:
            code = _error_code(exc)
            if code in _CREDENTIAL_CODES or isinstance(exc, PermissionError):
                raise MediaStoreError(
                    f"{what}: the media store {self.root_uri} at {self._where()} refused the credentials in "
                    f"{CREDENTIAL_VARIABLES} ({code or 'access denied'})"
                ) from None
            if code == "NoSuchBucket":
                raise MediaStoreError(
                    f"{what}: the bucket {self.bucket!r} of {ROOT_VARIABLE}={self.root_uri} does not exist at "
                    f"{self._where()}"
                ) from None
            if _unreachable(exc):
                raise MediaStoreError(
                    f"{what}: the media store {self.root_uri} cannot be reached at {self._where()}: "
                    f"{type(exc).__name__}"
                ) from None
            raise MediaStoreError(
                f"{what}: the media store {self.root_uri} at {self._where()} failed: {type(exc).__name__}"
                + (f" {code}" if code else "")
            ) from None

    def _head(self, key: str) -> dict[str, Any] | None:
        """The object's head (ContentLength, Metadata), or None when there is no object under `key`."""
        from fsspec.asyn import sync

        with self._service(f"reading {key}"):
            try:
                return sync(self.fs.loop, self.fs._call_s3, "head_object", Bucket=self.bucket, Key=self._object(key))
            except FileNotFoundError as exc:
                if _error_code(exc) == "NoSuchBucket":
                    raise
                return None

    def put_file(self, path: str | os.PathLike[str], key: str) -> dict[str, Any]:
        made = file_checksum(path)
        if self._holds(key, made):
            return made  # already stored whole (a rerun): nothing is uploaded twice
        with self._service(f"storing {key}"):
            self.fs.put_file(
                str(path), self._path(key), chunksize=self.part_bytes, Metadata={SHA256_METADATA: made["sha256"]}
            )
        if not self._holds(key, made):
            # Another writer's whole file may have replaced ours since: it is left, never deleted.
            raise MediaStoreError(
                f"storing {key} in {self.root_uri}: the object does not hold what was uploaded "
                f"({self.verify(key, made) or 'another upload replaced it'})"
            )
        return made

    def _holds(self, key: str, made: dict[str, Any]) -> bool:
        """Whether the object under `key` is this file: its size and the SHA-256 in its metadata."""
        head = self._head(key)
        return (
            head is not None
            and int(head.get("ContentLength", -1)) == made["size"]
            and (head.get("Metadata") or {}).get(SHA256_METADATA) == made["sha256"]
        )

    def verify(self, key: str, made: dict[str, Any] | None) -> str | None:
        head = self._head(key)
        name = name_of(key)
        if head is None:
            return f"{name} is missing ({self.uri(key)})"
        size = int(head.get("ContentLength", -1))
        if made is None:
            return f"{name} is empty ({self.uri(key)})" if size == 0 else None
        if size != made["size"]:
            return f"{name} changed since it was made ({size} bytes, {made['size']} when made: {self.uri(key)})"
        stored = (head.get("Metadata") or {}).get(SHA256_METADATA)
        if stored is not None and stored != made["sha256"]:
            return f"{name} changed since it was made (its SHA-256 differs: {self.uri(key)})"
        return None

    def get_local(self, key: str, made: dict[str, Any] | None) -> Path:
        local = self.local_path(key)
        if made is not None and local.is_file() and file_checksum(local) == made:
            return local  # the scratch copy this machine made or fetched before
        problem = self.verify(key, made)
        if problem is not None:
            raise BadMediaFile(f"{problem} in the media store", local)
        self.work_dir(check_key(key).rpartition("/")[0])
        with atomic_output(local) as temp:
            with self._service(f"fetching {key}"):
                self.fs.get_file(self._path(key), str(temp))
            got = file_checksum(temp)
            if made is not None and got != made:
                raise BadMediaFile(
                    f"{name_of(key)} fetched from {self.uri(key)} differs from what was stored "
                    f"({got['size']} bytes, {made['size']} stored)",
                    local,
                )
        return local

    def url_for(self, key: str, version: str = "") -> str | None:
        if self.base_url:
            return _joined_url(self.base_url, key, version)
        with self._service(f"signing a URL for {key}"):
            return self.fs.sign(self._path(key), expiration=PRESIGNED_URL_SECONDS)

    def check(self) -> None:
        probe = f".write-probe/{os.getpid()}-{uuid.uuid4().hex}"
        with self._service(f"writing to {ROOT_VARIABLE}={self.root_uri}"):
            self.fs.pipe_file(self._path(probe), b"")
            self.fs.rm_file(self._path(probe))

    def delete(self, key: str) -> None:
        with self._service(f"removing {key}"):
            self.fs.rm_file(self._path(key))

    def sweep(self, keys: object) -> None:
        """Nothing half-written is ever under a key of the bucket; scratch partials go with their writers."""


def _error_code(exc: BaseException) -> str:
    """The S3 error code of a failure, from botocore's error or the one s3fs translated it into."""
    for error in (exc, exc.__cause__, exc.__context__):
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
    return ""


def _unreachable(exc: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, (EndpointConnectionError, ConnectTimeoutError, BotoConnectionError, ConnectionError)):
            return True
        if type(seen).__module__.startswith("aiohttp"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
