"""The loop's one partitions definition: channel × date. One partition is one channel's batch for a day."""

import dagster as dg

from shorts_assets.settings import current_location

_LOCATION = current_location()

channel_partitions = dg.StaticPartitionsDefinition([c.name for c in _LOCATION.channels])
# end_offset=1 makes today's batch a partition, not only the days that have ended.
date_partitions = dg.DailyPartitionsDefinition(start_date=_LOCATION.start_date, end_offset=1)
loop_partitions = dg.MultiPartitionsDefinition({"channel": channel_partitions, "date": date_partitions})
