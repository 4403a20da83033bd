"""A process killed with SIGKILL between recording events and delivering them loses none: a later
drain delivers every one, once. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

from shorts_assets.core.clock import utc_now
from shorts_assets.db.store import Store
from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.notify import deliveries, drain, load_config
from shorts_assets.notify.outbox import CLAIM_LEASE

SECRET = "a-shared-secret-of-some-length"
EVENTS = 6

# Records the events (each then posted in the background, held by the receiver) and waits to be killed.
EMITTER = textwrap.dedent(
    """
    import os, sys, time
    from shorts_assets.db.store import Store
    from shorts_assets.notify import emit, load_config

    store = Store(sys.argv[1])
    config = load_config(os.environ)
    for n in range(int(sys.argv[2])):
        emit(store, "published", channel="demo", config=config, video_id=f"demo-20261127-{n:02d}", data={"n": n})
    print("recorded", flush=True)
    time.sleep(600)
    """
)


def test_a_kill_9_between_recording_and_delivering_loses_no_event(database_url: str) -> None:
    Store(database_url)  # migrated before the child starts
    with WebhookReceiver(SECRET) as receiver:
        receiver.hold()  # every post the child starts waits, unanswered
        env = {**os.environ, "SHORTS_WEBHOOK_URLS": receiver.url, "SHORTS_WEBHOOK_SECRET": SECRET}
        child = subprocess.Popen(
            [sys.executable, "-c", EMITTER, database_url, str(EVENTS)], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "recorded"
            assert receiver.wait_for_held(1)  # it was in the middle of delivering when it died
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
        receiver.release()

        store = Store(database_url)
        rows = deliveries(store)
        assert len(rows) == EVENTS and all(r.status == "pending" for r in rows)
        assert receiver.events == {}  # nothing was delivered before the kill

        config = load_config({"SHORTS_WEBHOOK_URLS": receiver.url, "SHORTS_WEBHOOK_SECRET": SECRET})
        # Rows the dead process had claimed wait for their lease to lapse; the others are due now.
        report = drain(store, config, now=utc_now() + CLAIM_LEASE + timedelta(seconds=1))
        assert report.delivered == EVENTS
        assert sorted(body["data"]["n"] for body in receiver.events.values()) == list(range(EVENTS))
        assert all(count == 1 for count in receiver.accepted.values())
        assert all(r.status == "delivered" for r in deliveries(store))
