"""Small pictures for the asset pages: a contact sheet of a short, and images inlined as `data:` URLs.

Dagster renders markdown images, `data:` URLs included, so a thumbnail or a plot can be seen on the
asset's page without serving any file. Every inlined image is downscaled first, so the metadata of a
batch stays a few tens of kilobytes and the page stays responsive.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shorts_assets.providers.media import atomic_output, run_ffmpeg
from shorts_assets.providers.render.sheet import SHEET_FRAMES, SHEET_JPEG_QSCALE, SHEET_TILE_WIDTH, sheet_filter

THUMBNAIL_WIDTH = 180
PLOT_WIDTH = 640
JPEG_QUALITY = 70

_JPEG_QSCALE = str(SHEET_JPEG_QSCALE)
_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


@dataclass(frozen=True)
class InlineImage:
    """An image as a `data:` URL, with its pixel size."""

    data_url: str
    width: int
    height: int

    def markdown(self, alt: str) -> str:
        """A markdown image whose alt text says what it is and its size."""
        return f"![{alt} ({self.width}×{self.height})]({self.data_url})"


def contact_sheet(
    video_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    duration_s: float,
    *,
    frames: int = SHEET_FRAMES,
    tile_width: int = SHEET_TILE_WIDTH,
) -> Path:
    """`frames` frames spread evenly over the video, side by side in one small JPEG at `out_path`.

    Written atomically: a reader finds the previous sheet or the complete new one.
    """
    if duration_s <= 0:
        raise ValueError(f"contact sheet of {video_path}: duration_s must be positive, got {duration_s!r}")
    picture = sheet_filter(duration_s, frames, tile_width)
    with atomic_output(out_path) as temp_path:
        run_ffmpeg(
            [
                "-i",
                f"file:{Path(video_path).resolve()}",
                "-an",
                "-vf",
                picture,
                "-frames:v",
                "1",
                "-q:v",
                _JPEG_QSCALE,
                "-f",
                "image2",
                f"file:{temp_path}",
            ],
            f"contact sheet of {video_path}",
        )
    return Path(out_path)


def inline_image(path: str | os.PathLike[str], width: int) -> InlineImage:
    """The JPEG or PNG at `path` downscaled to `width` pixels wide (never up), as a `data:` URL."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"cannot inline {path}: only {', '.join(sorted(_MIME))} images are inlined")
    if width <= 0:
        raise ValueError(f"cannot inline {path}: width must be positive, got {width!r}")
    with tempfile.TemporaryDirectory(prefix="preview-") as folder:
        small = Path(folder) / f"small{path.suffix.lower()}"
        args = ["-i", f"file:{path.resolve()}", "-vf", f"scale='min({width},iw)':-2", "-frames:v", "1"]
        if mime == "image/jpeg":
            args += ["-q:v", _JPEG_QSCALE]
        run_ffmpeg([*args, "-f", "image2", f"file:{small}"], f"downscaling {path}")
        data = small.read_bytes()
    image_width, image_height = image_size(data)
    return InlineImage(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", image_width, image_height)


def inline_file(path: str | os.PathLike[str]) -> InlineImage:
    """A JPEG or PNG that is already small, inlined as it is."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"cannot inline {path}: only {', '.join(sorted(_MIME))} images are inlined")
    data = path.read_bytes()
    width, height = image_size(data)
    return InlineImage(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", width, height)


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG or baseline/progressive JPEG, read from its header."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 4 <= len(data):
            if data[at] != 0xFF:
                break
            marker = data[at + 1]
            length = int.from_bytes(data[at + 2 : at + 4], "big")
            # Start-of-frame markers (not DHT C4, JPG C8, DAC CC) carry the height then the width.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[at + 7 : at + 9], "big"), int.from_bytes(data[at + 5 : at + 7], "big")
            at += 2 + length
    raise ValueError("not a PNG or JPEG image: no size in its header")
