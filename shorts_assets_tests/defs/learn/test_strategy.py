"""The strategy asset on a database seeded by hand: it learns, pools, tests, hints, reports and decides without data."""

import base64
import io
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import joblib
import numpy as np
import pytest
from PIL import Image

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.types import Comment, MetricSnapshot
from shorts_assets.db.store import Store
from shorts_assets.defs.learn.strategy import changes_since, strategy
from shorts_assets.defs.resources import ScriptWriterResource
from shorts_assets.learning.model import RewardModel, rank_scripts
from shorts_assets_tests.conftest import loop_resources

DAY = date(2026, 11, 20)


def materialise(tmp_path: Path, url: str, day: date = DAY, writer: str = "template") -> dg.ExecuteInProcessResult:
    resources = loop_resources(tmp_path / "data", url)
    result = dg.materialize(
        [strategy],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}),
        resources={
            **{k: resources[k] for k in ("database", "channels", "media")},
            "script_writer": ScriptWriterResource(provider=writer),
        },
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata


def script_for(arms: dict[str, str], video_id: str) -> dict[str, str]:
    topic = arms["topic"].replace("_", " ")
    hook = f"Did you know this about {topic}?" if arms["hook"] == "question" else f"Here is a fact about {topic}."
    return {"title": f"{topic.title()} {video_id[-2:]}", "hook": hook, "narration": f"{hook} It is true. Really."}


def seed_videos(store: Store, days: int = 5, per_day: int = 6) -> None:
    """Videos whose topic decides their metrics: space does far better than the rest."""
    rng = np.random.default_rng(0)
    for d in range(days):
        batch = DAY - timedelta(days=days - d)
        for position in range(1, per_day + 1):
            video_id = f"demo-{batch:%Y%m%d}-{position:02d}"
            arms = {dim: str(rng.choice(values)) for dim, values in ARM_SPACE.items()}
            store.add_script(
                video_id=video_id,
                channel="demo",
                batch_date=batch,
                position=position,
                strategy_version="demo:prior",
                arms=arms,
                script=script_for(arms, video_id),
                writer="template",
            )
            quality = 1.0 if arms["topic"] == "space" else -0.5
            fetched = datetime.combine(DAY, datetime.min.time(), tzinfo=timezone.utc)
            for platform in ("youtube", "instagram"):
                views = int(2000 * np.exp(quality + rng.normal(0, 0.2)))
                snapshot = MetricSnapshot(
                    platform=platform,
                    remote_id=f"{platform}-{video_id}",
                    fetched_at=fetched,
                    window="lifetime",
                    age_hours=24.0 * (days - d),
                    views=views,
                    likes=int(views * 0.04 * np.exp(quality)),
                    comments=int(views * 0.003),
                    shares=int(views * 0.004),
                    avg_view_pct=float(100 / (1 + np.exp(-(0.5 + quality)))),
                    watch_time_s=views * 10.0,
                )
                store.append_snapshots([(video_id, snapshot)])
            store.add_comments(
                [
                    (
                        video_id,
                        Comment(
                            platform="youtube",
                            remote_id=f"youtube-{video_id}",
                            comment_id=f"c-{video_id}",
                            author="maya",
                            text="do one about volcanoes",
                            published_at=fetched,
                            like_count=1,
                        ),
                    )
                ]
            )


def test_without_data_it_still_decides_and_says_what_it_lacked(tmp_path, database_url):
    metadata = materialise(tmp_path, database_url)
    assert "no scored metrics" in metadata["lacking"].value
    allocation = metadata["raw_allocation_json"].value
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
    allocation = metadata["allocation"]
    assert [c.name for c in allocation.schema.columns][:3] == ["dimension", "arm", "share"]
    assert any(r.data["arm"] == "space ★" for r in allocation.records) and "space" in metadata["report"].value
    assert metadata["raw_model_json"].value["fitted"] is True
    importances = metadata["feature_importances"].value
    assert set(ARM_SPACE) <= set(importances) and "hook_words" in importances


def test_a_topic_viewers_keep_asking_for_joins_the_pool_when_the_writer_can_write_it(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store)
    with_template = materialise(tmp_path, database_url)
    assert with_template["adopted_topics"].value == []
    assert "volcanoes" not in store.latest_strategy("demo", on=DAY).allocation["topic"]

    materialise(tmp_path, database_url, writer="openai")
    saved = store.latest_strategy("demo", on=DAY)
    assert saved.summary["adopted_topics"] == ["volcanoes"]
    assert saved.allocation["topic"]["volcanoes"] > 0  # a new arm, explored from its prior
    assert saved.summary["candidate_topics"] == {}  # asked for and now in the pool
    assert saved.allocation["topic"]["space"] == max(saved.allocation["topic"].values())  # nothing was reset

    nxt = DAY + timedelta(days=1)
    materialise(tmp_path, database_url, day=nxt, writer="openai")
    assert store.latest_strategy("demo", on=nxt).summary["adopted_topics"] == ["volcanoes"]  # it stays


def test_the_fitted_model_is_saved_beside_the_report_and_the_strategy_records_where(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store)
    metadata = materialise(tmp_path, database_url)
    report_dir = tmp_path / "data" / "reports" / "strategy" / "demo"
    path = Path(store.latest_strategy("demo", on=DAY).summary["model_path"])
    assert path == report_dir / "2026-11-20.model.joblib"
    assert sorted(p.name for p in report_dir.iterdir()) == [
        "2026-11-20.md",
        "2026-11-20.model.joblib",
        "2026-11-20.png",
    ]
    assert metadata["model_file"].value == str(path)

    model = joblib.load(path)
    assert isinstance(model, RewardModel)
    arms = {d: values[0] for d, values in ARM_SPACE.items()}
    space, ocean = ({**arms, "topic": t} for t in ("space", "ocean"))
    ranked = rank_scripts(
        model, [{**script_for(ocean, "demo-x-01"), "arms": ocean}, {**script_for(space, "demo-x-02"), "arms": space}]
    )
    assert ranked[0].index == 1 and ranked[0].predicted_reward > ranked[1].predicted_reward


def test_without_enough_data_no_model_file_is_written_or_recorded(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store, days=1, per_day=3)
    metadata = materialise(tmp_path, database_url)
    assert metadata["raw_model_json"].value["fitted"] is False
    assert "model_path" not in store.latest_strategy("demo", on=DAY).summary
    assert not list((tmp_path / "data" / "reports").rglob("*.joblib"))


def test_a_new_channel_starts_from_what_other_channels_learned(tmp_path, database_url):
    store = Store(database_url)
    effects = {d: {v: [0.0, 0.02] for v in values} for d, values in ARM_SPACE.items()}
    effects["topic"]["ocean"] = [0.3, 0.02]
    store.save_strategy(
        channel="other",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=3,
        allocation={},
        state={},
        summary={"observations": 90, "effects_centred": effects},
    )
    metadata = materialise(tmp_path, database_url)
    assert metadata["pooled_from_channels"].value == 1
    assert metadata["raw_allocation_json"].value["topic"]["ocean"] > 0.7


def test_the_writer_is_told_the_best_and_worst_videos_and_what_viewers_ask_for(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store)
    metadata = materialise(tmp_path, database_url)
    hints = store.latest_strategy("demo", on=DAY).summary["hints"]
    assert set(hints) == {
        "top_performers",
        "bottom_performers",
        "requested_topics",
        "winning_arms",
        "rejected_by_reviewer",
    }
    assert hints["rejected_by_reviewer"] == []  # no video of the channel was rejected
    assert len(hints["top_performers"]) == len(hints["bottom_performers"]) == 3
    assert [h["arms"]["topic"] for h in hints["top_performers"][:2]] == ["space", "space"]
    assert all(h["arms"]["topic"] != "space" for h in hints["bottom_performers"])
    best = hints["top_performers"][0]
    assert set(best) == {"title", "hook", "arms", "reward"} and best["title"].startswith("Space")
    assert best["reward"] >= hints["top_performers"][-1]["reward"] > hints["bottom_performers"][0]["reward"]
    assert hints["requested_topics"] == ["volcanoes"]
    assert hints["winning_arms"]["topic"] == "space"
    assert metadata["raw_writer_hints_json"].value == hints


def test_close_contenders_are_put_to_an_even_test(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store, days=8)
    metadata = materialise(tmp_path, database_url)
    running = store.running_experiments("demo")
    assert running and all(e.started_on == DAY for e in running)
    assert len({e.dimension for e in running}) == len(running)
    saved = store.latest_strategy("demo", on=DAY)
    for e in running:
        shares = saved.allocation[e.dimension]
        assert shares[e.arm_a] == shares[e.arm_b] == max(shares.values())
    assert {e["dimension"] for e in saved.summary["experiments"]} == {e.dimension for e in running}
    table = metadata["experiments"]
    assert [c.name for c in table.schema.columns][1:4] == ["dimension", "A", "B"]
    assert {(r.data["dimension"], r.data["A"], r.data["B"]) for r in table.records} == {
        (e.dimension, e.arm_a, e.arm_b) for e in running
    }
    assert "**Experiments**" in metadata["report"].value
    # the same partition again opens nothing new
    materialise(tmp_path, database_url)
    assert [e.id for e in store.running_experiments("demo")] == [e.id for e in running]


def test_a_running_experiment_is_decided_by_the_posterior(tmp_path, database_url):
    store = Store(database_url)
    seed_videos(store, days=10)
    opened = store.create_experiment(
        channel="demo", dimension="topic", arm_a="ocean", arm_b="space", started_on=DAY - timedelta(days=11)
    )
    materialise(tmp_path, database_url)
    (decided,) = [e for e in store.decided_experiments("demo") if e.id == opened.id]
    assert decided.status == "decided" and decided.winner == "space" and decided.decided_on == DAY
    assert decided.p_superiority <= 0.05 and min(decided.videos_a, decided.videos_b) >= 6
    summary = store.latest_strategy("demo", on=DAY).summary
    assert summary["promotions"]["topic"]["winner"] == "space"


def test_a_decided_winner_is_promoted_and_the_loser_held_at_the_floor(tmp_path, database_url):
    store = Store(database_url)
    e = store.create_experiment(
        channel="demo", dimension="voice", arm_a="en-us", arm_b="en-gb", started_on=DAY - timedelta(days=12)
    )
    store.record_experiment_decision(
        e.id,
        status="decided",
        decided_on=DAY - timedelta(days=2),
        winner="en-gb",
        p_superiority=0.03,
        videos_a=10,
        videos_b=11,
        reason="P(en-us > en-gb) = 0.03",
    )
    metadata = materialise(tmp_path, database_url)
    saved = store.latest_strategy("demo", on=DAY)
    assert saved.allocation["voice"]["en-gb"] >= 0.5
    assert saved.allocation["voice"]["en-us"] == pytest.approx(0.1 / 2, abs=1e-3)
    assert saved.summary["promotions"]["voice"]["loser"] == "en-us"
    assert saved.summary["hints"]["winning_arms"] == {"voice": "en-gb"}
    assert "en-gb over en-us" in metadata["report"].value


def test_bad_input_never_fails_the_partition(tmp_path, database_url):
    store = Store(database_url)
    store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=3,
        allocation={},
        state={"observations": {"x|youtube": "garbage", "y|youtube": {"arms": "bad", "reward": "nan", "weight": 1}}},
        summary={},
    )
    fetched = datetime.combine(DAY, datetime.min.time(), tzinfo=timezone.utc)
    scripts = [{"title": None, "hook": 42}, {}, {"narration": ["not", "text"]}]
    for n, script in enumerate(scripts, start=1):
        video_id = f"demo-{DAY - timedelta(days=1):%Y%m%d}-{n:02d}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=DAY - timedelta(days=1),
            position=n,
            strategy_version="demo:prior",
            arms={"topic": "space", "hook": "story"},
            script=script,
            writer="template",
        )
        views, likes = [(-5, 1), (0, 0), (900, -3)][n - 1]
        store.append_snapshots(
            [
                (
                    video_id,
                    MetricSnapshot(
                        platform="tiktok",
                        remote_id=f"t-{video_id}",
                        fetched_at=fetched,
                        window="lifetime",
                        age_hours=30.0,
                        views=views,
                        likes=likes,
                        comments=0,
                        shares=0,
                        avg_view_pct=-1.0,
                        watch_time_s=0.0,
                    ),
                )
            ]
        )
    metadata = materialise(tmp_path, database_url)
    assert metadata["skipped_snapshots"].value == {
        "negative views": 1,
        "no views yet": 1,
        "retention missing; engagement counts missing or negative": 1,
    }
    summary = store.latest_strategy("demo", on=DAY).summary
    assert summary["hints"]["top_performers"] == [] and summary["hints"]["requested_topics"] == []


PLOT = re.compile(r"!\[[^\]]*\((?P<w>\d+)×(?P<h>\d+)\)\]\(data:image/png;base64,(?P<data>[^)]+)\)")


def test_the_page_shows_the_plot_inline_and_the_allocation_and_experiments_as_tables(tmp_path, database_url):
    metadata = materialise(tmp_path, database_url)
    found = PLOT.fullmatch(metadata["plot"].value)
    assert found, metadata["plot"].value[:200]
    png = base64.b64decode(found["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = Image.open(io.BytesIO(png))
    assert decoded.format == "PNG" and decoded.size == (int(found["w"]), int(found["h"]))
    full = Image.open(metadata["report_plot"].value)
    assert decoded.width == min(640, full.width) < full.width * 2
    allocation = metadata["allocation"]
    assert len(allocation.records) == sum(len(values) for values in ARM_SPACE.values())
    assert {r.data["dimension"] for r in allocation.records} == set(ARM_SPACE)
    experiments = metadata["experiments"]
    assert experiments.records == [] and "reason" in [c.name for c in experiments.schema.columns]
    assert metadata["changes_since_yesterday"].value == "first strategy of the channel (from a uniform prior)"


def test_the_change_since_yesterday_names_the_share_that_moved_most(tmp_path, database_url):
    store = Store(database_url)
    uniform = {d: {v: 1 / len(values) for v in values} for d, values in ARM_SPACE.items()}
    store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=3,
        allocation=uniform,
        state={},
        summary={},
    )
    seed_videos(store)
    metadata = materialise(tmp_path, database_url)
    now = store.latest_strategy("demo", on=DAY).allocation["topic"]["space"]
    was = uniform["topic"]["space"]
    line = metadata["changes_since_yesterday"].value
    assert line.startswith(f"topic: space {100 * was:.0f}% → {100 * now:.0f}% ({100 * (now - was):+.0f})"), line


def test_the_change_line_tells_of_experiments_opened_and_decided_that_day():
    previous = {"length": {"short": 0.5, "long": 0.5}}
    allocation = {"length": {"short": 0.5, "long": 0.5}}
    experiments = [
        {"dimension": "length", "arm_a": "short", "arm_b": "long", "started_on": "2026-11-01"}
        | {"status": "decided", "decided_on": DAY.isoformat(), "winner": "long"},
        {"dimension": "hook", "arm_a": "question", "arm_b": "story", "started_on": DAY.isoformat()}
        | {"status": "running", "decided_on": None, "winner": None},
    ]
    line = changes_since(previous, allocation, experiments, DAY)
    assert line == (
        "no share moved by a percentage point, experiment on length decided: long, "
        "experiment on hook opened: question vs story"
    )


def test_the_change_line_keeps_the_biggest_moves_one_per_dimension():
    previous = {"topic": {"a": 0.5, "b": 0.5}, "hook": {"x": 0.5, "y": 0.5}, "voice": {"m": 0.5, "n": 0.5}}
    allocation = {"topic": {"a": 0.6, "b": 0.4}, "hook": {"x": 0.2, "y": 0.8}, "voice": {"m": 0.503, "n": 0.497}}
    line = changes_since(previous, allocation, [], DAY)
    assert line == "hook: y 50% → 80% (+30), topic: a 50% → 60% (+10)"
    assert changes_since(previous, {**allocation, "length": {"new": 1.0}}, [], DAY, most=1) == (
        "length: new 0% → 100% (+100)"
    )
