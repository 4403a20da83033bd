"""Which queued run starts first: the run queue starts the highest `dagster/priority` first, so a run a
person launches (UI, CLI, a backfill: no tag, priority 0) goes ahead of the scheduled batches, and
metrics refreshes, which only re-read what is already published, come last."""

PRIORITY_TAG = "dagster/priority"
SCHEDULED_PRIORITY = -1
METRICS_REFRESH_PRIORITY = -2

SCHEDULED_TAGS = {PRIORITY_TAG: str(SCHEDULED_PRIORITY)}
METRICS_REFRESH_TAGS = {PRIORITY_TAG: str(METRICS_REFRESH_PRIORITY)}
