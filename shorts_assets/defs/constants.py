"""Names the Dagster wing shares: asset groups and concurrency pools."""

CREATE = "create"
PUBLISH = "publish"
LEARN = "learn"

RENDER_POOL = "render"
VIDEO_GEN_POOL = "video_gen"
