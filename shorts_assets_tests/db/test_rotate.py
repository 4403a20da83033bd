"""Rotating SHORTS_SECRET_KEY from the command line: the code location's environment names the
database and the keys; the stored credentials are re-sealed with the first key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.rotate import rotate
from shorts_assets.db.secrets import SecretKeys
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store

REPO = Path(__file__).resolve().parents[2]


def test_rotate_reseals_the_configured_databases_credentials_with_the_new_key(database_url, tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    DatabaseStateStore(Store(database_url), SecretKeys([old])).put("oauth.access", "instagram:demo", "IGQVJ-live")
    env = {"DATABASE_URL": database_url, "SHORTS_DATA_DIR": str(tmp_path), "SHORTS_SECRET_KEY": f"{new},{old}"}
    assert rotate(env) == 1
    assert DatabaseStateStore(Store(database_url), SecretKeys([new])).get("oauth.access", "instagram:demo") == (
        "IGQVJ-live"
    )
    with pytest.raises(ConfigError, match="SHORTS_SECRET_KEY is not set"):
        rotate({"DATABASE_URL": database_url, "SHORTS_DATA_DIR": str(tmp_path)})


def test_the_command_says_how_many_it_resealed_and_refuses_a_wrong_key_by_name(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    key = Fernet.generate_key().decode()
    DatabaseStateStore(Store(url), SecretKeys([key])).put("tiktok.refresh_token", "demo", "rft.live")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTS_", "PUBLISHER_", "DATABASE_URL"))}
    command = [sys.executable, "-m", "shorts_assets.db.rotate"]
    done = subprocess.run(
        command, cwd=REPO, env={**base, "DATABASE_URL": url, "SHORTS_SECRET_KEY": key}, capture_output=True, text=True
    )
    assert done.returncode == 0 and "re-sealed 1 stored credential " in done.stdout
    wrong = Fernet.generate_key().decode()
    done = subprocess.run(
        command, cwd=REPO, env={**base, "DATABASE_URL": url, "SHORTS_SECRET_KEY": wrong}, capture_output=True, text=True
    )
    assert done.returncode == 2 and "SHORTS_SECRET_KEY does not hold" in done.stderr
    assert key not in done.stderr and wrong not in done.stderr and "rft.live" not in done.stderr
