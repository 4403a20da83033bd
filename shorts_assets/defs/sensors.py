"""metrics_after_publish_sensor: re-reads a cohort's metrics and comments on a maturity ladder.

It walks every publication materialisation from a cursor (an asset sensor would see only the latest
event per tick and drop cohorts published close together). For each published cohort it requests
a metrics refresh as each rung of the ladder comes due; rungs that all came due at once, as in a
backfill of past dates, collapse into one request for the highest.
"""

import json
import time

import dagster as dg

from shorts_assets.core.types import PLATFORMS
from shorts_assets.defs.jobs import metrics_refresh_job
from shorts_assets.defs.priorities import METRICS_REFRESH_TAGS

MATURITY_LADDER_HOURS: tuple[int, ...] = (1, 6, 24, 72, 168)
PUBLICATION_KEYS = [dg.AssetKey(["publications", platform]) for platform in PLATFORMS]
PAGE = 500


def _partition_key(key: str) -> dg.MultiPartitionKey:
    # The string form joins dimensions in alphabetical order: channel, then date.
    channel, day = key.split("|")
    return dg.MultiPartitionKey({"channel": channel, "date": day})


def _published_at(record: dg.EventLogRecord) -> float | None:
    materialization = record.asset_materialization
    if materialization is None:
        return None
    metadata = materialization.metadata
    published = metadata.get("published")
    if published is None or not published.value:
        return None
    latest = metadata.get("published_at_latest")
    return float(latest.value) if latest is not None and latest.value else record.timestamp


def due_rung(published_at: float, now: float) -> int:
    """How many rungs of the ladder have come due (0 = none yet)."""
    return sum(1 for hours in MATURITY_LADDER_HOURS if now >= published_at + hours * 3600)


@dg.sensor(
    job=metrics_refresh_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def metrics_after_publish_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Request metrics and comments for each published cohort at +1 h, +6 h, +24 h, +72 h and +7 d."""
    state = json.loads(context.cursor) if context.cursor else {}
    after: dict[str, int] = state.get("after", {})
    pending: dict[str, dict[str, float]] = state.get("pending", {})

    for key in PUBLICATION_KEYS:
        key_name = key.to_user_string()
        while True:
            result = context.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, after_storage_id=after.get(key_name)),
                limit=PAGE,
                ascending=True,
            )
            for record in result.records:
                after[key_name] = record.storage_id
                published_at = _published_at(record)
                if record.partition_key is None or published_at is None:
                    continue
                entry = pending.get(record.partition_key)
                if entry is None or published_at > entry["published_at"]:
                    # A newer post in the cohort restarts its ladder.
                    pending[record.partition_key] = {"published_at": published_at, "rung": 0}
            if len(result.records) < PAGE:
                break

    now = time.time()
    run_requests = []
    for partition_key, entry in sorted(pending.items()):
        rung = due_rung(entry["published_at"], now)
        if rung > entry["rung"]:
            hours = MATURITY_LADDER_HOURS[rung - 1]
            run_requests.append(
                dg.RunRequest(
                    run_key=f"{partition_key}:{entry['published_at']:.0f}:+{hours}h",
                    partition_key=_partition_key(partition_key),
                    tags={"shorts/maturity": f"+{hours}h", **METRICS_REFRESH_TAGS},
                )
            )
            entry["rung"] = rung
    finished = [k for k, e in pending.items() if e["rung"] >= len(MATURITY_LADDER_HOURS)]
    for key in finished:
        del pending[key]
    return dg.SensorResult(run_requests=run_requests, cursor=json.dumps({"after": after, "pending": pending}))
