"""The resources hold only what the code location's environment set.

A run config (the Launchpad's, a schedule's, a CLI's) cannot point a credential at another server,
switch real publishing on, lift a spending limit, or move the database or the data root: the job
refuses it at config validation, before a run starts, a step runs, a file is written or a request is
sent. What the environment set reaches the assets unchanged through Dagster's own copy of each
resource, and the definitions the UI is shown hold neither the database password nor the secret key.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from cryptography.fernet import Fernet
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster_shared.serdes import serialize_value

from shorts_assets import settings as settings_module
from shorts_assets.definitions import defs
from shorts_assets.defs.resources import (
    ChannelsResource,
    DatabaseResource,
    MediaResource,
    PlatformsResource,
    ScriptWriterResource,
    SpendingResource,
    build_resources,
)
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.providers.registry import base_url_variables
from shorts_assets.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": "2026-11-27"})
SETTINGS_PREFIXES = ("PUBLISHER_", "SHORTS_", "SCRIPT_", "VIDEO_GEN_", "TTS_", "RENDER", "CLOUD_RENDER_", "SIM_")


@pytest.fixture
def servers():
    apps = {"youtube": FakeYouTube(), "openai": FakeOpenAI()}
    with FakeServer(apps["youtube"]) as youtube, FakeServer(apps["openai"]) as openai:
        yield apps, {"youtube": youtube.url, "openai": openai.url}


@pytest.fixture
def environment(tmp_path, monkeypatch, servers):
    """The offline loop's environment, with credentials set that no run may send anywhere: YouTube's
    client secret and refresh token (PUBLISHER_YOUTUBE unset) and an OpenAI key (SCRIPT_PROVIDER unset)."""
    apps, _ = servers
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name == "DATABASE_URL" or name in base_url_variables():
            monkeypatch.delenv(name)
    env = {
        "SHORTS_DATA_DIR": str(tmp_path / "data"),
        "YOUTUBE_CLIENT_ID": apps["youtube"].client_id,
        "YOUTUBE_CLIENT_SECRET": apps["youtube"].client_secret,
        "YOUTUBE_REFRESH_TOKEN": next(iter(apps["youtube"].refresh_tokens)),
        "OPENAI_API_KEY": "sk-never-sent",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings_module.current_settings.cache_clear()
    yield env
    settings_module.current_settings.cache_clear()


def attacks(urls: dict[str, str], elsewhere: Path) -> list[tuple[str, dict]]:
    youtube = urls["youtube"]
    return [
        (
            "platforms",
            {
                "real": ["youtube"],
                "base_urls": {
                    "GOOGLE_OAUTH_TOKEN_URL": f"{youtube}/token",
                    "YOUTUBE_API_BASE_URL": f"{youtube}/youtube/v3",
                    "YOUTUBE_UPLOAD_BASE_URL": f"{youtube}/upload/youtube/v3",
                },
            },
        ),
        ("platforms", {"data_dir": str(elsewhere)}),
        ("platforms", {"options": {"youtube_quota_model": "legacy", "tiktok_privacy_level": "PUBLIC_TO_EVERYONE"}}),
        ("script_writer", {"provider": "openai", "base_urls": {"OPENAI_BASE_URL": f"{urls['openai']}/v1"}}),
        ("clip_generator", {"base_urls": {"RUNWAY_API_BASE_URL": urls["openai"]}}),
        ("voice", {"base_urls": {"OPENAI_BASE_URL": f"{urls['openai']}/v1"}}),
        ("renderer", {"data_dir": str(elsewhere), "base_urls": {"CREATOMATE_API_BASE_URL": urls["openai"]}}),
        ("spending", {"daily_limits_usd": {"demo": 1_000_000.0}}),
        ("spending", {"prices_file": str(elsewhere / "free.json")}),
        ("database", {"url": f"sqlite:///{elsewhere / 'shorts.db'}"}),
        ("media", {"data_dir": str(elsewhere)}),
        ("channels", {"channels": json.dumps({"channels": [{"name": "demo", "videos_per_day": 50}]})}),
    ]


def refused(message: str, resource: str, field: str) -> bool:
    """Whether Dagster's config validation refused `field` under resources.<resource>.config."""
    path = f"root:resources:{resource}:config"
    return bool(re.search(f'unexpected config entr(y|ies) "[^"]*\\b{field}\\b[^"]*" at path {path}', message))


ATTACKED = [f"{name}-{'-'.join(sorted(config))}" for name, config in attacks({"youtube": "", "openai": ""}, Path())]


@pytest.mark.parametrize("attack", range(len(ATTACKED)), ids=ATTACKED)
def test_a_run_config_that_sets_a_resource_is_refused_before_any_work(attack, environment, servers, tmp_path):
    apps, urls = servers
    elsewhere = tmp_path / "elsewhere"
    name, config = attacks(urls, elsewhere)[attack]
    job = defs().resolve_job_def("shorts_loop_job")
    with dg.instance_for_test() as instance:
        with pytest.raises(dg.DagsterInvalidConfigError) as caught:
            job.execute_in_process(
                run_config={"resources": {name: {"config": config}}},
                partition_key=PARTITION,
                instance=instance,
            )
        assert instance.get_runs() == []
    assert all(refused(str(caught.value), name, field) for field in config)
    assert not (tmp_path / "data").exists() and not elsewhere.exists()
    assert sum(apps["youtube"].calls.values()) == 0 and sum(apps["openai"].calls.values()) == 0


def test_no_resource_offers_the_launchpad_anything_to_set(environment):
    job = defs().resolve_job_def("shorts_loop_job")
    assert job.resource_defs.keys() >= {"database", "media", "platforms", "script_writer", "spending"}
    for key, resource_def in job.resource_defs.items():
        if key == "io_manager":
            continue
        assert resource_def.config_schema.as_field().config_type.fields == {}, key
    assert dg.validate_run_config(job, {"resources": {"platforms": {"config": {}}}})


def test_what_the_environment_set_reaches_the_assets_through_dagsters_copy_of_each_resource(tmp_path, monkeypatch):
    keys = Fernet.generate_key().decode()
    settings = load_settings(
        {
            "SHORTS_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
            "PUBLISHER_YOUTUBE": "true",
            "YOUTUBE_CLIENT_ID": "id",
            "YOUTUBE_CLIENT_SECRET": "secret",
            "YOUTUBE_REFRESH_TOKEN": "refresh",
            "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:9/token",
            "SCRIPT_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "SHORTS_DAILY_BUDGET_USD": "2.5",
            "SHORTS_SECRET_KEY": keys,
            "YOUTUBE_QUOTA_MODEL": "legacy",
            "TIKTOK_POST_MODE": "inbox",
        }
    )
    urls = {"GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:9/token", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    seen = {}

    @dg.asset
    def probe(
        database: DatabaseResource,
        media: MediaResource,
        channels: ChannelsResource,
        spending: SpendingResource,
        script_writer: ScriptWriterResource,
        platforms: PlatformsResource,
    ) -> None:
        seen.update(
            url=database.url,
            sealed_with=database.secret_keys,
            data_dir=media.data_dir,
            channels=[c.name for c in channels.configs()],
            limits=spending.daily_limits_usd,
            writer=(script_writer.provider, script_writer.base_urls),
            real=platforms.real,
            platform_urls=platforms.base_urls,
            platform_keys=platforms.database.secret_keys,
            platform_options=platforms.options,
        )
        with platforms.publisher("youtube", "demo", channels.get("demo")) as youtube:
            seen["youtube"] = (youtube.quota_model, youtube.made_for_kids)

    resources = build_resources(settings)
    for name in ("YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET", "YOUTUBE_REFRESH_TOKEN"):
        monkeypatch.setenv(name, "set")  # credentials are read from the environment when an adapter is built
    with dg.instance_for_test() as instance:
        assert dg.materialize([probe], resources=resources, instance=instance).success
    assert seen == {
        "url": f"sqlite:///{tmp_path / 'app.db'}",
        "sealed_with": settings.secret_keys,
        "data_dir": str(tmp_path / "data"),
        "channels": ["demo"],
        "limits": {"demo": 2.5},
        "writer": ("openai", urls),
        "real": ["youtube"],
        "platform_urls": urls,
        "platform_keys": settings.secret_keys,
        "platform_options": {
            "tiktok_post_mode": "inbox",
            "tiktok_privacy_level": "PUBLIC_TO_EVERYONE",
            "youtube_quota_model": "legacy",
        },
        "youtube": ("legacy", False),
    }


def test_the_definitions_shown_to_the_ui_hold_no_database_password_nor_secret_key(environment, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("DATABASE_URL", "postgresql://shorts:pg-password-42@127.0.0.1:5432/shorts")
    monkeypatch.setenv("SHORTS_SECRET_KEY", key)
    settings_module.current_settings.cache_clear()
    location = defs()
    assert location.resources["database"].url.endswith("/shorts")
    snapshot = serialize_value(RepositorySnap.from_def(location.get_repository_def()))
    assert "pg-password-42" not in snapshot and key not in snapshot
    assert "pg-password-42" not in repr(location.resources) and key not in repr(location.resources)


@pytest.mark.slow
def test_the_cli_refuses_a_run_config_that_switches_real_publishing_on(environment, servers, tmp_path):
    apps, urls = servers
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"resources": {"platforms": {"config": attacks(urls, tmp_path)[0][1]}}}))
    tags = json.dumps({"dagster/partition/channel": "demo", "dagster/partition/date": "2026-11-27"})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-f", "definitions.py", "-j", "shorts_loop_job",
         "-c", str(config), "--tags", tags],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
    )  # fmt: skip
    assert done.returncode != 0
    assert refused(done.stdout + done.stderr, "platforms", "real")
    assert not (tmp_path / "data").exists()
    assert sum(apps["youtube"].calls.values()) == 0
