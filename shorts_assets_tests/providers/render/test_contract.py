"""A render that misses the contract fails only its own video and is moved aside, never published."""

import subprocess

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.providers.media import ffmpeg_exe
from shorts_assets.providers.render.quality import reject_if_below_contract


def test_a_landscape_render_is_rejected_and_moved_aside(tmp_path):
    path = tmp_path / "short.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=30:d=1",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    with pytest.raises(ProviderError, match="resolution|320x240") as raised:
        reject_if_below_contract(path, {"width": 1080, "height": 1920, "fps": 30})
    assert str(path) in str(raised.value)
    assert not path.exists()
    assert (tmp_path / "short.rejected.mp4").is_file()
