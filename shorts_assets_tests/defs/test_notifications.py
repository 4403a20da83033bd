"""The notification sensors on a real Dagster instance: run_failure_sensor records a failed run and
reports it; webhook_delivery_sensor posts what is due. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from shorts_assets.db.store import Store
from shorts_assets.defs.notifications import run_failure_sensor, webhook_delivery_sensor
from shorts_assets.defs.resources import DatabaseResource
from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.notify import deliveries, emit, load_config, wait_for_background
from shorts_assets.notify.runs import run_failures_recorded

SECRET = "a-shared-secret-of-some-length"
PARTITION_TAGS = {
    "dagster/partition": "demo|2026-11-27",
    "dagster/partition/channel": "demo",
    "dagster/partition/date": "2026-11-27",
}


@dg.op
def render_everything() -> None:
    raise RuntimeError("the renderer ran out of disk")


@dg.job
def broken_job() -> None:
    render_everything()


def dagster_home(tmp_path: Path) -> str:
    home = tmp_path / "dagster_home"
    home.mkdir()
    return str(home)


def evaluate(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, database: DatabaseResource, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"database": database}) as context:
        return sensor.evaluate_tick(context)


def test_run_failure_sensor_records_a_failed_run_and_sends_run_failed(database_url: str, tmp_path: Path) -> None:
    with WebhookReceiver(SECRET) as receiver, dg.instance_for_test(temp_dir=dagster_home(tmp_path)) as instance:
        config = load_config({"SHORTS_WEBHOOK_URLS": receiver.url, "SHORTS_WEBHOOK_SECRET": SECRET})
        database = DatabaseResource(url=database_url, webhooks=config)
        started = evaluate(run_failure_sensor, instance, database)  # the first tick sets the cursor
        result = broken_job.execute_in_process(instance=instance, raise_on_error=False, tags=PARTITION_TAGS)
        assert not result.success

        tick = evaluate(run_failure_sensor, instance, database, cursor=started.cursor)
        assert all(reaction.error is None for reaction in tick.dagster_run_reactions)
        [failure] = run_failures_recorded(Store(database_url))
        assert failure.run_id == result.run_id and failure.job_name == "broken_job"
        assert failure.partition == "demo|2026-11-27" and failure.tags == PARTITION_TAGS
        assert "render_everything: RuntimeError: the renderer ran out of disk" in failure.error
        assert failure.failed_at.tzinfo is not None

        assert wait_for_background()
        [event] = receiver.events.values()
        assert event["kind"] == "run_failed" and event["channel"] == "demo"
        assert event["data"]["run_id"] == result.run_id and event["data"]["partition"] == "demo|2026-11-27"

        # The same failure seen again (a re-evaluated tick) is recorded and reported once.
        evaluate(run_failure_sensor, instance, database, cursor=started.cursor)
        assert len(run_failures_recorded(Store(database_url))) == 1 and len(deliveries(Store(database_url))) == 1


def test_webhook_delivery_sensor_posts_what_is_due_and_says_so(database_url: str, tmp_path: Path) -> None:
    with WebhookReceiver(SECRET) as receiver, dg.instance_for_test(temp_dir=dagster_home(tmp_path)) as instance:
        config = load_config({"SHORTS_WEBHOOK_URLS": receiver.url, "SHORTS_WEBHOOK_SECRET": SECRET})
        store = Store(database_url)
        ids = [emit(store, "published", channel="demo", config=config, deliver_now=False) for _ in range(3)]
        tick = evaluate(webhook_delivery_sensor, instance, DatabaseResource(url=database_url, webhooks=config))
        assert tick.skip_message == "delivered 3, 0 to retry later, 0 given up"
        assert set(receiver.events) == set(ids)
        assert tick.run_requests == []


def test_the_definitions_shown_to_the_ui_hold_neither_a_webhook_url_nor_the_secret(tmp_path: Path, monkeypatch) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value

    from shorts_assets import settings as settings_module
    from shorts_assets.definitions import defs

    channels = tmp_path / "channels.json"
    channels.write_text('{"channels": [{"name": "demo", "webhook_urls": ["https://chan.example.com/tok-of-channel"]}]}')
    monkeypatch.setenv("SHORTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHORTS_CHANNELS_FILE", str(channels))
    monkeypatch.setenv("SHORTS_WEBHOOK_URLS", "slack+https://hooks.slack.com/services/T0/B0/tok-of-slack")
    monkeypatch.setenv("SHORTS_WEBHOOK_SECRET", SECRET)
    settings_module.current_settings.cache_clear()
    settings_module.current_location.cache_clear()
    try:
        location = defs()
        assert location.resources["database"].webhooks.enabled
        snapshot = serialize_value(RepositorySnap.from_def(location.get_repository_def()))
        for secret in ("tok-of-slack", "tok-of-channel", SECRET):
            assert secret not in snapshot and secret not in repr(location.resources)
        assert {"webhook_delivery_sensor", "run_failure_sensor"} <= {s.name for s in location.sensors}
    finally:
        settings_module.current_settings.cache_clear()
        settings_module.current_location.cache_clear()


def test_webhook_delivery_sensor_without_webhooks_leaves_recorded_rows_waiting(
    database_url: str, tmp_path: Path
) -> None:
    with dg.instance_for_test(temp_dir=dagster_home(tmp_path)) as instance:
        store = Store(database_url)
        earlier = load_config(
            {"SHORTS_WEBHOOK_URLS": "https://gone.example.invalid/h", "SHORTS_WEBHOOK_SECRET": SECRET}
        )
        emit(store, "failed", channel="demo", config=earlier, deliver_now=False)
        tick = evaluate(webhook_delivery_sensor, instance, DatabaseResource(url=database_url))
        assert tick.skip_message.startswith("no webhook is configured")
        [row] = deliveries(store)
        assert row.status == "pending" and row.attempts == 0
