"""Names the Dagster wing shares: asset groups and concurrency pools."""

CREATE = "create"
PUBLISH = "publish"
LEARN = "learn"

RENDER_POOL = "render"
VIDEO_GEN_POOL = "video_gen"
# Each generation provider's and the platforms' read APIs' rate limits, across runs and machines.
SCRIPT_GEN_POOL = "script_gen"
TTS_POOL = "tts"
PLATFORM_READS_POOL = "platform_reads"
