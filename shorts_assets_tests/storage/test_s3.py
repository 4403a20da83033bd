"""The media store on S3, against a local S3-compatible server on a real socket.

A file reaches its final key only whole and verified; reads are verified by SHA-256; a dead upload
leaves no object under the key; an unreachable endpoint, missing or refused credentials and a missing
bucket each fail with a message naming what to fix, never a secret.
"""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from shorts_assets.providers.media import BadMediaFile
from shorts_assets.storage import MediaStoreError
from shorts_assets.storage.s3 import S3MediaStore
from shorts_assets.storage.store import file_checksum
from shorts_assets_tests.conftest import free_port

SECRET = "test-secret-key-never-shown"


def store_for(s3_bucket, tmp_path, **kwargs) -> S3MediaStore:
    return S3MediaStore(
        f"s3://{s3_bucket['bucket']}/media", tmp_path / "scratch", endpoint_url=s3_bucket["endpoint"], **kwargs
    )


def made_file(media: S3MediaStore, key: str, data: bytes):
    path = media.work_dir(key.rpartition("/")[0]) / key.rpartition("/")[2]
    path.write_bytes(data)
    return path


def test_a_stored_file_is_under_its_key_with_its_checksum(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    path = made_file(media, "demo/2026-11-27/v1/short.mp4", b"a short" * 1000)

    made = media.put_file(path, media.key_of(path))

    head = s3_bucket["client"].head_object(Bucket=s3_bucket["bucket"], Key="media/demo/2026-11-27/v1/short.mp4")
    assert head["ContentLength"] == made["size"] == 7000
    assert head["Metadata"]["sha256"] == made["sha256"] == file_checksum(path)["sha256"]
    assert media.verify("demo/2026-11-27/v1/short.mp4", made) is None
    assert media.uri("demo/2026-11-27/v1/short.mp4") == f"s3://{s3_bucket['bucket']}/media/demo/2026-11-27/v1/short.mp4"


def test_storing_the_same_file_again_uploads_nothing(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    path = made_file(media, "v/clip.mp4", b"clip")
    media.put_file(path, "v/clip.mp4")
    first = s3_bucket["client"].head_object(Bucket=s3_bucket["bucket"], Key="media/v/clip.mp4")["LastModified"]
    time.sleep(1.1)  # S3 times have whole seconds: a second PUT would show
    media.put_file(path, "v/clip.mp4")
    again = s3_bucket["client"].head_object(Bucket=s3_bucket["bucket"], Key="media/v/clip.mp4")["LastModified"]
    assert again == first


def test_a_read_downloads_to_scratch_and_checks_the_sha256(s3_bucket, tmp_path):
    writer = store_for(s3_bucket, tmp_path / "one")
    path = made_file(writer, "v/voiceover.wav", b"speech" * 100)
    made = writer.put_file(path, "v/voiceover.wav")

    reader = store_for(s3_bucket, tmp_path / "two")  # another machine: nothing in its scratch folder
    local = reader.get_local("v/voiceover.wav", made)
    assert local == tmp_path / "two" / "scratch" / "v" / "voiceover.wav"
    assert local.read_bytes() == path.read_bytes()

    # Someone overwrites the object with other bytes of the same length and no checksum.
    s3_bucket["client"].put_object(Bucket=s3_bucket["bucket"], Key="media/v/voiceover.wav", Body=b"SPEECH" * 100)
    third = store_for(s3_bucket, tmp_path / "three")
    with pytest.raises(BadMediaFile, match="voiceover.wav fetched from .* differs from what was stored") as caught:
        third.get_local("v/voiceover.wav", made)
    assert caught.value.path == tmp_path / "three" / "scratch" / "v" / "voiceover.wav"
    assert not any(p.is_file() for p in (tmp_path / "three" / "scratch").rglob("*"))  # nothing half-fetched kept


def test_a_changed_object_is_found_before_it_is_reused(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    path = made_file(media, "v/short.jpg", b"jpeg")
    made = media.put_file(path, "v/short.jpg")
    s3_bucket["client"].put_object(
        Bucket=s3_bucket["bucket"], Key="media/v/short.jpg", Body=b"JPEG", Metadata={"sha256": "0" * 64}
    )
    assert "short.jpg changed since it was made (its SHA-256 differs" in media.verify("v/short.jpg", made)
    s3_bucket["client"].delete_object(Bucket=s3_bucket["bucket"], Key="media/v/short.jpg")
    assert media.verify("v/short.jpg", made).startswith("short.jpg is missing (s3://")


def test_a_presigned_url_serves_the_object(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    path = made_file(media, "v/clip.mp4", b"served bytes")
    media.put_file(path, "v/clip.mp4")

    url = media.url_for("v/clip.mp4")
    assert url.startswith(f"{s3_bucket['endpoint']}/{s3_bucket['bucket']}/media/v/clip.mp4?")
    assert httpx.get(url).content == b"served bytes"
    based = store_for(s3_bucket, tmp_path, base_url="https://cdn.example.test/m")
    assert based.url_for("v/clip.mp4", version="abc") == "https://cdn.example.test/m/v/clip.mp4?v=abc"


def test_an_unreachable_endpoint_is_named(s3_bucket, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    media = S3MediaStore(f"s3://{s3_bucket['bucket']}/media", tmp_path, endpoint_url=dead, connect_timeout_s=1)
    with pytest.raises(MediaStoreError) as caught:
        media.check()
    message = str(caught.value)
    assert "cannot be reached" in message and dead in message and "SHORTS_MEDIA_S3_ENDPOINT_URL" in message


def test_a_missing_bucket_is_named(s3_bucket, tmp_path):
    media = S3MediaStore("s3://no-such-bucket-here/media", tmp_path, endpoint_url=s3_bucket["endpoint"])
    with pytest.raises(MediaStoreError, match="no-such-bucket-here"):
        media.check()


def test_missing_credentials_name_the_aws_variables(s3_bucket, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    media = store_for(s3_bucket, tmp_path)
    with pytest.raises(MediaStoreError, match="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"):
        media.check()


@pytest.fixture
def strict_s3(tmp_path):
    """Another local S3 server, one that checks every request's credentials against its IAM users."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        server.kill()
        server.wait()


def test_refused_credentials_are_named_and_the_secret_is_not(s3_bucket, tmp_path, strict_s3):
    media = S3MediaStore("s3://some-bucket/media", tmp_path, endpoint_url=strict_s3)
    with pytest.raises(MediaStoreError) as caught:
        media.check()
    message = str(caught.value)
    assert "refused the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" in message
    assert SECRET not in message and "test-access-key" not in message


UPLOADER = """
import sys
from pathlib import Path
from shorts_assets.storage.s3 import S3MediaStore
media = S3MediaStore(sys.argv[1], sys.argv[2], endpoint_url=sys.argv[3], part_bytes=5 * 1024 * 1024)
path = Path(sys.argv[4])
print("uploading", flush=True)
media.put_file(path, media.key_of(path))
print("done", flush=True)
"""


def test_an_upload_killed_midway_leaves_no_object_under_its_key_and_a_rerun_completes(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    big = made_file(media, "demo/d/v/short.mp4", os.urandom(40 * 1024 * 1024))
    client, bucket = s3_bucket["client"], s3_bucket["bucket"]
    child = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, media.root_uri, str(media.scratch), s3_bucket["endpoint"], str(big)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not client.list_multipart_uploads(Bucket=bucket).get("Uploads"):
            assert child.poll() is None, "the upload ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL

    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="media/")
    assert media.verify("demo/d/v/short.mp4", file_checksum(big)).startswith("short.mp4 is missing")

    made = media.put_file(big, "demo/d/v/short.mp4")  # the rerun
    assert media.verify("demo/d/v/short.mp4", made) is None
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="media/")["Contents"]] == [
        "media/demo/d/v/short.mp4"
    ]


def test_an_object_without_our_checksum_is_replaced_not_trusted(s3_bucket, tmp_path):
    media = store_for(s3_bucket, tmp_path)
    path = made_file(media, "v/clip.mp4", b"ours")
    s3_bucket["client"].put_object(Bucket=s3_bucket["bucket"], Key="media/v/clip.mp4", Body=b"THEM")  # same size

    made = media.put_file(path, "v/clip.mp4")

    body = s3_bucket["client"].get_object(Bucket=s3_bucket["bucket"], Key="media/v/clip.mp4")["Body"].read()
    assert body == b"ours" and media.verify("v/clip.mp4", made) is None
