"""Names shared across the code location: asset groups, pools and per-video stage names."""

CREATE = "create"
PUBLISH = "publish"
LEARN = "learn"

RENDER_POOL = "render"
VIDEO_GEN_POOL = "video_gen"

# Stage outputs recorded on each video row, in the order the loop produces them.
SCRIPT_STAGE = "scripted"
CLIPS_STAGE = "clips"
VOICEOVER_STAGE = "voiceover"
RENDER_STAGE = "render"
