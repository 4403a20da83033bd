"""A temporary Dagster instance with the loop run into it, and `dagster dev` serving it on a free port.

The instance is a fresh DAGSTER_HOME holding a copy of the repository's `dagster.yaml`, with its own
data root and channels file, so the UI shows exactly what the test put there. `dagster dev` runs in
its own process group (the webserver, the daemon, the code server and the runs they launch), which
is stopped as a whole at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# What a subprocess keeps of the test's environment: nothing that could configure the engine, so it
# runs the offline defaults whatever the developer has exported.
KEPT_VARIABLES = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")


@dataclass(frozen=True)
class Instance:
    """A temporary Dagster instance and data root, and the environment that points the engine at them."""

    home: Path
    data_dir: Path
    env: dict[str, str]


def temporary_instance(root: Path, channels: list[dict[str, Any]], start_date: str, **settings: str) -> Instance:
    """A fresh DAGSTER_HOME (a copy of the repository's dagster.yaml), data root and channels file under `root`."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    data_dir = root / "data"
    channels_file = root / "channels.json"
    channels_file.write_text(json.dumps({"channels": channels}), encoding="utf-8")
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.update(
        DAGSTER_HOME=str(home),
        SHORTS_DATA_DIR=str(data_dir),
        SHORTS_CHANNELS_FILE=str(channels_file),
        SHORTS_START_DATE=start_date,
        **settings,
    )
    return Instance(home=home, data_dir=data_dir, env=env)


def run_loop(instance: Instance, channel: str, day: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """One run of `shorts_loop_job` for a partition, by the CLI, recorded in the instance with its partition."""
    tags = {
        "dagster/partition": f"{channel}|{day}",
        "dagster/partition/channel": channel,
        "dagster/partition/date": day,
    }
    return subprocess.run(
        [str(BIN / "dagster"), "job", "execute", "-f", "definitions.py", "-j", "shorts_loop_job"]
        + ["--tags", json.dumps(tags)],
        cwd=ROOT,
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_interrupts() -> None:
    """In the child: SIGINT and SIGTERM back to their defaults.

    A process started in the background inherits SIGINT ignored, and Dagster maps SIGTERM to SIGINT's
    handler, so without this `dagster dev` would ignore both and could not be stopped gracefully.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class DagsterDevError(RuntimeError):
    """`dagster dev` did not come up, or its GraphQL API answered with errors."""


WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


class DagsterDev:
    """`dagster dev` (webserver and daemon) for an instance; a context manager that waits until it serves."""

    def __init__(self, instance: Instance, log_path: Path, ready_timeout_s: float = 240) -> None:
        self.instance = instance
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def __enter__(self) -> DagsterDev:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.instance.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_default_interrupts,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output, for a failure message."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of a GraphQL answer; raises with the errors when there are any."""
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise DagsterDevError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def _wait_until_ready(self) -> None:
        """Until the webserver answers and the code location has loaded; raises with the reason otherwise."""
        deadline = time.monotonic() + self.ready_timeout_s
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise DagsterDevError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.client.get("/server_info").status_code == 200:
                    workspace = self.graphql(WORKSPACE_QUERY)["workspaceOrError"]
                    entries = workspace.get("locationEntries") or []
                    if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                        errors = [
                            f"{e['name']}: {e['locationOrLoadError'].get('message', '')}"
                            for e in entries
                            if e["locationOrLoadError"]["__typename"] == "PythonError"
                        ]
                        if errors:
                            raise DagsterDevError("the code location failed to load:\n" + "\n".join(errors))
                        return
                    last = f"code location not loaded yet: {entries}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(1)
        raise DagsterDevError(
            f"dagster dev did not serve within {self.ready_timeout_s:.0f} s ({last}):\n{self.log_tail()}"
        )

    def stop(self, grace_s: float = 30) -> None:
        """Stop the whole process group: the webserver, the daemon, the code server and any run they launched."""
        self.client.close()
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace_s)
        except ProcessLookupError:
            pass
        try:
            # Children that outlived the server (a run finishing its step) belong to the group too.
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
