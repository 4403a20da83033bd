"""Posting due deliveries: signed, each claimed first, the outcome written back to the outbox.

``drain`` is what the delivery sensor runs every 30 seconds and what a process runs in the
background right after it records an event. A 2xx answer marks the row delivered; anything else (a
refused connection, a timeout, a 5xx, a 4xx) is retried with backoff until the give-up horizon, a
``Retry-After`` honoured. Errors name the destination by its scheme and host only, never its URL,
and never hold the secret.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from shorts_assets.core.clock import utc_now
from shorts_assets.notify.config import Destination, WebhookConfig
from shorts_assets.notify.events import canonical_body
from shorts_assets.notify.formats import body_for
from shorts_assets.notify.outbox import (
    CLAIM_LEASE,
    Delivery,
    claim_due,
    engine_of,
    mark_delivered,
    mark_failed,
)
from shorts_assets.notify.signing import signed_headers

USER_AGENT = "shorts-engine-webhooks/1"


def new_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


@dataclass
class DrainReport:
    delivered: int = 0
    retried: int = 0
    dead: list[str] = field(default_factory=list)  # "<event id> to <target>: <error>"
    errors: list[str] = field(default_factory=list)  # "<event id> to <target>: <error>" for each retry


@dataclass(frozen=True)
class Attempt:
    ok: bool
    error: str = ""
    retry_after: timedelta | None = None


def _scrub(message: str, destination: Destination, secret: str) -> str:
    message = message.replace(destination.url, destination.target)
    return message.replace(secret, "<secret>") if secret else message


def _retry_after(response: httpx.Response) -> timedelta | None:
    raw = response.headers.get("retry-after", "").strip()
    return timedelta(seconds=min(int(raw), 3600)) if raw.isdigit() else None


def post(client: httpx.Client, destination: Destination, envelope: dict[str, Any], config: WebhookConfig) -> Attempt:
    """One signed POST of an event to a destination."""
    body = canonical_body(body_for(destination.format, envelope))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(config.secret, int(time.time()), body, envelope["id"]),
    }
    try:
        response = client.post(destination.url, content=body, headers=headers, timeout=config.timeout_s)
    except httpx.HTTPError as exc:
        return Attempt(False, _scrub(f"{type(exc).__name__}: {exc}", destination, config.secret))
    if 200 <= response.status_code < 300:
        return Attempt(True)
    excerpt = response.text[:200].replace("\n", " ")
    return Attempt(
        False,
        _scrub(f"HTTP {response.status_code}: {excerpt}", destination, config.secret),
        _retry_after(response),
    )


def _unconfigured(delivery: Delivery) -> Attempt:
    return Attempt(
        False,
        f"destination {delivery.target} ({delivery.destination}) is no longer configured; "
        "set its URL again in SHORTS_WEBHOOK_URLS or the channel's webhook_urls",
    )


def drain(
    store: Any,
    config: WebhookConfig,
    *,
    now: datetime | None = None,
    owner: str | None = None,
    limit: int = 200,
    lease: timedelta = CLAIM_LEASE,
    event_id: str | None = None,
    client: httpx.Client | None = None,
) -> DrainReport:
    """Claim and post every due delivery (of one event, with `event_id`); write back each outcome."""
    engine = engine_of(store)
    owner = owner or new_owner()
    report = DrainReport()
    claimed = claim_due(engine, owner, now or utc_now(), lease=lease, limit=limit, event_id=event_id)
    if not claimed:
        return report
    known = config.by_id()
    own_client = client is None
    client = client or httpx.Client(follow_redirects=False)
    try:
        for delivery in claimed:
            destination = known.get(delivery.destination)
            attempt = (
                post(client, destination, dict(delivery.payload), config) if destination else _unconfigured(delivery)
            )
            at = now or utc_now()
            if attempt.ok:
                report.delivered += mark_delivered(engine, delivery.id, owner, at)
                continue
            status, recorded = mark_failed(
                engine,
                delivery,
                owner,
                at,
                attempt.error,
                give_up_after=config.give_up_after,
                retry_after=attempt.retry_after,
            )
            line = f"{delivery.event_id} to {delivery.target}: {recorded}"
            if status == "dead":
                report.dead.append(line)
            else:
                report.retried += 1
                report.errors.append(line)
    finally:
        if own_client:
            client.close()
    return report


_inline: set[threading.Thread] = set()
_inline_lock = threading.Lock()


def deliver_in_background(engine: sa.Engine, config: WebhookConfig, event_id: str) -> None:
    """Post one freshly recorded event's deliveries now, without holding up the caller; never raises."""

    def run() -> None:
        try:
            drain(engine, config, event_id=event_id)
        except Exception:  # the rows stay due (or claimed until the lease lapses): the drainer retries them
            pass
        finally:
            with _inline_lock:
                _inline.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"webhook-{event_id[:8]}", daemon=True)
    with _inline_lock:
        _inline.add(thread)
    thread.start()


def wait_for_background(timeout_s: float = 30.0) -> bool:
    """Wait for this process's background deliveries to finish; False if some are still running."""
    deadline = time.monotonic() + timeout_s
    while True:
        with _inline_lock:
            threads = list(_inline)
        if not threads:
            return True
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            with _inline_lock:
                return not _inline
