"""The durable outbox: events recorded with one delivery row per destination, claimed one drainer at a time.

An event and its delivery rows are written in one transaction, right after the state change they
report (or inside the caller's own transaction, through ``record``), so a process that dies before
delivering loses nothing: the rows wait, due, for the next drainer. A drainer claims a row with one
conditional UPDATE (free, or its claim lapsed) before posting it, so two drainers never post one row
at once; a drainer that dies mid-post leaves a claim that lapses with its lease. Delivery is at least
once (a post whose answer was lost is sent again); receivers deduplicate by the event id.

A failed attempt is retried with exponential backoff and jitter, capped; after the give-up horizon
the row is marked ``dead`` and kept, with its last error, for a person to see (and to requeue).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shorts_assets.core.clock import utc_now
from shorts_assets.db.schema import notification_deliveries, notification_events
from shorts_assets.db.store import aware
from shorts_assets.notify.config import Destination
from shorts_assets.notify.events import Event

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)


def engine_of(store_or_engine: Any) -> sa.Engine:
    return store_or_engine if isinstance(store_or_engine, sa.Engine) else store_or_engine.engine


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    destination: str
    target: str
    format: str
    status: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
    payload: Mapping[str, Any]


def record(conn: sa.Connection, event: Event, destinations: Sequence[Destination], now: datetime) -> bool:
    """Write the event and its delivery rows on `conn` (the caller's transaction); False if it was recorded before."""
    exists = conn.execute(
        sa.select(notification_events.c.event_id).where(notification_events.c.event_id == event.id)
    ).first()
    if exists:
        return False
    conn.execute(
        notification_events.insert().values(
            event_id=event.id,
            kind=event.kind,
            channel=event.channel,
            video_id=event.video_id,
            payload=event.envelope(),
            created_at=now,
        )
    )
    for destination in destinations:
        conn.execute(
            notification_deliveries.insert().values(
                event_id=event.id,
                destination=destination.id,
                target=destination.target[:200],
                format=destination.format,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return True


def next_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long after its `attempts`-th failure a delivery is tried again: doubling from 30 s, capped at an
    hour, with the upper half jittered so that drainers and receivers recovering together spread out."""
    exponent = min(max(attempts - 1, 0), 20)
    delay = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE.total_seconds() * 2**exponent)
    return timedelta(seconds=delay / 2 + (rng or random).uniform(0, delay / 2))


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=r.id,
        event_id=r.event_id,
        destination=r.destination,
        target=r.target,
        format=r.format,
        status=r.status,
        attempts=r.attempts,
        next_attempt_at=aware(r.next_attempt_at),
        delivered_at=aware(r.delivered_at),
        last_error=r.last_error,
        created_at=aware(r.created_at),
        payload=r.payload,
    )


def _joined() -> sa.Select:
    return sa.select(notification_deliveries, notification_events.c.payload).join(
        notification_events, notification_events.c.event_id == notification_deliveries.c.event_id
    )


def claim_due(
    engine: sa.Engine,
    owner: str,
    now: datetime,
    *,
    lease: timedelta = CLAIM_LEASE,
    limit: int = 100,
    event_id: str | None = None,
) -> list[Delivery]:
    """Claim up to `limit` due deliveries for `owner`: each by one conditional UPDATE, so no two owners hold one."""
    free = sa.or_(notification_deliveries.c.claimed_by.is_(None), notification_deliveries.c.claim_expires_at < now)
    due = sa.and_(notification_deliveries.c.status == "pending", notification_deliveries.c.next_attempt_at <= now, free)
    query = sa.select(notification_deliveries.c.id).where(due)
    if event_id is not None:
        query = query.where(notification_deliveries.c.event_id == event_id)
    with engine.connect() as conn:
        candidates = [
            r.id for r in conn.execute(query.order_by(notification_deliveries.c.next_attempt_at).limit(limit))
        ]
    claimed = []
    for row_id in candidates:
        with engine.begin() as conn:
            result = conn.execute(
                notification_deliveries.update()
                .where(notification_deliveries.c.id == row_id, due)
                .values(claimed_by=owner, claim_expires_at=now + lease, updated_at=now)
            )
        if result.rowcount == 1:
            claimed.append(row_id)
    if not claimed:
        return []
    with engine.connect() as conn:
        rows = conn.execute(_joined().where(notification_deliveries.c.id.in_(claimed)))
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)


def mark_delivered(engine: sa.Engine, delivery_id: int, owner: str, now: datetime) -> bool:
    with engine.begin() as conn:
        result = conn.execute(
            notification_deliveries.update()
            .where(notification_deliveries.c.id == delivery_id, notification_deliveries.c.claimed_by == owner)
            .values(
                status="delivered",
                attempts=notification_deliveries.c.attempts + 1,
                delivered_at=now,
                last_error=None,
                claimed_by=None,
                claim_expires_at=None,
                updated_at=now,
            )
        )
    return result.rowcount == 1


def mark_failed(
    engine: sa.Engine,
    delivery: Delivery,
    owner: str,
    now: datetime,
    error: str,
    *,
    give_up_after: timedelta,
    retry_after: timedelta | None = None,
) -> tuple[str, str]:
    """Record a failed attempt: due again after the backoff, or ``dead`` past the give-up horizon; return the
    status and the error as recorded."""
    attempts = delivery.attempts + 1
    delay = max(next_delay(attempts), retry_after or timedelta(0))
    delay = min(delay, BACKOFF_CAP)
    dead = now + delay >= delivery.created_at + give_up_after
    status = "dead" if dead else "pending"
    message = error[:1000]
    if dead:
        hours = give_up_after.total_seconds() / 3600
        message = f"gave up after {attempts} attempts over {hours:g} h; last error: {message}"
    with engine.begin() as conn:
        conn.execute(
            notification_deliveries.update()
            .where(notification_deliveries.c.id == delivery.id, notification_deliveries.c.claimed_by == owner)
            .values(
                status=status,
                attempts=attempts,
                next_attempt_at=now + delay,
                last_error=message,
                claimed_by=None,
                claim_expires_at=None,
                updated_at=now,
            )
        )
    return status, message


def deliveries(store: Any, *, status: str | None = None, event_id: str | None = None) -> list[Delivery]:
    """The delivery rows, oldest first (all of them, or of one status or event)."""
    query = _joined()
    if status is not None:
        query = query.where(notification_deliveries.c.status == status)
    if event_id is not None:
        query = query.where(notification_deliveries.c.event_id == event_id)
    with engine_of(store).connect() as conn:
        return [_delivery(r) for r in conn.execute(query.order_by(notification_deliveries.c.id))]


def requeue_dead(store: Any, now: datetime | None = None) -> int:
    """Make every dead delivery due again (after the receiver is fixed); return how many."""
    now = now or utc_now()
    with engine_of(store).begin() as conn:
        result = conn.execute(
            notification_deliveries.update()
            .where(notification_deliveries.c.status == "dead")
            .values(status="pending", next_attempt_at=now, created_at=now, updated_at=now)
        )
    return result.rowcount
