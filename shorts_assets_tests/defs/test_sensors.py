"""metrics_after_publish_sensor: every published cohort gets its metrics re-read up the maturity ladder."""

import json
import time

import dagster as dg
import pytest

from shorts_assets.defs.sensors import MATURITY_LADDER_HOURS, due_rung, metrics_after_publish_sensor

HOUR = 3600.0


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def publish(instance, partition: str, platform: str, published_at: float, published: int = 2) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=["publications", platform],
            partition=partition,
            metadata={"published": published, "published_at_latest": published_at},
        )
    )


def tick(instance, cursor=None) -> dg.SensorResult:
    return metrics_after_publish_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def requested(result: dg.SensorResult) -> dict[str, str]:
    return {str(r.partition_key): r.tags["shorts/maturity"] for r in result.run_requests}


def test_nothing_published_requests_nothing(instance):
    result = tick(instance)
    assert result.run_requests == []


def test_a_fresh_cohort_waits_for_its_first_rung(instance):
    publish(instance, "demo|2026-11-28", "youtube", time.time() - 0.5 * HOUR)
    assert tick(instance).run_requests == []


def test_cohorts_published_close_together_are_all_requested(instance):
    now = time.time()
    publish(instance, "demo|2026-11-27", "youtube", now - 2 * HOUR)
    publish(instance, "cooking|2026-11-27", "tiktok", now - 2 * HOUR)
    publish(instance, "demo|2026-11-26", "instagram", now - 7 * HOUR)
    result = tick(instance)
    assert requested(result) == {"demo|2026-11-27": "+1h", "cooking|2026-11-27": "+1h", "demo|2026-11-26": "+6h"}
    assert all(isinstance(r.partition_key, str) and "|" in r.partition_key for r in result.run_requests)


def test_each_rung_is_requested_once_and_rungs_due_together_collapse(instance):
    publish(instance, "demo|2026-11-20", "youtube", time.time() - 30 * HOUR)
    first = tick(instance)
    assert requested(first) == {"demo|2026-11-20": "+24h"}
    assert tick(instance, first.cursor).run_requests == []


def test_platforms_of_one_cohort_make_one_request(instance):
    now = time.time()
    for platform in ("youtube", "tiktok", "instagram"):
        publish(instance, "demo|2026-11-27", platform, now - 2 * HOUR)
    assert len(tick(instance).run_requests) == 1


def test_a_new_post_in_a_cohort_restarts_its_ladder(instance):
    publish(instance, "demo|2026-11-27", "youtube", time.time() - 8 * HOUR)
    first = tick(instance)
    publish(instance, "demo|2026-11-27", "tiktok", time.time() - 1.5 * HOUR)
    second = tick(instance, first.cursor)
    assert requested(second) == {"demo|2026-11-27": "+1h"}


def test_a_batch_with_nothing_published_is_not_tracked(instance):
    publish(instance, "demo|2026-11-27", "youtube", time.time() - 5 * HOUR, published=0)
    result = tick(instance)
    assert result.run_requests == [] and json.loads(result.cursor)["pending"] == {}


def test_finished_ladders_leave_the_cursor(instance):
    publish(instance, "demo|2026-10-01", "youtube", time.time() - 30 * 24 * HOUR)
    result = tick(instance)
    assert requested(result) == {"demo|2026-10-01": f"+{MATURITY_LADDER_HOURS[-1]}h"}
    assert json.loads(result.cursor)["pending"] == {}
    assert tick(instance, result.cursor).run_requests == []


def test_run_keys_are_unique_per_rung():
    assert due_rung(0, 0.5 * HOUR) == 0
    assert due_rung(0, 6 * HOUR) == 2
    assert due_rung(0, 1000 * HOUR) == len(MATURITY_LADDER_HOURS)
