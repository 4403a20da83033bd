"""The README's commands, run for real in a subprocess with a temporary DAGSTER_HOME."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from shorts_assets.providers.media import probe
from shorts_assets_tests.conftest import require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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


def run(command: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTS_", "DATABASE_URL", "DAGSTER_"))}
    full_env.update(env)
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def test_the_readme_main_job_makes_a_short(tmp_path):
    command = readme_command("main-job")
    assert "shorts_loop_job" in command
    data = tmp_path / "data"
    result = run(command, {"DAGSTER_HOME": dagster_home(tmp_path), "SHORTS_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RUN_SUCCESS" in result.stderr + result.stdout
    day = json.loads(re.search(r"--tags '(\{.+?\})'", command).group(1))["dagster/partition/date"]
    shorts = sorted((data / "media" / "demo" / day).glob("*/short.mp4"))
    assert shorts, "the README says where the short is; it must be there"
    info = probe(shorts[0])
    assert (info.width, info.height, info.has_audio) == (1080, 1920, True)
    assert list((data / "outbox").rglob("manifest.json"))


def test_an_unknown_channel_is_refused_by_name(tmp_path):
    command = readme_command("main-job").replace('"demo"', '"nosuchchannel"')
    result = run(command, {"DAGSTER_HOME": dagster_home(tmp_path), "SHORTS_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode != 0
    assert "nosuchchannel" in result.stderr + result.stdout
    assert not (tmp_path / "data" / "media").exists()


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


LEARN_JOB = (
    f"{BIN}/dagster job execute -f definitions.py -j learn_job "
    '--tags \'{"dagster/partition/channel": "demo", "dagster/partition/date": "2026-11-01"}\''
)


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
    engine.dispose()
    assert runs == [("learn_job", "SUCCESS")]
    assert materialized == 3
    assert not (home / "history").exists(), "run storage must not fall back to SQLite"
