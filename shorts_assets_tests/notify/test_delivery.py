"""Delivery from the outbox: at least once, signed, retried with backoff, never two drainers on one row,
and past the give-up horizon kept as dead rather than dropped. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from shorts_assets.core.clock import utc_now
from shorts_assets.db.store import Store
from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.notify import deliveries, drain, emit, load_config, requeue_dead, wait_for_background
from shorts_assets.notify.outbox import BACKOFF_CAP, next_delay

SECRET = "a-shared-secret-of-some-length"


def config_for(*urls: str, **extra: str):
    return load_config({"SHORTS_WEBHOOK_URLS": ",".join(urls), "SHORTS_WEBHOOK_SECRET": SECRET, **extra})


def drain_until_settled(store: Store, config, start, steps: int = 12):
    """Drain as a sensor would, each time once every pending row has fallen due."""
    now = start
    for _ in range(steps):
        pending = deliveries(store, status="pending")
        if not pending:
            return
        now = max(now, *(d.next_attempt_at for d in pending))
        drain(store, config, now=now)
    raise AssertionError("deliveries still pending after the drain steps")


def test_a_receiver_failing_the_first_three_attempts_gets_every_event_once_after_dedup(database_url: str) -> None:
    store = Store(database_url)
    with WebhookReceiver(SECRET) as receiver:
        receiver.fail_first(3)
        config = config_for(receiver.url + "/hooks")
        ids = [
            emit(store, kind, channel="demo", config=config, video_id=f"demo-20261127-0{n}", data={"n": n})
            for n, kind in enumerate(("published", "failed", "needs_manual", "budget_exhausted", "run_failed"))
        ]
        assert wait_for_background()  # the first attempt of each, made right after recording
        drain_until_settled(store, config, utc_now())

        assert set(receiver.events) == set(ids)
        assert all(receiver.attempts[i] == 4 for i in ids)  # three refused, the fourth accepted
        assert all(receiver.accepted[i] == 1 for i in ids)
        assert receiver.rejected == []  # every signature valid, no replay
        rows = deliveries(store)
        assert [r.status for r in rows] == ["delivered"] * 5
        assert all(r.attempts == 4 and r.last_error is None for r in rows)
        body = receiver.events[ids[0]]
        assert set(body) == {"id", "kind", "channel", "video_id", "occurred_at", "data"}
        assert body["kind"] == "published" and body["video_id"] == "demo-20261127-00" and body["data"] == {"n": 0}


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap() -> None:
    delays = [next_delay(n) for n in range(1, 12)]
    assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=30)
    assert timedelta(seconds=60) <= delays[2] <= timedelta(seconds=120)
    assert all(d <= BACKOFF_CAP for d in delays) and delays[-1] >= BACKOFF_CAP / 2
    assert len({next_delay(5) for _ in range(20)}) > 1  # jittered


def test_a_receiver_down_for_an_hour_is_retried_and_gets_the_event_when_it_is_back(database_url: str) -> None:
    store = Store(database_url)
    with WebhookReceiver(SECRET) as receiver:
        receiver.down()
        config = config_for(receiver.url)
        start = utc_now()
        event = emit(store, "quota_exhausted", channel="demo", config=config, deliver_now=False, now=start)
        now = start
        while now < start + timedelta(hours=1):
            drain(store, config, now=now)
            [row] = deliveries(store)
            assert row.status == "pending" and "RemoteProtocolError" in (row.last_error or "")
            assert receiver.url not in row.last_error  # the destination appears as scheme and host only
            now = row.next_attempt_at
        tries = deliveries(store)[0].attempts
        assert 6 <= tries <= 12  # backing off, not hammering: 30 s doubling, capped at an hour
        receiver.up()
        drain(store, config, now=now)
        assert deliveries(store)[0].status == "delivered" and list(receiver.events) == [event]


def test_past_the_give_up_horizon_a_delivery_is_kept_as_dead_and_can_be_requeued(database_url: str) -> None:
    store = Store(database_url)
    with WebhookReceiver(SECRET) as receiver:
        receiver.down()
        config = config_for(receiver.url, SHORTS_WEBHOOK_GIVE_UP_HOURS="2")
        start = utc_now()
        emit(store, "failed", channel="demo", config=config, deliver_now=False, now=start)
        now, dead = start, []
        for _ in range(30):
            report = drain(store, config, now=now)
            dead += report.dead
            [row] = deliveries(store)
            if row.status == "dead":
                break
            now = row.next_attempt_at
        assert row.status == "dead" and row.last_error.startswith("gave up after")
        assert len(dead) == 1 and "gave up" in dead[0]
        assert drain(store, config, now=now + timedelta(days=1)).delivered == 0  # dead rows are not retried

        receiver.up()
        assert requeue_dead(store, now=now) == 1
        assert drain(store, config, now=now).delivered == 1
        assert deliveries(store)[0].status == "delivered"


def test_two_drainers_at_once_never_post_one_delivery_twice(database_url: str) -> None:
    store = Store(database_url)
    with WebhookReceiver(SECRET) as receiver:
        config = config_for(receiver.url)
        ids = [emit(store, "published", channel="demo", config=config, deliver_now=False) for _ in range(12)]
        reports = []
        barrier = threading.Barrier(3)

        def drainer() -> None:
            barrier.wait()
            reports.append(drain(Store(database_url), config))

        threads = [threading.Thread(target=drainer) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(r.delivered for r in reports) == 12
        assert set(receiver.events) == set(ids)
        assert all(receiver.attempts[i] == 1 for i in ids)  # each row posted by exactly one drainer


def test_an_event_reporting_a_state_is_recorded_once_however_often_it_is_reported(database_url: str) -> None:
    store = Store(database_url)
    config = config_for("https://hooks.example.invalid/a", "https://hooks.example.invalid/b")
    first = emit(store, "published", channel="demo", config=config, key="published:v1:youtube:demo", deliver_now=False)
    again = emit(store, "published", channel="demo", config=config, key="published:v1:youtube:demo", deliver_now=False)
    other = emit(store, "published", channel="demo", config=config, key="published:v1:tiktok:demo", deliver_now=False)
    assert first == again != other
    assert len(deliveries(store, event_id=first)) == 2  # one row per destination


def test_a_delivery_whose_destination_was_removed_from_the_configuration_waits_and_says_so(database_url: str) -> None:
    store = Store(database_url)
    emit(store, "published", channel="demo", config=config_for("https://old.example.invalid/x"), deliver_now=False)
    drain(store, config_for("https://new.example.invalid/y"))
    [row] = deliveries(store)
    assert row.status == "pending" and "no longer configured" in row.last_error
    assert "old.example.invalid" in row.last_error and "/x" not in row.last_error


def test_an_unknown_kind_or_data_that_is_not_json_is_refused_before_anything_is_written(database_url: str) -> None:
    store = Store(database_url)
    config = config_for("https://hooks.example.invalid/a")
    with pytest.raises(ValueError, match="unknown event kind 'posted'"):
        emit(store, "posted", channel="demo", config=config)
    with pytest.raises(ValueError, match="plain JSON"):
        emit(store, "failed", channel="demo", config=config, data={"when": object()})
    assert deliveries(store) == []
