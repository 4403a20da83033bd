"""The notification sensors: webhook_delivery_sensor drains the outbox, run_failure_sensor records every
failed run and reports it.

Delivery is also attempted by the process that records an event, right after recording it; this
sensor catches up with everything that attempt missed (a receiver that was down, a process that died)
every 30 seconds, claiming each row first, so it may run beside other drainers.
"""

from datetime import datetime, timezone

import dagster as dg

from shorts_assets.defs.resources import DatabaseResource
from shorts_assets.notify import drain
from shorts_assets.notify.runs import RunFailure, partition_tags, record_run_failure

ERROR_SUMMARY_LIMIT = 2000


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def webhook_delivery_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SkipReason:
    """Post the notifications that are due to their webhooks: new ones a process could not deliver, and
    retries whose backoff has passed."""
    if not database.webhooks.enabled:  # rows recorded under an earlier configuration wait for it to return
        return dg.SkipReason("no webhook is configured (SHORTS_WEBHOOK_URLS or a channel's webhook_urls)")
    report = drain(database.store(), database.webhooks)
    for line in report.errors:
        context.log.info(f"will retry: {line}")
    for line in report.dead:
        context.log.warning(f"given up (kept in notification_deliveries as dead): {line}")
    return dg.SkipReason(f"delivered {report.delivered}, {report.retried} to retry later, {len(report.dead)} given up")


def error_summary(context: dg.RunFailureSensorContext) -> str:
    """The run's failure message and, for a step failure, each failed step's own error."""
    parts = [context.failure_event.message or "the run failed"]
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None:  # the user's own error, not Dagster's wrapper
            error = error.cause
        if error is not None:
            parts.append(f"{event.step_key}: {error.message.strip()}")
    return "\n".join(parts)[:ERROR_SUMMARY_LIMIT]


def failed_at(context: dg.RunFailureSensorContext) -> datetime:
    """When the run ended, as its run record says (now, if the record has no end time yet)."""
    record = context.instance.get_run_record_by_id(context.dagster_run.run_id)
    if record is not None and record.end_time is not None:
        return datetime.fromtimestamp(record.end_time, timezone.utc)
    return datetime.now(timezone.utc)


@dg.run_failure_sensor(name="run_failure_sensor", default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_sensor(context: dg.RunFailureSensorContext, database: DatabaseResource) -> None:
    """Record every failed run of this code location (run id, job, partition, error, time) in the
    run_failures table and send a run_failed notification."""
    run = context.dagster_run
    tags = partition_tags(run.tags)
    failure = RunFailure(
        run_id=run.run_id,
        job_name=run.job_name,
        partition=tags.get("dagster/partition"),
        tags=tags,
        error=error_summary(context),
        failed_at=failed_at(context),
    )
    if record_run_failure(database.store(), failure, database.webhooks):
        context.log.info(f"recorded the failure of run {run.run_id} ({run.job_name})")
