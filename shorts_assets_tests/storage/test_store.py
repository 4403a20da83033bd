"""The media store on a local folder: keys relative to the root, files moved in whole, changes found."""

from pathlib import Path

import pytest

from shorts_assets.providers.media import BadMediaFile
from shorts_assets.storage import MediaConfig, MediaStoreError, check_key, open_store
from shorts_assets.storage.store import LocalMediaStore, file_checksum


@pytest.mark.parametrize("bad", ["", "/abs/short.mp4", "a/../b.mp4", "./a.mp4", "a//b.mp4", "s3://b/k", "a\\b.mp4"])
def test_a_key_is_a_plain_relative_path_under_the_root(bad):
    with pytest.raises(MediaStoreError, match="not a key under the media root"):
        check_key(bad)
    assert check_key("demo/2026-11-27/demo-20261127-01/short.mp4") == "demo/2026-11-27/demo-20261127-01/short.mp4"


def test_a_file_made_in_its_work_folder_is_stored_in_place_under_its_key(tmp_path):
    media = LocalMediaStore(tmp_path / "media")
    folder = media.work_dir("demo/2026-11-27/v1")
    assert folder == tmp_path / "media" / "demo" / "2026-11-27" / "v1"
    made = folder / "short.mp4"
    made.write_bytes(b"video")

    key = media.key_of(made)
    assert key == "demo/2026-11-27/v1/short.mp4"
    assert media.put_file(made, key) == file_checksum(made)
    assert media.verify(key, file_checksum(made)) is None
    assert media.get_local(key, file_checksum(made)) == made


def test_a_file_from_elsewhere_is_copied_in_whole_and_no_partial_file_is_left(tmp_path):
    media = LocalMediaStore(tmp_path / "media")
    source = tmp_path / "elsewhere.bin"
    source.write_bytes(b"x" * 10_000)

    made = media.put_file(source, "demo/d/v/clip.bin")

    target = tmp_path / "media" / "demo" / "d" / "v" / "clip.bin"
    assert target.read_bytes() == source.read_bytes() and made["size"] == 10_000
    assert [p.name for p in target.parent.iterdir()] == ["clip.bin"]


def test_a_changed_or_missing_file_is_named_and_refused(tmp_path):
    media = LocalMediaStore(tmp_path / "media")
    path = media.work_dir("v") / "voiceover.wav"
    path.write_bytes(b"abcd")
    made = media.put_file(path, "v/voiceover.wav")

    path.write_bytes(b"abce")  # same size, other bytes
    assert "voiceover.wav changed since it was made (its SHA-256 differs" in media.verify("v/voiceover.wav", made)
    with pytest.raises(BadMediaFile) as caught:
        media.get_local("v/voiceover.wav", made)
    assert caught.value.path == path
    path.unlink()
    assert media.verify("v/voiceover.wav", made) == "voiceover.wav is missing (v/voiceover.wav)"


def test_a_file_outside_the_work_folder_has_no_key(tmp_path):
    media = LocalMediaStore(tmp_path / "media")
    with pytest.raises(MediaStoreError, match="outside the media store's work folder"):
        media.key_of(tmp_path / "other" / "a.mp4")


def test_a_media_root_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    media = LocalMediaStore(blocker / "media")
    with pytest.raises(MediaStoreError, match=r"SHORTS_MEDIA_ROOT=.*a-file/media: cannot create"):
        media.check()
    with pytest.raises(MediaStoreError, match="SHORTS_MEDIA_ROOT"):
        media.work_dir("demo/2026-11-27/v1")


def test_the_served_url_is_the_base_url_joined_with_the_key(tmp_path):
    media = LocalMediaStore(tmp_path, base_url="https://cdn.example.test/media/")
    assert media.url_for("demo/a b.mp4", version="abc") == "https://cdn.example.test/media/demo/a%20b.mp4?v=abc"
    assert LocalMediaStore(tmp_path).url_for("demo/a.mp4") is None


def test_the_media_root_defaults_to_the_media_folder_of_the_data_root(tmp_path):
    config = MediaConfig.from_env({}, tmp_path / "data")
    assert config.root == str((tmp_path / "data" / "media").resolve())
    assert config.scratch_dir == str((tmp_path / "data" / "scratch").resolve())
    assert isinstance(open_store(config), LocalMediaStore)
    s3 = MediaConfig.from_env({"SHORTS_MEDIA_ROOT": "s3://bucket/some/prefix"}, tmp_path)
    assert s3.is_s3 and s3.root == "s3://bucket/some/prefix"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHORTS_MEDIA_ROOT": "gs://bucket/x"}, "SHORTS_MEDIA_ROOT"),
        ({"SHORTS_MEDIA_ROOT": "s3://"}, "SHORTS_MEDIA_ROOT"),
        ({"SHORTS_MEDIA_ROOT": "s3://bucket/../x"}, "not a key"),
        ({"SHORTS_MEDIA_S3_ENDPOINT_URL": "localhost:9000"}, "SHORTS_MEDIA_S3_ENDPOINT_URL"),
    ],
)
def test_a_bad_media_variable_is_refused_by_name(tmp_path, env, named):
    with pytest.raises(MediaStoreError, match=named):
        MediaConfig.from_env(env, Path(tmp_path))
