"""The README's commands, run for real in a subprocess with a temporary DAGSTER_HOME: the main command
makes a short and records every asset of the loop under its partition, which the metrics sensor then
picks up; bad input is refused by name before anything is written."""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from shorts_assets.db.store import Store
from shorts_assets.defs.sensors import metrics_after_publish_sensor
from shorts_assets.providers.media import probe
from shorts_assets_tests.conftest import require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOOP_ASSETS = [
    dg.AssetKey(path)
    for path in (
        ["scripts"],
        ["clips"],
        ["voiceovers"],
        ["renders"],
        ["publications", "youtube"],
        ["publications", "tiktok"],
        ["publications", "instagram"],
        ["metrics"],
        ["comments"],
        ["strategy"],
    )
]


def readme_command(marker: str) -> str:
    """The shell command in the README's code block that follows `<!-- marker -->`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```(?:bash|sh)?\n(.+?)```", text, re.DOTALL)
    assert match, f"README.md has no command marked {marker}"
    command = match.group(1).strip().replace("\\\n", " ")
    # The README runs the project's own virtualenv; here the interpreter running the tests stands in.
    return command.replace(".venv/bin/", f"{BIN}/")


def dagster_home(tmp_path: Path, instance_yaml: Path = ROOT / "dagster.yaml") -> str:
    """A fresh DAGSTER_HOME holding a copy of the repository's instance configuration."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(instance_yaml, home / "dagster.yaml")
    return str(home)


def partition_of(command: str) -> str:
    """The partition key a README command launches."""
    match = re.search(r'--partition "([^"]+)"', command)
    assert match, f"the command names no partition: {command}"
    return match.group(1)


def scripts_in(data: Path, partition: str) -> list:
    """The script rows of a partition in the application database under `data`, if there is one."""
    if not (data / "shorts.db").exists():
        return []
    channel, day = partition.split("|")
    return Store(f"sqlite:///{data / 'shorts.db'}").batch(channel, date.fromisoformat(day))


def run(command: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTS_", "DATABASE_URL", "DAGSTER_"))}
    full_env.update(env)
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def test_the_readme_main_job_makes_a_short_recorded_under_its_partition(tmp_path):
    command = readme_command("main-job")
    assert "shorts_loop_job" in command
    partition = partition_of(command)
    day = partition.split("|")[1]
    data = tmp_path / "data"
    home = dagster_home(tmp_path)
    result = run(command, {"DAGSTER_HOME": home, "SHORTS_DATA_DIR": str(data)})
    output = result.stderr + result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RUN_SUCCESS" in output
    assert "SupersessionWarning" not in output
    shorts = sorted((data / "media" / "demo" / day).glob("*/short.mp4"))
    assert shorts, "the README says where the short is; it must be there"
    info = probe(shorts[0])
    assert (info.width, info.height, info.has_audio) == (1080, 1920, True)
    assert list((data / "outbox").rglob("manifest.json"))

    with dg.DagsterInstance.from_config(home) as instance:
        (loop_run,) = instance.get_runs()
        # The UI lists the run under its partition, and the run queue's per-channel limit reads its channel.
        assert loop_run.tags["dagster/partition"] == partition
        assert loop_run.tags["dagster/partition/channel"] == partition.split("|")[0]
        for key in LOOP_ASSETS:
            assert instance.get_materialized_partitions(key) == {partition}, key.to_user_string()
            event = instance.get_latest_materialization_event(key)
            assert event.dagster_event.partition == partition, key.to_user_string()
        # The batch was posted at its past posting hours, so the ladder's rungs are due: the sensor's
        # next tick asks for a new metrics snapshot of exactly this partition.
        tick = metrics_after_publish_sensor(dg.build_sensor_context(instance=instance))
    assert [str(r.partition_key) for r in tick.run_requests] == [partition]
    assert tick.run_requests[0].tags["shorts/maturity"].startswith("+")


def test_the_readme_forced_arms_are_written_as_forced(tmp_path):
    # The README's command, narrowed to the scripts asset: forcing happens there, and the rest of the
    # loop is the main command's.
    command = readme_command("forced-arms")
    assert "--job shorts_loop_job" in command
    partition = partition_of(command)
    forced = json.loads(re.search(r"--config-json '(\{.+\})'", command).group(1))["ops"]["scripts"]["config"]
    data = tmp_path / "data"
    narrowed = command.replace("--job shorts_loop_job", "--assets scripts")
    result = run(narrowed, {"DAGSTER_HOME": dagster_home(tmp_path), "SHORTS_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr[-3000:]
    rows = scripts_in(data, partition)
    assert len(rows) == 3
    for row in rows:
        assert {d: row.arms[d] for d in forced} == forced
        assert row.forced_arms == tuple(sorted(forced))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('"demo|', '"nosuchchannel|'), "nosuchchannel"),
        (("2026-11-27", "2099-01-01"), "2099-01-01"),
    ],
)
def test_a_partition_that_does_not_exist_is_refused_by_name(tmp_path, change, named):
    command = readme_command("main-job").replace(*change)
    assert named in command
    data = tmp_path / "data"
    result = run(command, {"DAGSTER_HOME": dagster_home(tmp_path), "SHORTS_DATA_DIR": str(data)})
    assert result.returncode != 0
    assert f"Could not find a partition with key `{partition_of(command)}`" in result.stderr + result.stdout
    assert not (data / "media").exists()
    assert scripts_in(data, partition_of(command)) == []


def test_an_unknown_arm_value_is_refused_by_name_before_the_run(tmp_path):
    command = readme_command("forced-arms").replace('"voice": "en-gb"', '"voice": "fr-fr"')
    assert "fr-fr" in command
    data = tmp_path / "data"
    home = dagster_home(tmp_path)
    result = run(command, {"DAGSTER_HOME": home, "SHORTS_DATA_DIR": str(data)})
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "fr-fr" in output and "voice" in output
    assert scripts_in(data, partition_of(command)) == []
    with dg.DagsterInstance.from_config(home) as instance:
        assert instance.get_runs() == []


def test_the_readme_backfill_queues_a_channels_dates_oldest_first(tmp_path):
    # Without a daemon the runs stay queued: what is checked is what the queue is given.
    command = readme_command("backfill")
    assert command.startswith("DAGSTER_HOME=$PWD ")
    first, last = re.search(r'--from "([^"]+)" --to "([^"]+)"', command).groups()
    home = dagster_home(tmp_path)
    data = tmp_path / "data"
    result = run(command.removeprefix("DAGSTER_HOME=$PWD "), {"DAGSTER_HOME": home, "SHORTS_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr[-3000:]
    with dg.DagsterInstance.from_config(home) as instance:
        queued = list(reversed(instance.get_runs()))  # newest first from the instance
    keys = [r.tags["dagster/partition"] for r in queued]
    days = [date.fromisoformat(k.split("|")[1]) for k in keys]
    assert keys[0] == first and keys[-1] == last
    assert days == sorted(days) and len(set(days)) == len(days) == (days[-1] - days[0]).days + 1
    assert {r.status for r in queued} == {dg.DagsterRunStatus.QUEUED}
    assert {r.job_name for r in queued} == {"shorts_loop_job"}
    assert {r.tags["dagster/partition/channel"] for r in queued} == {first.split("|")[0]}
    assert not (data / "media").exists()


def test_a_bad_variable_stops_the_load_with_its_name(tmp_path):
    command = readme_command("main-job")
    result = run(
        command,
        {
            "DAGSTER_HOME": dagster_home(tmp_path),
            "SHORTS_DATA_DIR": str(tmp_path / "data"),
            "VIDEO_GEN_PROVIDER": "sora9",
        },
    )
    assert result.returncode != 0
    assert "VIDEO_GEN_PROVIDER" in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()


LEARN_JOB = f'{BIN}/dg launch --job learn_job --partition "demo|2026-11-01"'


def test_log_level_sets_how_much_a_run_logs(tmp_path):
    # Runs launched from the UI, schedules, sensors and backfills take the jobs' default run config,
    # which carries LOG_LEVEL; so does an in-process execution, used here.
    script = (
        "from shorts_assets.definitions import defs; "
        "defs().resolve_job_def('learn_job').execute_in_process(partition_key='demo|2026-11-01')"
    )
    command = f'{sys.executable} -c "{script}"'
    env = {"SHORTS_DATA_DIR": str(tmp_path / "data")}
    debug = run(command, {**env, "LOG_LEVEL": "DEBUG"})
    default = run(command, env)
    quiet = run(command, {**env, "LOG_LEVEL": "WARNING"})
    assert debug.returncode == default.returncode == quiet.returncode == 0, quiet.stderr[-2000:]
    assert "STEP_START" in debug.stderr
    assert "STEP_START" not in default.stderr and "no scored metrics yet" in default.stderr
    assert "no scored metrics yet" not in quiet.stderr


@pytest.mark.postgres
def test_the_postgres_instance_stores_runs_in_the_real_server(tmp_path, postgres_database):
    require_postgres()
    home = Path(dagster_home(tmp_path, ROOT / "deploy" / "postgres" / "dagster.yaml"))
    result = run(
        LEARN_JOB,
        {"DAGSTER_HOME": str(home), "DAGSTER_PG_URL": postgres_database, "SHORTS_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    engine = sa.create_engine(postgres_database)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT pipeline_name, status FROM runs")).all()
        materialized = conn.execute(
            sa.text("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        ).scalar_one()
        tags = dict(conn.execute(sa.text("SELECT key, value FROM run_tags WHERE key LIKE 'dagster/partition%'")).all())
        partitions = conn.execute(
            sa.text("SELECT DISTINCT partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        ).all()
    engine.dispose()
    assert runs == [("learn_job", "SUCCESS")]
    assert materialized == 3
    assert partitions == [("demo|2026-11-01",)]
    assert tags["dagster/partition"] == "demo|2026-11-01" and tags["dagster/partition/channel"] == "demo"
    assert not (home / "history").exists(), "run storage must not fall back to SQLite"
