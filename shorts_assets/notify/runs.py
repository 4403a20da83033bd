"""The record of failed Dagster runs: one row per run, written once, with what a person needs to look.

Plain data in, so that the engine stays free of Dagster: the run-failure sensor passes the run's id,
job, partition tags and error summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shorts_assets.core.clock import utc_now
from shorts_assets.db.schema import run_failures
from shorts_assets.db.store import aware
from shorts_assets.notify.config import WebhookConfig
from shorts_assets.notify.emitter import emit
from shorts_assets.notify.outbox import engine_of

PARTITION_TAG = "dagster/partition"
ERROR_LIMIT = 4000


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job_name: str
    partition: str | None
    tags: Mapping[str, str]
    error: str
    failed_at: datetime


def partition_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The run's partition tags (``dagster/partition`` and its per-dimension ``dagster/partition/...``)."""
    return {k: v for k, v in tags.items() if k == PARTITION_TAG or k.startswith(PARTITION_TAG + "/")}


def record_run_failure(store: Any, failure: RunFailure, config: WebhookConfig, *, deliver_now: bool = True) -> bool:
    """Record a failed run and emit ``run_failed`` (once per run id); False if it was recorded before."""
    engine = engine_of(store)
    try:
        with engine.begin() as conn:
            conn.execute(
                run_failures.insert().values(
                    run_id=failure.run_id,
                    job_name=failure.job_name,
                    partition=failure.partition,
                    tags=dict(failure.tags),
                    error=failure.error[:ERROR_LIMIT],
                    failed_at=failure.failed_at,
                    recorded_at=utc_now(),
                )
            )
        created = True
    except sa.exc.IntegrityError:  # recorded by an earlier evaluation of the sensor
        created = False
    channel = failure.tags.get(f"{PARTITION_TAG}/channel")
    emit(
        engine,
        "run_failed",
        channel=channel,
        config=config,
        key=f"run_failed:{failure.run_id}",
        data={
            "run_id": failure.run_id,
            "job": failure.job_name,
            "partition": failure.partition or "",
            "error": failure.error[:500],
            "failed_at": failure.failed_at.isoformat(),
        },
        deliver_now=deliver_now,
    )
    return created


def run_failures_recorded(store: Any) -> list[RunFailure]:
    with engine_of(store).connect() as conn:
        rows = conn.execute(sa.select(run_failures).order_by(run_failures.c.failed_at))
        return [RunFailure(r.run_id, r.job_name, r.partition, dict(r.tags), r.error, aware(r.failed_at)) for r in rows]
