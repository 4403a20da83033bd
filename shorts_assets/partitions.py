"""The loop's one partitions definition: channel × date. One partition is one channel's batch for a day."""

import dagster as dg

from shorts_assets.settings import current_settings

_SETTINGS = current_settings()

channel_partitions = dg.StaticPartitionsDefinition([c.name for c in _SETTINGS.channels])
# end_offset=1 makes today's batch a partition, not only the days that have ended.
date_partitions = dg.DailyPartitionsDefinition(start_date=_SETTINGS.start_date, end_offset=1)
loop_partitions = dg.MultiPartitionsDefinition({"channel": channel_partitions, "date": date_partitions})

# metrics and comments cohorts that a strategy update reads: the trailing week, today included.
LEARNING_WINDOW_DAYS = 7
