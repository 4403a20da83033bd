"""The deployment recipe holds together: the image's build context has what the Dockerfile copies and
none of a local environment; the compose file parses and wires every service to the same instance,
broker and data volume; the instance config loads on PostgreSQL; the Helm values use the keys of the
official chart. (Building the image and running the containers need a Docker daemon, which the test
machine does not have.)"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from shorts_assets.defs.execution import load_execution_settings
from shorts_assets.defs.pools import loop_pools

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
HELM = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
SERVICES = {"postgres", "redis", "setup", "code-server", "webserver", "daemon", "worker", "render-worker"}
# The entry points the image has: the Python interpreter and the project's dependencies' commands.
IMAGE_COMMANDS = {"python", "dagster", "dagster-webserver", "dagster-daemon", "celery"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def ignored(path: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/")) or path.startswith(p.rstrip("/") + "/")
        for p in patterns
    )


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_copy_source_is_in_the_build_context_and_not_ignored():
    copies = [shlex.split(args) for op, args in dockerfile_instructions() if op == "COPY"]
    assert copies
    patterns = dockerignore()
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the build context"
            assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"


def test_the_build_context_leaves_out_the_local_environment_and_data():
    patterns = dockerignore()
    for local in (".venv", "data", ".git", "shorts_assets_tests", ".env"):
        assert ignored(local, patterns), local
    # The package and what pip needs to build it stay in.
    for needed in ("pyproject.toml", "README.md", "LICENSE", "shorts_assets", "deploy"):
        assert not ignored(needed, patterns), needed


def test_the_image_installs_the_project_and_serves_the_code_location():
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM" and re.match(r"python:3\.\d+-slim", instructions[0][1])
    assert ("RUN", "pip install .") in instructions
    (cmd,) = [args for op, args in instructions if op == "CMD"]
    assert "code-server" in cmd and "shorts_assets.definitions" in cmd


def test_compose_has_every_service_of_the_deployment():
    assert set(COMPOSE["services"]) == SERVICES


def test_every_engine_service_shares_the_instance_broker_and_data_volume():
    env = COMPOSE["x-shorts-env"]
    settings = load_execution_settings(env)
    assert settings.executor == "celery" and settings.broker_url.startswith("redis://redis:")
    for name in SERVICES - {"postgres", "redis"}:
        service = COMPOSE["services"][name]
        assert service["environment"] == env, name
        assert "data:/data" in service["volumes"], name
        assert service["command"][0] in IMAGE_COMMANDS, name
    queues = {
        name: service["command"][service["command"].index("-Q") + 1]
        for name, service in COMPOSE["services"].items()
        if "-Q" in service.get("command", [])
    }
    assert queues == {"worker": settings.queue, "render-worker": settings.render_queue}
    render = COMPOSE["services"]["render-worker"]["command"]
    assert render[render.index("--concurrency") + 1] == "1", "one render at a time per render worker"


def test_no_secret_is_written_into_the_compose_file():
    env = COMPOSE["x-shorts-env"]
    for name in ("DAGSTER_PG_URL", "DATABASE_URL"):
        assert "${POSTGRES_PASSWORD:?" in env[name], name
    assert COMPOSE["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_webserver_listens_on_loopback_only():
    assert COMPOSE["services"]["webserver"]["ports"] == ["127.0.0.1:3000:3000"]


def test_the_deployment_workspace_reaches_the_code_server_over_grpc():
    (location,) = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())["load_from"]
    assert location["grpc_server"]["port"] == 4000
    assert location["grpc_server"]["location_name"] == "shorts_engine"
    code_server = COMPOSE["services"]["code-server"]["command"]
    assert code_server[code_server.index("-p") + 1] == "4000"


@pytest.mark.postgres
def test_the_celery_instance_config_loads_on_postgresql(tmp_path, postgres_database, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "celery" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_database)
    monkeypatch.setenv("SHORTS_DAGSTER_STORAGE_DIR", str(tmp_path / "shared" / "dagster"))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        # Compute logs and step outputs on the shared store, not in the instance folder of one machine.
        logs = instance.compute_log_manager
        assert type(logs).__name__ == "LocalComputeLogManager"
        assert Path(logs.inst_data.config_dict["base_dir"]["env"]) == Path("SHORTS_DAGSTER_STORAGE_DIR")
        assert Path(instance.storage_directory()).is_relative_to(tmp_path / "shared")
        limits = instance.get_settings("concurrency")["runs"]["tag_concurrency_limits"]
        assert limits == [{"key": "dagster/partition/channel", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
        assert instance.global_op_concurrency_default_limit >= 1


# Top-level keys and the fields of the run launcher and user deployments of the official chart's values
# schema (helm/dagster/schema in the dagster repository, the release matching dagster 1.13).
CHART_KEYS = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
    "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate",
    "telemetry", "serviceAccount", "global", "retention", "additionalInstanceConfig",
}  # fmt: skip
K8S_RUN_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
    "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
USER_DEPLOYMENT_KEYS = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "port", "env",
    "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe",
    "labels", "volumeMounts", "volumes", "schedulerName",
}  # fmt: skip


def test_the_helm_values_use_the_charts_keys():
    assert set(HELM) <= CHART_KEYS
    launcher = HELM["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]["k8sRunLauncher"]) <= K8S_RUN_LAUNCHER_KEYS
    (deployment,) = HELM["dagster-user-deployments"]["deployments"]
    assert set(deployment) <= USER_DEPLOYMENT_KEYS
    assert {"name", "image", "port"} <= set(deployment)
    assert set(deployment["image"]) == {"repository", "tag", "pullPolicy"}
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert load_execution_settings(env).executor == "k8s"
    assert HELM["dagsterWebserver"]["workspace"]["servers"][0]["port"] == deployment["port"]


def test_the_helm_run_queue_orders_a_channels_dates_as_the_celery_instance_does():
    celery = yaml.safe_load((ROOT / "deploy" / "celery" / "dagster.yaml").read_text())
    queued = HELM["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["tagConcurrencyLimits"] == celery["concurrency"]["runs"]["tag_concurrency_limits"]
    assert HELM["additionalInstanceConfig"]["concurrency"]["pools"] == celery["concurrency"]["pools"]


def test_the_pools_the_deployment_sets_are_the_loops():
    assert {"render", "video_gen", "script_gen", "tts", "platform_reads"} <= set(loop_pools())
    assert {f"publish_{p}" for p in ("youtube", "tiktok", "instagram")} <= set(loop_pools())
