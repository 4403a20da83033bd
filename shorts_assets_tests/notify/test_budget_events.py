"""A channel's daily budget that refuses work is reported once a day as budget_exhausted, however many
calls it refuses, and the refusal itself is unchanged. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.defs.resources import SpendingResource
from shorts_assets.notify import deliveries, load_config, wait_for_background
from shorts_assets.notify.emitter import budget_listener
from shorts_assets.providers.net.costs import Budget, BudgetExceeded

CONFIG = load_config({"SHORTS_WEBHOOK_URLS": "https://hooks.example.invalid/h", "SHORTS_WEBHOOK_SECRET": "s" * 20})


def test_refused_calls_report_budget_exhausted_once_a_day(database_url: str) -> None:
    store = Store(database_url)
    budget = Budget(DatabaseStateStore(store), "demo", 0.05, on_exhausted=budget_listener(store, CONFIG))
    budget.charge("a script", 0.04)
    for _ in range(3):
        with pytest.raises(BudgetExceeded, match="daily limit"):
            budget.charge("a clip", 0.50)
    [row] = deliveries(store)
    assert row.payload["kind"] == "budget_exhausted" and row.payload["channel"] == "demo"
    assert "refused before calling" in row.payload["data"]["message"]
    assert wait_for_background()  # its first attempt (at an unreachable host) is over before the database goes


def test_a_listener_that_fails_never_changes_the_refusal(database_url: str) -> None:
    def broken(channel: str, message: str) -> None:
        raise RuntimeError("the outbox is unreachable")

    budget = Budget(DatabaseStateStore(Store(database_url)), "demo", 0.0, on_exhausted=broken)
    with pytest.raises(BudgetExceeded):
        budget.charge("a clip", 0.50)


def test_the_spending_resource_reports_through_the_configured_webhooks(database_url: str) -> None:
    store = Store(database_url)
    budget = SpendingResource(daily_limits_usd={"demo": 0.0}, webhooks=CONFIG).budget("demo", store)
    with pytest.raises(BudgetExceeded):
        budget.charge("a voice", 0.10)
    assert [d.payload["kind"] for d in deliveries(store)] == ["budget_exhausted"]
    assert wait_for_background()


def test_a_batch_the_budget_cannot_cover_at_all_is_reported_before_it_stops(database_url: str) -> None:
    from shorts_assets.core.errors import BatchFailed
    from shorts_assets.loop.scripting import affordable_videos
    from shorts_assets.providers.estimate import VideoEstimate

    store = Store(database_url)
    budget = Budget(DatabaseStateStore(store), "demo", 0.10, on_exhausted=budget_listener(store, CONFIG))
    with pytest.raises(BatchFailed, match="does not cover one video"):
        affordable_videos(budget, VideoEstimate({"clips": 0.50}), 3, "demo")
    [row] = deliveries(store)
    assert (
        row.payload["kind"] == "budget_exhausted" and "does not cover one more video" in row.payload["data"]["message"]
    )
    assert wait_for_background()
