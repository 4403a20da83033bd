"""A short's contact sheet: a few of its frames, spread evenly over it, side by side in one small JPEG.

The renderer makes it from the frames its picture pass encodes (no second decode of the short);
`sheet_filter` is the one definition of which frames and how, shared with whoever makes a sheet of a
short from its file.
"""

from __future__ import annotations

from pathlib import Path

SHEET_FRAMES = 6
SHEET_TILE_WIDTH = 72
# ffmpeg's JPEG quantiser scale (2 best .. 31 worst) nearest to a JPEG quality of about 70.
SHEET_JPEG_QSCALE = 5


def sheet_path(video_path: str | Path) -> Path:
    """Where a short's contact sheet lives: beside it, `short.contact.jpg` for `short.mp4`."""
    video_path = Path(video_path)
    return video_path.with_name(f"{video_path.stem}.contact.jpg")


def sheet_pick(duration_s: float, frames: int = SHEET_FRAMES) -> str:
    """The `select` expression of a contact sheet: one frame from the middle of each of `frames` equal
    stretches of a short of `duration_s`, so neither the first nor the last (often a fade) stands for it."""
    if duration_s <= 0:
        raise ValueError(f"a contact sheet needs a positive duration, got {duration_s!r}")
    step = duration_s / frames
    return f"isnan(prev_selected_t)*gte(t,{step / 2:.3f})+gte(t-prev_selected_t,{step:.3f})"


def sheet_filter(duration_s: float, frames: int = SHEET_FRAMES, tile_width: int = SHEET_TILE_WIDTH) -> str:
    """The filter chain, as ffmpeg's command line takes it, that turns a short into its contact sheet."""
    return f"select='{sheet_pick(duration_s, frames)}',scale={tile_width}:-2,tile={frames}x1"
