"""Runs a person launches go first, scheduled batches after them, metrics refreshes last: the tags the
schedules and the sensor put on their runs, which the run queue starts highest first."""

import time

import dagster as dg

from shorts_assets.definitions import defs
from shorts_assets.defs.priorities import PRIORITY_TAG
from shorts_assets.defs.schedules import daily_batch_schedule, daily_strategy_schedule
from shorts_assets.defs.sensors import metrics_after_publish_sensor


def test_scheduled_batches_rank_below_a_persons_runs():
    for schedule in (daily_batch_schedule, daily_strategy_schedule):
        resolved = defs().get_schedule_def(schedule.name)
        with dg.instance_for_test() as instance, dg.build_schedule_context(instance=instance) as context:
            result = resolved.evaluate_tick(context)
        assert result.run_requests, schedule.name
        assert {r.tags.get(PRIORITY_TAG) for r in result.run_requests} == {"-1"}


def test_metrics_refreshes_rank_last():
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=["publications", "youtube"],
                partition="demo|2026-11-20",
                metadata={"published": 1, "published_at_latest": time.time() - 30 * 3600},
            )
        )
        result = metrics_after_publish_sensor(dg.build_sensor_context(instance=instance))
    assert [r.tags[PRIORITY_TAG] for r in result.run_requests] == ["-2"]
