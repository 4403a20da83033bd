"""Rendering an ASS caption script over a plain background with real ffmpeg/libass, and reading the
frame back as pixels, for the caption tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from shorts_assets.providers.media import ffmpeg_exe

BACKGROUND = (0x20, 0x30, 0x40)


def caption_frame(ass_path: Path, fonts: Path, at_s: float) -> np.ndarray:
    """The 1920x1080 RGB frame libass draws from `ass_path` at `at_s` over the plain background."""
    colour = "0x{:02x}{:02x}{:02x}".format(*BACKGROUND)
    done = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"color=c={colour}:s=1080x1920:r=25:d={at_s + 0.5:.3f}",
            "-vf",
            f"ass=filename={ass_path}:fontsdir={fonts}",
            "-ss",
            f"{at_s:.3f}",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, np.uint8).reshape(1920, 1080, 3)


def ink(frame: np.ndarray, threshold: int = 40) -> np.ndarray:
    """Where the frame differs from the background: the captions' pixels."""
    return np.any(np.abs(frame.astype(int) - np.array(BACKGROUND)) > threshold, axis=2)


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the inked pixels."""
    ys, xs = np.nonzero(mask)
    assert len(ys), "nothing was drawn"
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


def near(frame: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    """How many pixels are within `tolerance` of the colour `rgb`."""
    return int(np.all(np.abs(frame.astype(int) - np.array(rgb)) <= tolerance, axis=2).sum())


def glyph_shapes(mask: np.ndarray) -> list[bytes]:
    """The inked runs of columns (glyphs, or words of a script that joins its letters), each
    reduced to a 12x12 bitmap: equal shapes give equal bytes."""
    rows = np.nonzero(mask.any(axis=1))[0]
    band = mask[rows.min() : rows.max() + 1]
    columns = band.any(axis=0)
    shapes, start = [], None
    for x, inked in enumerate([*columns, False]):
        if inked and start is None:
            start = x
        elif not inked and start is not None:
            piece = band[:, start:x]
            ys = np.nonzero(piece.any(axis=1))[0]
            piece = piece[ys.min() : ys.max() + 1]
            if piece.sum() > 30:  # not a stray anti-aliasing pixel
                yi = np.linspace(0, piece.shape[0] - 1, 12).round().astype(int)
                xi = np.linspace(0, piece.shape[1] - 1, 12).round().astype(int)
                shapes.append(np.packbits(piece[np.ix_(yi, xi)]).tobytes())
            start = None
    return shapes
