"""The short itself: the ffmpeg and cloud renderers, their shared caption layout, music, subtitles and the quality probe."""
