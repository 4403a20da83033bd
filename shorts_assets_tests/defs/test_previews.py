"""The pictures on the asset pages: a contact sheet of a short's frames written beside it whole or not
at all, and images inlined as small `data:` URLs that decode to what they say they are."""

import base64
import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from shorts_assets.core.errors import ProviderError
from shorts_assets.defs.previews import contact_sheet, image_size, inline_file, inline_image
from shorts_assets.providers.media import ffmpeg_exe


def make(path: Path, *args: str) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> Path:
    """Twelve seconds of 540x960 video whose every second has its own solid colour."""
    folder = tmp_path_factory.mktemp("short")
    colours = ["red", "green", "blue", "yellow", "white", "black"] * 2
    inputs = [a for c in colours for a in ("-f", "lavfi", "-t", "1", "-i", f"color=c={c}:s=540x960:r=30")]
    chain = "".join(f"[{i}:v]" for i in range(len(colours))) + f"concat=n={len(colours)}:v=1[v]"
    return make(folder / "short.mp4", *inputs, "-filter_complex", chain, "-map", "[v]", "-pix_fmt", "yuv420p")


def decoded(image) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(image.data_url.split(",", 1)[1])))


def test_a_contact_sheet_tiles_frames_spread_over_the_whole_short(short, tmp_path):
    sheet = contact_sheet(short, tmp_path / "short.contact.jpg", 12.0)
    image = Image.open(sheet).convert("RGB")
    assert Image.open(sheet).format == "JPEG" and image.size == (6 * 72, 128)
    # One frame from the middle of each two-second stretch: seconds 1, 3, 5, 7, 9 and 11.
    expected = ["green", "yellow", "black", "green", "yellow", "black"]
    rgb = {"green": (0, 128, 0), "yellow": (255, 255, 0), "black": (0, 0, 0)}
    for tile, colour in enumerate(expected):
        pixel = image.getpixel((tile * 72 + 36, 64))
        assert all(abs(a - b) < 40 for a, b in zip(pixel, rgb[colour])), (tile, colour, pixel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.contact.jpg"]


def test_a_failed_contact_sheet_leaves_nothing_behind_and_names_the_video(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(ProviderError, match="junk.mp4"):
        contact_sheet(junk, tmp_path / "junk.contact.jpg", 5.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4"]
    with pytest.raises(ValueError, match="duration_s"):
        contact_sheet(junk, tmp_path / "junk.contact.jpg", 0.0)


def test_an_inlined_jpeg_is_downscaled_and_states_its_real_size(tmp_path):
    big = make(tmp_path / "thumb.jpg", "-f", "lavfi", "-i", "testsrc=s=1080x1920", "-frames:v", "1")
    image = inline_image(big, 180)
    assert image.data_url.startswith("data:image/jpeg;base64,")
    assert decoded(image).format == "JPEG" and decoded(image).size == (image.width, image.height) == (180, 320)
    assert image.markdown("thumbnail") == f"![thumbnail (180×320)]({image.data_url})"
    assert len(image.data_url) < 20_000


def test_an_inlined_png_is_never_upscaled(tmp_path):
    small = make(tmp_path / "plot.png", "-f", "lavfi", "-i", "testsrc=s=320x240", "-frames:v", "1")
    image = inline_image(small, 640)
    assert image.data_url.startswith("data:image/png;base64,")
    assert decoded(image).format == "PNG" and (image.width, image.height) == (320, 240)
    assert inline_file(small).data_url == "data:image/png;base64," + base64.b64encode(small.read_bytes()).decode()


def test_what_cannot_be_inlined_is_refused_by_name(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    with pytest.raises(ValueError, match="clip.mp4"):
        inline_image(clip, 180)
    with pytest.raises(ValueError, match="clip.mp4"):
        inline_file(clip)
    with pytest.raises(ValueError, match="not a PNG or JPEG"):
        image_size(b"GIF89a....")
