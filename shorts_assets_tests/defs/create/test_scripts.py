"""The scripts asset writes several candidate scripts per video and keeps the one the saved reward model
predicts best; without a model it can load, it keeps the first and the batch still succeeds."""

import logging
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import joblib
import numpy as np
import pytest

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.db.store import Store
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.resources import ScriptWriterResource
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.server import FakeServer
from shorts_assets.learning.model import fit_model, rank_scripts
from shorts_assets.learning.script_text import features
from shorts_assets.loop.scripting import candidate_seeds
from shorts_assets.providers.writers.template import TemplateWriter
from shorts_assets_tests.conftest import loop_resources

DAY = date(2026, 11, 21)
VIDEOS = 4
CANDIDATES = 3


def longer_narration_earns_more(seed: int = 0):
    """A model fitted on videos whose reward grows with the narration's length; the arms do not matter."""
    rng = np.random.default_rng(seed)
    arms_list, texts, rewards = [], [], []
    for _ in range(240):
        words = int(rng.integers(20, 140))
        arms_list.append({d: str(rng.choice(values)) for d, values in ARM_SPACE.items()})
        texts.append({"narration": " ".join(["word"] * words) + "."})
        rewards.append(0.01 * words + float(rng.normal(0, 0.02)))
    return fit_model(arms_list, texts, np.array(rewards), np.ones(len(rewards)), ARM_SPACE, seed=seed)


def point_the_strategy_at(store: Store, model_path: Path) -> str:
    return store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=VIDEOS,
        allocation={d: {v: 1 / len(values) for v in values} for d, values in ARM_SPACE.items()},
        state={},
        summary={"model_path": str(model_path)},
    )


def materialise(
    tmp_path: Path,
    url: str,
    instance: dg.DagsterInstance,
    candidates: int = CANDIDATES,
    writer: ScriptWriterResource | None = None,
    day: date = DAY,
):
    resources = loop_resources(tmp_path / "data", url, videos_per_day=VIDEOS)
    resources["script_writer"] = writer or ScriptWriterResource(candidates=candidates)
    result = dg.materialize(
        [scripts],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}),
        resources={
            k: resources[k]
            for k in ("database", "channels", "script_writer", "clip_generator", "voice", "renderer", "spending")
        },
        instance=instance,
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return result, event.materialization.metadata


def candidates_of(row, count: int = CANDIDATES) -> list:
    """What the template writer produces for this video's candidate seeds."""
    return [
        TemplateWriter().write(row.video_id, row.arms, seed)
        for seed in candidate_seeds(row.video_id, row.strategy_version, count)
    ]


def warnings_of(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]


def test_the_first_candidate_is_the_one_a_single_script_would_be():
    assert (
        candidate_seeds("demo-20261121-01", "demo:prior", 1) == candidate_seeds("demo-20261121-01", "demo:prior", 3)[:1]
    )
    assert len(set(candidate_seeds("demo-20261121-01", "demo:prior", 10))) == 10


def test_each_video_keeps_the_candidate_the_model_predicts_best(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = Store(url)
    model = longer_narration_earns_more()
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    point_the_strategy_at(store, path)
    with dg.instance_for_test() as instance:
        result, metadata = materialise(tmp_path, url, instance)
        assert warnings_of(instance, result) == []

    rows = store.batch("demo", DAY)
    assert len(rows) == VIDEOS
    kept_later_candidate = False
    for row in rows:
        candidates = candidates_of(row)
        best = rank_scripts(model, candidates)[0]
        assert row.script == best.candidate
        lengths = [features(c)["narration_words"] for c in candidates]
        assert features(row.script)["narration_words"] == max(lengths)
        kept_later_candidate |= best.index > 0
        assert metadata["candidates"].value[row.video_id] == {
            "written": CANDIDATES,
            "kept": best.index + 1,
            "predicted_reward": best.predicted_reward,
        }
    assert kept_later_candidate, "the model changed nothing: every video kept its first candidate"
    assert metadata["ranked_by"].value == str(path)
    assert "| candidates | predicted reward |" in metadata["batch"].value


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_model_that_cannot_be_loaded_keeps_the_first_candidate_with_a_warning(tmp_path, damage):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = Store(url)
    path = tmp_path / "model.joblib"
    if damage == "corrupt":
        path.write_bytes(b"\x00not a model, just bytes" * 40)
    point_the_strategy_at(store, path)
    with dg.instance_for_test() as instance:
        result, metadata = materialise(tmp_path, url, instance)
        (warning,) = warnings_of(instance, result)
    assert str(path) in warning and "first candidate" in warning

    rows = store.batch("demo", DAY)
    assert len(rows) == VIDEOS
    for row in rows:
        assert row.script == candidates_of(row)[0]
        assert metadata["candidates"].value[row.video_id] == {
            "written": CANDIDATES,
            "kept": 1,
            "predicted_reward": None,
        }
    assert metadata["failed"].value == 0 and metadata["script_candidates"].value == CANDIDATES


def test_one_candidate_writes_what_the_video_seed_gives_even_with_a_model(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = Store(url)
    path = tmp_path / "model.joblib"
    joblib.dump(longer_narration_earns_more(), path)
    point_the_strategy_at(store, path)
    with dg.instance_for_test() as instance:
        _, metadata = materialise(tmp_path, url, instance, candidates=1)
    for row in store.batch("demo", DAY):
        assert row.script == candidates_of(row, 1)[0]
        assert metadata["candidates"].value[row.video_id]["written"] == 1


def test_a_topic_the_strategy_adopted_is_written_by_a_language_model_and_skipped_by_the_template(
    tmp_path, database_url, monkeypatch
):
    store = Store(database_url)
    allocation = {d: {v: 1 / len(values) for v in values} for d, values in ARM_SPACE.items()}
    allocation["topic"] = {**dict.fromkeys(ARM_SPACE["topic"], 0.0), "volcanoes": 1.0}
    store.save_strategy(
        channel="demo",
        strategy_date=DAY - timedelta(days=1),
        videos_per_day=VIDEOS,
        allocation=allocation,
        state={},
        summary={"adopted_topics": ["volcanoes"]},
    )
    app = FakeOpenAI()
    with FakeServer(app) as server, dg.instance_for_test() as instance:
        monkeypatch.setenv("OPENAI_API_KEY", app.api_key)
        writer = ScriptWriterResource(provider="openai", base_urls={"OPENAI_BASE_URL": f"{server.url}/v1"})
        materialise(tmp_path, database_url, instance, writer=writer)
    assert {row.arms["topic"] for row in store.batch("demo", DAY)} == {"volcanoes"}

    other_day = DAY + timedelta(days=1)
    store.save_strategy(
        channel="demo",
        strategy_date=DAY,
        videos_per_day=VIDEOS,
        allocation=allocation,
        state={},
        summary={"adopted_topics": ["volcanoes"]},
    )
    with dg.instance_for_test() as instance:
        materialise(tmp_path, database_url, instance, candidates=1, day=other_day)
    topics = {row.arms["topic"] for row in store.batch("demo", other_day)}
    assert topics and topics <= set(ARM_SPACE["topic"])  # the template writer keeps to its topic bank
