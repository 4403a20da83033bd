"""What the assets report: a per-video stage's batch as a table with a row per video and each failure's
full reason, and a failure of the whole batch as a plain message (no chained stack trace of ours)."""

from datetime import date

import dagster as dg

from shorts_assets.core.errors import BatchFailed, ConfigError
from shorts_assets.db.store import Store
from shorts_assets.defs.create.renders import renders
from shorts_assets.defs.metadata import batch_failure, column, stage_report
from shorts_assets.defs.resources import RendererResource
from shorts_assets.loop.batch import StageOutcome
from shorts_assets_tests.conftest import loop_resources
from shorts_assets_tests.helpers import script_json

DAY = date(2026, 11, 20)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()})
LONG_REASON = "ProviderError: clip 2 of demo-20261120-02: the provider said: " + "detail " * 60


def seeded(tmp_path, positions: int = 3) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    for position in range(1, positions + 1):
        video_id = f"demo-{DAY:%Y%m%d}-{position:02d}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            position=position,
            strategy_version="demo:prior",
            arms={"topic": "space", "hook": "question"},
            script=script_json(video_id, title=f"Title {position}"),
            writer="test",
        )
    return store


def step_failure(result: dg.ExecuteInProcessResult):
    (event,) = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data


def test_the_batch_table_has_a_row_per_video_and_the_full_reason_of_each_failure(tmp_path):
    store = seeded(tmp_path)
    store.complete_stage("demo-20261120-01", "clips", {"files": [], "n": 4})
    store.fail_stage("demo-20261120-02", "clips", LONG_REASON)
    outcome = StageOutcome(done=["demo-20261120-01"], failed={"demo-20261120-02": LONG_REASON})
    outcome.blocked.append("demo-20261120-03")
    rows = store.batch("demo", DAY)

    report = stage_report(
        rows, outcome, "clips", [column("clips", int)], lambda r: {"clips": r.outputs.get("clips", {}).get("n")}
    )

    table = report["batch"]
    assert [(c.name, c.type) for c in table.schema.columns] == [
        ("video", "string"),
        ("title", "string"),
        ("arms", "string"),
        ("clips", "int"),
        ("status", "string"),
        ("error", "string"),
    ]
    records = [r.data for r in table.records]
    assert records[0] == {
        "video": "demo-20261120-01",
        "title": "Title 1",
        "arms": "topic=space · hook=question",
        "clips": 4,
        "status": "done",
        "error": "",
    }
    assert records[1]["status"] == "failed" and records[1]["error"] == LONG_REASON and records[1]["clips"] is None
    assert records[2]["status"] == "waiting" and records[2]["error"] == ""
    assert report["videos"] == 3 and report["failed"] == 1


def test_a_video_waiting_on_a_failed_upstream_stage_says_which_and_why(tmp_path):
    store = seeded(tmp_path, positions=1)
    store.fail_stage("demo-20261120-01", "clips", LONG_REASON)
    outcome = StageOutcome(blocked=["demo-20261120-01"])

    report = stage_report(store.batch("demo", DAY), outcome, "render", [], lambda r: {})

    (record,) = report["batch"].records
    assert record.data["status"] == "waiting" and record.data["error"] == f"clips failed: {LONG_REASON}"


def test_a_whole_batch_failure_fails_the_run_with_its_plain_reason_and_counts():
    @dg.asset
    def stage() -> None:
        with batch_failure():
            raise BatchFailed("every video of the batch failed at clips; first: demo-20261120-01: boom", {"failed": 3})

    failure = step_failure(dg.materialize([stage], raise_on_error=False))

    assert failure.user_failure_data.description == (
        "every video of the batch failed at clips; first: demo-20261120-01: boom"
    )
    assert failure.user_failure_data.metadata["failed"].value == 3
    assert failure.error.cause is None and failure.error.context is None


def test_a_configuration_error_for_the_whole_batch_becomes_a_plain_failure():
    @dg.asset
    def stage() -> None:
        with batch_failure():
            raise ConfigError("VIDEO_PROVIDER must be one of procedural, runway; got 'nope'")

    failure = step_failure(dg.materialize([stage], raise_on_error=False))

    assert failure.user_failure_data.description == (
        "ConfigError: VIDEO_PROVIDER must be one of procedural, runway; got 'nope'"
    )
    assert failure.error.cause is None and failure.error.context is None


def test_a_renderer_that_cannot_be_built_fails_renders_naming_what_it_lacks(tmp_path, monkeypatch):
    monkeypatch.delenv("CREATOMATE_API_KEY", raising=False)
    resources = loop_resources(tmp_path / "data", f"sqlite:///{tmp_path / 'shorts.db'}")
    resources["renderer"] = RendererResource(provider="cloud", media_base_url="https://media.example.test")

    result = dg.materialize(
        [renders],
        partition_key=PARTITION,
        resources={k: resources[k] for k in ("database", "media", "renderer", "spending", "channels")},
        raise_on_error=False,
    )

    failure = step_failure(result)
    assert "CREATOMATE_API_KEY" in failure.user_failure_data.description
    assert failure.error.cause is None and failure.error.context is None
