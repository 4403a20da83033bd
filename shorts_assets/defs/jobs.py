"""The jobs people run: the whole loop, its produce and learn halves, and the metrics refresh."""

import dagster as dg

from shorts_assets.defs.constants import CREATE, LEARN, PUBLISH
from shorts_assets.settings import current_location

# Every job logs to the console at LOG_LEVEL (the logger only applies when run config names it).
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": current_location().log_level}}}}

shorts_loop_job = dg.define_asset_job(
    "shorts_loop_job",
    selection=dg.AssetSelection.groups(CREATE, PUBLISH, LEARN),
    config=RUN_CONFIG,
    description="One full iteration of the loop for a channel's day: script to strategy.",
)

produce_job = dg.define_asset_job(
    "produce_job",
    selection=dg.AssetSelection.groups(CREATE, PUBLISH),
    config=RUN_CONFIG,
    description="Write, generate, voice, render and publish a channel's batch for a day.",
)

learn_job = dg.define_asset_job(
    "learn_job",
    selection=dg.AssetSelection.groups(LEARN),
    config=RUN_CONFIG,
    description="Read metrics and comments back and update the strategy.",
)

metrics_refresh_job = dg.define_asset_job(
    "metrics_refresh_job",
    selection=dg.AssetSelection.assets("metrics", "comments"),
    config=RUN_CONFIG,
    description="Take a new metrics and comments snapshot of a published cohort.",
)
