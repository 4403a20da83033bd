"""The strategy asset on a database seeded by hand: it learns, pools, reports and decides without data."""

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from shorts_assets.arms import ARM_SPACE
from shorts_assets.assets.strategy import strategy
from shorts_assets.db.store import Store
from shorts_assets.providers.interfaces import Comment, MetricSnapshot
from shorts_assets_tests.conftest import loop_resources

DAY = date(2026, 11, 20)


def materialise(tmp_path: Path, url: str, day: date = DAY) -> dg.ExecuteInProcessResult:
    resources = loop_resources(tmp_path / "data", url)
    result = dg.materialize(
        [strategy],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}),
        resources={k: resources[k] for k in ("database", "channels", "media")},
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata


def seed_videos(store: Store, days: int = 5, per_day: int = 6) -> None:
    """Videos whose topic decides their metrics: space does far better than the rest."""
    rng = np.random.default_rng(0)
    for d in range(days):
        batch = DAY - timedelta(days=days - d)
        for position in range(1, per_day + 1):
            video_id = f"demo-{batch:%Y%m%d}-{position:02d}"
            arms = {dim: str(rng.choice(values)) for dim, values in ARM_SPACE.items()}
            store.add_script(
                video_id=video_id, channel="demo", batch_date=batch, position=position,
                strategy_version="demo:prior", arms=arms, script={"title": "t"}, writer="template",
            )
            quality = 1.0 if arms["topic"] == "space" else -0.5
            fetched = datetime.combine(DAY, datetime.min.time(), tzinfo=timezone.utc)
            for platform in ("youtube", "instagram"):
                views = int(2000 * np.exp(quality + rng.normal(0, 0.2)))
                snapshot = MetricSnapshot(
                    platform=platform, remote_id=f"{platform}-{video_id}", fetched_at=fetched, window="lifetime",
                    age_hours=24.0 * (days - d), views=views, likes=int(views * 0.04 * np.exp(quality)),
                    comments=int(views * 0.003), shares=int(views * 0.004),
                    avg_view_pct=float(100 / (1 + np.exp(-(0.5 + quality)))), watch_time_s=views * 10.0,
                )
                store.append_snapshots([(video_id, snapshot)])
            store.add_comments([(video_id, Comment(
                platform="youtube", remote_id=f"youtube-{video_id}", comment_id=f"c-{video_id}",
                author="maya", text="do one about volcanoes", published_at=fetched, like_count=1,
            ))])


def test_without_data_it_still_decides_and_says_what_it_lacked(tmp_path, database_url):
    metadata = materialise(tmp_path, database_url)
    assert "no scored metrics" in metadata["lacking"].value
    allocation = metadata["allocation_json"].value
    for shares in allocation.values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-2)
    assert Path(metadata["report_plot"].value).read_bytes()[:4] == b"\x89PNG"
    assert metadata["version"].value == "demo:2026-11-20:v1"


def test_it_favours_what_the_metrics_reward_and_records_requests(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store)
    metadata = materialise(tmp_path, database_url)
    saved = store.latest_strategy("demo", on=DAY)
    assert saved.allocation["topic"]["space"] == max(saved.allocation["topic"].values())
    assert saved.allocation["topic"]["space"] > 0.5
    assert saved.summary["observations"] == 60
    assert saved.summary["candidate_topics"] == {"volcanoes": 30}
    assert "share" in metadata["allocation"].value and "space" in metadata["report"].value
    assert metadata["model"].value["fitted"] is True
    assert set(metadata["feature_importances"].value) == set(ARM_SPACE)


def test_a_new_channel_starts_from_what_other_channels_learned(tmp_path, database_url):
    store = Store(database_url)
    effects = {d: {v: [0.0, 0.02] for v in values} for d, values in ARM_SPACE.items()}
    effects["topic"]["ocean"] = [0.3, 0.02]
    store.save_strategy(
        channel="other", strategy_date=DAY - timedelta(days=1), videos_per_day=3,
        allocation={}, state={}, summary={"observations": 90, "effects_centred": effects},
    )
    metadata = materialise(tmp_path, database_url)
    assert metadata["pooled_from_channels"].value == 1
    assert metadata["allocation_json"].value["topic"]["ocean"] > 0.7
