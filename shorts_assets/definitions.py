"""The code location: every asset, job, schedule, sensor and resource of the loop."""

import dagster as dg

from shorts_assets.assets.clips import clips
from shorts_assets.assets.comments import comments
from shorts_assets.assets.metrics import metrics
from shorts_assets.assets.publications import publication_assets
from shorts_assets.assets.renders import renders
from shorts_assets.assets.scripts import scripts
from shorts_assets.assets.strategy import strategy
from shorts_assets.assets.voiceovers import voiceovers
from shorts_assets.checks.render_checks import build_render_checks
from shorts_assets.jobs import learn_job, metrics_refresh_job, produce_job, shorts_loop_job
from shorts_assets.resources import RendererResource, build_resources
from shorts_assets.schedules import daily_batch_schedule, daily_strategy_schedule
from shorts_assets.sensors import metrics_after_publish_sensor
from shorts_assets.settings import current_settings

settings = current_settings()

loop_assets = [scripts, clips, voiceovers, renders, *publication_assets, metrics, comments, strategy]

render_checks = build_render_checks(renders.key, **RendererResource(
    provider=settings.renderer_provider, profile=settings.render_profile
).contract())

defs = dg.Definitions(
    assets=loop_assets,
    asset_checks=render_checks,
    jobs=[shorts_loop_job, produce_job, learn_job, metrics_refresh_job],
    schedules=[daily_batch_schedule, daily_strategy_schedule],
    sensors=[metrics_after_publish_sensor],
    resources=build_resources(settings),
    loggers={"console": dg.colored_console_logger},
    # Steps of one batch run one after another in the run's process: on a small machine this beats
    # paying a fresh interpreter per step, and renders already use every core.
    executor=dg.in_process_executor,
)
