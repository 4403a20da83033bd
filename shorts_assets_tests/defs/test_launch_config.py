"""What a person chooses when launching a run: arms forced through the `scripts` config (shown in the
Launchpad with defaults and descriptions) and the partition named by the run's tags. Every bad choice
(an unknown arm or value, a partition that does not exist, a malformed tag set) stops the run with an
error naming it before any script is written."""

from datetime import date

import dagster as dg
import pytest

from shorts_assets.core.arms import DIMENSIONS
from shorts_assets.db.store import Store
from shorts_assets.definitions import defs
from shorts_assets.defs.create.scripts import ScriptsConfig, scripts
from shorts_assets.defs.jobs import LEARNER_CHOOSES, partition_from_tags
from shorts_assets_tests.conftest import loop_resources

DAY = date(2026, 11, 27)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()})
RESOURCES = ("database", "channels", "script_writer", "clip_generator", "voice", "renderer", "spending")


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def materialise(tmp_path, instance, run_config=None, partition_key=PARTITION, tags=None):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url, videos_per_day=2)
    result = dg.materialize(
        [scripts],
        partition_key=partition_key,
        resources={k: resources[k] for k in RESOURCES},
        instance=instance,
        run_config=run_config,
        tags=tags,
        raise_on_error=False,
    )
    return result, Store(url)


def failure_of(result: dg.ExecuteInProcessResult) -> str:
    (failure,) = result.get_step_failure_events()
    data = failure.step_failure_data
    return data.user_failure_data.description if data.user_failure_data else data.error.message


def forcing(**arms: str) -> dict:
    return {"ops": {"scripts": {"config": arms}}}


def test_the_loop_job_offers_every_arm_in_the_launchpad_left_to_the_strategy():
    job = defs().resolve_job_def("shorts_loop_job")
    fields = job.run_config_schema.config_type.fields["ops"].config_type.fields["scripts"].config_type.fields
    arms = fields["config"].config_type.fields
    assert set(arms) == set(DIMENSIONS)
    for dimension in DIMENSIONS:
        assert arms[dimension].default_value == LEARNER_CHOOSES
        assert arms[dimension].description and dimension in arms[dimension].description
    assert "en-gb" in arms["voice"].description
    # Picking a partition in the Launchpad loads the job's run config for it, which shows every arm.
    for name in ("shorts_loop_job", "produce_job"):
        run_config = defs().resolve_job_def(name).get_run_config_for_partition_key("demo|2026-11-27")
        assert run_config["ops"]["scripts"]["config"] == dict.fromkeys(DIMENSIONS, LEARNER_CHOOSES)


def test_forced_arms_are_written_and_recorded_as_forced(tmp_path, instance):
    result, store = materialise(tmp_path, instance, forcing(topic="ocean", voice="en-gb", posting_hour="21"))
    assert result.success
    rows = store.batch("demo", DAY)
    assert len(rows) == 2
    for row in rows:
        assert (row.arms["topic"], row.arms["voice"], row.arms["posting_hour"]) == ("ocean", "en-gb", "21")
        assert row.forced_arms == ("posting_hour", "topic", "voice")
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["forced_arms"].value == "topic=ocean, voice=en-gb, posting_hour=21"


def test_without_config_the_strategy_draws_every_arm(tmp_path, instance):
    result, store = materialise(tmp_path, instance)
    assert result.success
    assert [row.forced_arms for row in store.batch("demo", DAY)] == [(), ()]


@pytest.mark.parametrize(
    ("config", "named"),
    [({"mood": "happy"}, "mood"), ({"hook": "cliffhanger"}, "cliffhanger"), ({"posting_hour": 13}, "posting_hour")],
)
def test_an_unknown_arm_or_value_is_refused_by_the_config_schema_before_the_run(tmp_path, instance, config, named):
    with pytest.raises(dg.DagsterInvalidConfigError, match=named):
        materialise(tmp_path, instance, forcing(**config))
    assert instance.get_runs() == []
    assert (
        not (tmp_path / "shorts.db").exists() or Store(f"sqlite:///{tmp_path / 'shorts.db'}").batch("demo", DAY) == []
    )


def test_a_topic_the_channel_lacks_fails_the_run_by_name_and_writes_nothing(tmp_path, instance):
    result, store = materialise(tmp_path, instance, forcing(topic="cooking"))
    assert not result.success
    message = failure_of(result)
    assert "ops.scripts.config" in message and "'cooking'" in message and "ocean" in message
    assert store.batch("demo", DAY) == []


@pytest.mark.parametrize(
    ("tags", "named"),
    [
        (
            {"dagster/partition/channel": "demo", "dagster/partition/date": "2026-11-27"},
            '"dagster/partition": "demo|2026-11-27"',
        ),
        ({"dagster/partition": "demo|2099-01-01"}, "'2099-01-01'"),
        (
            {"dagster/partition": "demo|2026-11-27", "dagster/partition/channel": "other"},
            "dagster/partition/channel='other'",
        ),
    ],
)
def test_a_malformed_partition_tag_set_fails_the_run_by_name_and_writes_nothing(tmp_path, instance, tags, named):
    result, store = materialise(tmp_path, instance, partition_key=None, tags=tags)
    assert not result.success
    assert named in failure_of(result)
    assert store.batch("demo", DAY) == []


def test_the_config_reads_back_only_the_dimensions_a_person_chose():
    assert ScriptsConfig().forced() == {}
    assert ScriptsConfig(voice="en-gb", topic="space").forced() == {"topic": "space", "voice": "en-gb"}


def test_the_run_tags_of_a_launched_partition_name_their_partition():
    assert partition_from_tags(
        {
            "dagster/partition": "demo|2026-11-27",
            "dagster/partition/channel": "demo",
            "dagster/partition/date": "2026-11-27",
        }
    ) == ("demo", DAY)
