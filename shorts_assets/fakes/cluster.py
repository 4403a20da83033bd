"""A small cluster on one machine: Celery workers, the Dagster daemon and the command-line backfill,
each a process of its own with a working directory of its own, sharing only the data store (media,
outbox, reports and Dagster's compute logs), the PostgreSQL databases and the Redis broker.

It is how deploy/README.md lays the services out, with processes in place of machines: every process
gets the instance of deploy/celery/dagster.yaml and the code location's variables, and the workers
load the code location themselves. A cluster uses a Celery queue of its own, and on leaving it stops
every process it started and deletes the Redis keys that appeared while it ran.

Used by ``shorts_assets_tests/defs/test_scale.py`` and ``benchmarks/loop_bench.py --part b``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTANCE_YAML = ROOT / "deploy" / "celery" / "dagster.yaml"
WORKSPACE = ROOT / "workspace.yaml"
# The variables a process of the cluster must not inherit from whoever starts it.
OWN_PREFIXES = ("SHORTS_", "DATABASE_URL", "DAGSTER_", "RENDER_PROFILE", "PUBLISHER_")


@dataclass
class Cluster:
    """The processes and folders of one cluster; start it with ``with Cluster(...) as cluster``."""

    base: Path
    dagster_pg_url: str
    app_database_url: str
    redis_url: str
    channels: tuple[str, ...]
    workers: int = 2
    videos_per_day: int = 1
    queue: str = field(default_factory=lambda: f"scale_{uuid.uuid4().hex[:10]}")
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _redis_keys_before: set[bytes] = field(default_factory=set)

    @property
    def data_dir(self) -> Path:
        return self.base / "shared" / "data"

    @property
    def home(self) -> Path:
        return self.base / "daemon" / "home"

    def work_dir(self, name: str) -> Path:
        return self.base / name / "cwd"

    def worker_names(self) -> list[str]:
        return [f"w{i + 1}" for i in range(self.workers)]

    def env(self, home: Path) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
        config = self.base / "config" / "channels.json"
        return {
            **inherited,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": self.dagster_pg_url,
            "DATABASE_URL": self.app_database_url,
            "SHORTS_DATA_DIR": str(self.data_dir),
            "SHORTS_DAGSTER_STORAGE_DIR": str(self.base / "shared" / "dagster"),
            "SHORTS_CHANNELS_FILE": str(config),
            "SHORTS_EXECUTOR": "celery",
            "SHORTS_CELERY_BROKER_URL": self.redis_url,
            "SHORTS_CELERY_QUEUE": self.queue,
            "RENDER_PROFILE": "draft",
        }

    def _home_for(self, name: str) -> Path:
        home = self.base / name / "home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
        return home

    def __enter__(self) -> Cluster:
        (self.base / "config").mkdir(parents=True)
        channels = [{"name": c, "videos_per_day": self.videos_per_day} for c in self.channels]
        (self.base / "config" / "channels.json").write_text(json.dumps({"channels": channels}))
        self.data_dir.mkdir(parents=True)
        self._redis_keys_before = set(redis.Redis.from_url(self.redis_url).keys("*"))
        self._home_for("daemon")
        try:
            self._set_pools()
            for name in self.worker_names():
                self._start_worker(name)
            self._wait_for_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _set_pools(self) -> None:
        # Once, before any run: creates Dagster's tables and every pool's limit (see defs/pools.py).
        cwd = self.work_dir("cli")
        cwd.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "shorts_assets.defs.pools", f"render={self.workers}"],
            cwd=cwd,
            env=self.env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"setting the pools failed: {result.stderr[-3000:]}")

    def _start(self, name: str, args: list[str], home: Path) -> subprocess.Popen:
        cwd = self.work_dir(name)
        cwd.mkdir(parents=True, exist_ok=True)
        log = open(self.base / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the process's life
        process = subprocess.Popen(
            args, cwd=cwd, env=self.env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def _start_worker(self, name: str) -> None:
        self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "shorts_assets.defs.celery_worker",
                "worker",
                "-n",
                f"{self.queue}-{name}@%h",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            self._home_for(name),
        )

    def _wait_for_workers(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.worker_names())
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"Celery worker {name} exited: {self.log(name)[-2000:]}")
                if " ready." in self.log(name):
                    pending.discard(name)
            time.sleep(0.5)
        if pending:
            raise RuntimeError(f"Celery workers {sorted(pending)} were not ready in {timeout:.0f} s")

    def log(self, name: str) -> str:
        path = self.base / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_daemon(self) -> None:
        self._start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)], self.home)

    def backfill(self, job: str, partitions: list[str]) -> None:
        """Submit one queued run per partition, as `dagster job backfill` does for a person."""
        cwd = self.work_dir("cli")
        cwd.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(BIN / "dagster"), "job", "backfill", "-w", str(WORKSPACE), "-j", job]
            + ["--partitions", ",".join(partitions), "--noprompt"],
            cwd=cwd,
            env=self.env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dagster job backfill failed: {result.stderr[-3000:]}")

    def process_tree(self, name: str) -> set[int]:
        """The pids of a started process and of every process under it (a worker's pool children)."""
        root = self.processes[name].pid
        found, frontier = {root}, [root]
        while frontier:
            pid = frontier.pop()
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    children = [int(c) for c in task.read_text().split()]
                except OSError:
                    continue
                for child in children:
                    if child not in found:
                        found.add(child)
                        frontier.append(child)
        return found

    def stray_files(self) -> dict[str, list[str]]:
        """Files a process wrote in its own folders, outside the shared store (its instance's
        dagster.yaml excepted)."""
        stray: dict[str, list[str]] = {}
        for name in [*self.worker_names(), "daemon", "cli"]:
            for folder in (self.base / name / "cwd", self.base / name / "home"):
                if not folder.exists():
                    continue
                for path in folder.rglob("*"):
                    if path.is_file() and path != self.base / name / "home" / "dagster.yaml":
                        stray.setdefault(name, []).append(str(path.relative_to(self.base)))
        return stray

    def stop(self, name: str, timeout: float = 30) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # What it started stays in its process group (the daemon's code server and the runs it
        # launched, a worker's pool) and may outlive it: none of it may survive the cluster.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def __exit__(self, *exc) -> None:
        for name in list(self.processes):
            self.stop(name)
        client = redis.Redis.from_url(self.redis_url)
        new = [k for k in client.keys("*") if k not in self._redis_keys_before]
        if new:
            client.delete(*new)
