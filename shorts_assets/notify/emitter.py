"""Emitting an event: recorded in the outbox for each destination of its channel, then posted in the background.

This is the one call the loop and the review gate make; nothing it does can fail the work it reports
except a bad kind or data (a programming error), which raises before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shorts_assets.core.clock import utc_now
from shorts_assets.notify.config import WebhookConfig
from shorts_assets.notify.delivery import deliver_in_background
from shorts_assets.notify.events import new_event
from shorts_assets.notify.outbox import engine_of, record

logger = logging.getLogger(__name__)


def emit(
    store: Any,
    kind: str,
    *,
    channel: str | None,
    config: WebhookConfig,
    video_id: str | None = None,
    data: Mapping[str, Any] | None = None,
    key: str | None = None,
    deliver_now: bool = True,
    now: datetime | None = None,
) -> str:
    """Record an event for every destination of its channel and return its id; never raises on delivery.

    `store` is a Store or an SQLAlchemy Engine. `key` names the state the event reports (e.g.
    ``published:<video>:<platform>:<account>``): the id is derived from it, so the same state reported
    twice is one event. With `deliver_now` the rows are posted at once in a background thread (best
    effort: what fails is retried by the drainer). An unknown kind or data that is not JSON raises
    ValueError before anything is written.
    """
    now = now or utc_now()
    event = new_event(kind, channel=channel, video_id=video_id, data=data, occurred_at=now, key=key)
    destinations = config.for_channel(channel)
    engine = engine_of(store)
    try:
        with engine.begin() as conn:
            created = record(conn, event, destinations, now)
    except sa.exc.IntegrityError:  # a concurrent emit of the same keyed event won the insert
        created = False
    if created and deliver_now and destinations:
        deliver_in_background(engine, config, event.id)
    return event.id


@dataclass(frozen=True)
class Notifier:
    """A store and the webhook configuration, for code that emits several events (the loop's stages)."""

    store: Any
    config: WebhookConfig

    def emit(
        self,
        kind: str,
        *,
        channel: str | None,
        video_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> str | None:
        """Record and send an event; a failure to record it is swallowed (and returns None): a notification
        never fails the work it reports."""
        try:
            return emit(self.store, kind, channel=channel, config=self.config, video_id=video_id, data=data, key=key)
        except Exception as exc:
            logger.warning("a %s event of %s could not be recorded: %s: %s", kind, channel, type(exc).__name__, exc)
            return None


def budget_listener(store: Any, config: WebhookConfig) -> Callable[[str, str], None]:
    """What a channel's Budget calls when its daily limit refuses work: one budget_exhausted event per
    channel and UTC day, however many calls were refused."""
    notifier = Notifier(store, config)

    def exhausted(channel: str, message: str) -> None:
        day = utc_now().date().isoformat()
        notifier.emit(
            "budget_exhausted",
            channel=channel,
            key=f"budget_exhausted:{channel}:{day}",
            data={"day": day, "message": message[:500]},
        )

    return exhausted
