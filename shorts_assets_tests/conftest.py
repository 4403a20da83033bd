"""Shared fixtures: temporary data roots, app databases on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("SHORTS_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any reason the server can't be reached
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {type(exc).__name__}"


def require_postgres() -> None:
    """Skip without the server, except under CI=true, where a missing server is a failure."""
    reason = _pg_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    require_postgres()
    name = f"shorts_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The application database on each backend the engine supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shorts.db'}"
    return request.getfixturevalue("postgres_database")


def loop_resources(data_dir: Path, database_url: str, videos_per_day: int = 2, reject_rate: float = 0.0) -> dict:
    """The offline resources of the loop, rooted in a temporary data folder, credentials sealed with a
    fresh key."""
    from cryptography.fernet import Fernet

    from shorts_assets.core.channels import ChannelConfig
    from shorts_assets.db.secrets import SecretKeys
    from shorts_assets.defs.resources import (
        ChannelsResource,
        ClipGeneratorResource,
        DatabaseResource,
        MediaResource,
        PlatformsResource,
        RendererResource,
        ScriptWriterResource,
        SpendingResource,
        VoiceResource,
    )

    database = DatabaseResource(url=database_url, secret_keys=SecretKeys([Fernet.generate_key().decode()]))
    return {
        "database": database,
        "media": MediaResource(data_dir=str(data_dir)),
        "channels": ChannelsResource.from_configs(
            (ChannelConfig(name="demo", videos_per_day=videos_per_day, audience_seed=11),)
        ),
        "spending": SpendingResource(),
        "script_writer": ScriptWriterResource(),
        "clip_generator": ClipGeneratorResource(),
        "voice": VoiceResource(),
        "renderer": RendererResource(),
        "platforms": PlatformsResource(data_dir=str(data_dir), database=database, reject_rate=reject_rate),
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A local S3-compatible server (moto's) on a real socket; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A fresh bucket on the local S3 server, with the conventional AWS variables set for it."""
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "test-access-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key-never-shown",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return {"endpoint": s3_server, "bucket": bucket, "client": client}
