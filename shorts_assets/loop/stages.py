"""The per-video stage outputs recorded on each video's row, in the order the loop produces them."""

SCRIPT_STAGE = "scripted"
CLIPS_STAGE = "clips"
VOICEOVER_STAGE = "voiceover"
RENDER_STAGE = "render"
