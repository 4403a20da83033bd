"""The daily rhythm: produce each channel's batch in the morning, update the strategy at night."""

import dagster as dg

from shorts_assets.defs.jobs import learn_job, produce_job
from shorts_assets.defs.priorities import SCHEDULED_TAGS

daily_batch_schedule = dg.build_schedule_from_partitioned_job(
    produce_job, name="daily_batch_schedule", hour_of_day=6, minute_of_hour=0, tags=SCHEDULED_TAGS
)

daily_strategy_schedule = dg.build_schedule_from_partitioned_job(
    learn_job, name="daily_strategy_schedule", hour_of_day=23, minute_of_hour=30, tags=SCHEDULED_TAGS
)
