"""Everything the code location holds, assembled from validated settings."""

import dagster as dg

from shorts_assets.defs.checks import build_failed_video_checks, build_render_checks
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.renders import renders
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.create.voiceovers import voiceovers
from shorts_assets.defs.execution import build_executor
from shorts_assets.defs.jobs import learn_job, metrics_refresh_job, produce_job, shorts_loop_job
from shorts_assets.defs.learn.comments import comments
from shorts_assets.defs.learn.metrics import metrics
from shorts_assets.defs.learn.strategy import strategy
from shorts_assets.defs.notifications import run_failure_sensor, webhook_delivery_sensor
from shorts_assets.defs.publish.publications import publication_assets
from shorts_assets.defs.resources import RendererResource, build_resources
from shorts_assets.defs.review import approved_videos_sensor, publish_approved_job, review_job
from shorts_assets.defs.schedules import daily_batch_schedule, daily_strategy_schedule
from shorts_assets.defs.sensors import metrics_after_publish_sensor
from shorts_assets.loop.stages import CLIPS_STAGE, RENDER_STAGE, VOICEOVER_STAGE
from shorts_assets.settings import Settings

loop_assets = [scripts, clips, voiceovers, renders, *publication_assets, metrics, comments, strategy]


def loop_checks(renderer: RendererResource) -> list[dg.AssetChecksDefinition]:
    """The blocking checks on the loop's renders, against the contract of the configured renderer, and
    the non-blocking checks that warn when some videos of a batch failed at a per-video stage."""
    return [
        *build_render_checks(renders.key, **renderer.contract()),
        *build_failed_video_checks(
            {clips.key: CLIPS_STAGE, voiceovers.key: VOICEOVER_STAGE, renders.key: RENDER_STAGE},
            scripts_asset_key=scripts.key,
        ),
    ]


def build_definitions(settings: Settings) -> dg.Definitions:
    resources = build_resources(settings)
    return dg.Definitions(
        assets=loop_assets,
        asset_checks=loop_checks(resources["renderer"]),
        jobs=[shorts_loop_job, produce_job, learn_job, metrics_refresh_job, review_job, publish_approved_job],
        schedules=[daily_batch_schedule, daily_strategy_schedule],
        sensors=[metrics_after_publish_sensor, approved_videos_sensor, webhook_delivery_sensor, run_failure_sensor],
        resources=resources,
        loggers={"console": dg.colored_console_logger},
        # By default the steps of one batch run one after another in the run's process: on a small machine
        # this beats paying a fresh interpreter per step, and renders already use every core.
        # SHORTS_EXECUTOR=celery sends them to Celery workers on other machines (see execution.py).
        executor=build_executor(),
    )
