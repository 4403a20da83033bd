"""Runs of one partition started together and killed at random points, then the counts that show
whether every side effect happened exactly once.

The harness keeps the fake YouTube and Runway servers in this process (so a killed run cannot take
them down, and they count every upload and every paid job), and starts each run as the README's
own command, `dg launch --job shorts_loop_job --partition …`, in a process of its own with a Dagster
instance of its own, all sharing one application database and one data root. A kill is a SIGKILL
of the run's process, with no chance to clean up. After the planned runs, runs are repeated until
one finishes, and then it counts:

- duplicate_posts: uploads the platform received beyond one per published video;
- duplicate_paid_jobs: video jobs the provider created beyond one per scene kept;
- lost_snapshots: published videos with no metric snapshot after the last run;
- orphans: half-written files (``*.partial*``) in the data root and work folders whose owner died;
- leftover_processes: processes still running the data root's media (an ffmpeg whose parent died);
- stuck_rows: publish slots still claimed or uploading, videos in no final state.

Used by ``benchmarks/chaos_bench.py`` and ``shorts_assets_tests/test_chaos.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from shorts_assets.fakes.runway_server import FakeRunway
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.youtube_server import FakeYouTube

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "demo"


@dataclass
class Report:
    runs: int = 0
    kills: int = 0
    succeeded: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    killed_in: dict[str, int] = field(default_factory=dict)  # the step each killed run was in

    def result_line(self) -> str:
        values = {"runs": self.runs, "kills": self.kills, **self.counts}
        return "RESULT " + " ".join(f"{k}={v}" for k, v in values.items())


def _portrait_clip(path: Path) -> bytes:
    """What the fake video API hands back: a real 720x1280 H.264 MP4."""
    from shorts_assets.providers.media import run_ffmpeg

    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=24", "-t", "5", "-pix_fmt", "yuv420p",
         "-c:v", "libx264", "-preset", "ultrafast", f"file:{path}"],
        "making the fake provider's clip",
    )  # fmt: skip
    return path.read_bytes()


class Chaos:
    """One partition, one application database, fakes that count, and runs that get killed."""

    def __init__(self, root: Path, database_url: str, day: date, *, videos_per_day: int = 2, seed: int = 0):
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.database_url = database_url
        self.day = day
        self.rng = random.Random(seed)
        self.youtube = FakeYouTube()
        self.runway = FakeRunway(video_bytes=_portrait_clip(self.root / "provider-clip.mp4"))
        self._servers = [FakeServer(self.youtube), FakeServer(self.runway)]
        channels = self.root / "channels.json"
        channels.write_text(json.dumps({"channels": [{"name": CHANNEL, "videos_per_day": videos_per_day}]}))
        self.channels_file = channels
        self.report = Report()
        # One key for every run, so each reads the tokens the others stored.
        self.secret_key = Fernet.generate_key().decode()

    def __enter__(self) -> Chaos:
        for server in self._servers:
            server.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in reversed(self._servers):
            server.__exit__(None, None, None)

    def environment(self) -> dict[str, str]:
        youtube, runway = (server.url for server in self._servers)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PUBLISHER_", "SHORTS_", "DAGSTER_"))}
        env.update(
            {
                "SHORTS_DATA_DIR": str(self.data_dir),
                "DATABASE_URL": self.database_url,
                "SHORTS_CHANNELS_FILE": str(self.channels_file),
                "RENDER_PROFILE": "final",
                "VIDEO_GEN_PROVIDER": "runway",
                "VIDEO_GEN_POLL_INTERVAL_S": "0.05",
                "RUNWAYML_API_SECRET": self.runway.api_key,
                "RUNWAY_API_BASE_URL": runway,
                "PUBLISHER_YOUTUBE": "true",
                "YOUTUBE_CLIENT_ID": self.youtube.client_id,
                "YOUTUBE_CLIENT_SECRET": self.youtube.client_secret,
                "YOUTUBE_REFRESH_TOKEN": next(iter(self.youtube.refresh_tokens)),
                "YOUTUBE_API_BASE_URL": f"{youtube}/youtube/v3",
                "YOUTUBE_UPLOAD_BASE_URL": f"{youtube}/upload/youtube/v3",
                "YOUTUBE_ANALYTICS_BASE_URL": f"{youtube}/v2",
                "GOOGLE_OAUTH_TOKEN_URL": f"{youtube}/token",
                "SHORTS_SECRET_KEY": self.secret_key,
                "LOG_LEVEL": "WARNING",
            }
        )
        return env

    def _command(self) -> list[str]:
        dg = str(Path(sys.executable).with_name("dg"))
        return [dg, "launch", "--job", "shorts_loop_job", "--partition", f"{CHANNEL}|{self.day.isoformat()}"]

    def _start(self) -> subprocess.Popen:
        home = Path(tempfile.mkdtemp(prefix="dagster-home-", dir=self.root))
        (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
        log = open(home / "run.log", "wb")  # noqa: SIM115 (the run writes to it until it ends)
        process = subprocess.Popen(
            self._command(), cwd=REPO, env={**self.environment(), "DAGSTER_HOME": str(home)},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.log = log  # type: ignore[attr-defined]
        self.report.runs += 1
        return process

    def round(self, concurrency: int, kills: int, max_kill_after_s: float) -> None:
        """Start `concurrency` runs at once; SIGKILL `kills` of them at random moments; wait for the rest."""
        processes = [self._start() for _ in range(concurrency)]
        doomed = self.rng.sample(range(concurrency), min(kills, concurrency))
        deadlines = {i: time.monotonic() + self.rng.uniform(1.0, max_kill_after_s) for i in doomed}
        while any(p.poll() is None for p in processes):
            now = time.monotonic()
            for i, at in list(deadlines.items()):
                if now >= at:
                    del deadlines[i]
                    if processes[i].poll() is None:
                        os.kill(processes[i].pid, signal.SIGKILL)
                        self.report.kills += 1
                        step = _last_step(Path(processes[i].log.name))  # type: ignore[attr-defined]
                        self.report.killed_in[step] = self.report.killed_in.get(step, 0) + 1
            time.sleep(0.1)
        for process in processes:
            process.log.close()  # type: ignore[attr-defined]
            self.report.succeeded += process.returncode == 0

    def run(self, *, runs: int, kills: int, concurrency: int = 2, max_kill_after_s: float = 40.0) -> Report:
        """`runs` runs in rounds of `concurrency`, `kills` of them killed, then reruns until one finishes."""
        sizes = [min(concurrency, runs - start) for start in range(0, runs, concurrency)]
        planned = [0] * len(sizes)
        for n in range(min(kills, runs)):
            # Spread the kills over the rounds, never more than a round has runs.
            candidates = [i for i, size in enumerate(sizes) if planned[i] < size]
            planned[min(candidates, key=lambda i: (planned[i], (i * 7 + n) % len(sizes)))] += 1
        for size, doomed in zip(sizes, planned):
            self.round(size, doomed, max_kill_after_s)
        for _ in range(5):
            before = self.report.succeeded
            self.round(1, 0, max_kill_after_s)
            if self.report.succeeded > before:
                break
        self.report.counts = self.counts()
        return self.report

    def counts(self) -> dict[str, int]:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                published = conn.execute(
                    sa.text("SELECT video_id FROM publish_results WHERE platform = 'youtube' AND status = 'published'")
                ).all()
                stuck_publish = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM publish_results WHERE status = 'uploading' OR claim_owner IS NOT NULL"
                    )
                ).scalar_one()
                stuck_videos = conn.execute(
                    sa.text("SELECT count(*) FROM videos WHERE status NOT IN ('ok', 'failed')")
                ).scalar_one()
                outputs = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in conn.execute(
                    sa.text("SELECT outputs FROM videos")
                )]  # fmt: skip
                snapshotted = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT video_id FROM performance_metrics"))}
        finally:
            engine.dispose()
        scenes_kept = sum(len((o or {}).get("clips", {}).get("clips", [])) for o in outputs)
        return {
            "duplicate_posts": max(0, self.youtube.created_videos - len(published)),
            "duplicate_paid_jobs": max(0, len(self.runway.jobs) - scenes_kept),
            "lost_snapshots": len({r[0] for r in published} - snapshotted),
            "orphans": len(self._orphans()),
            "leftover_processes": len(self._leftover_processes()),
            "stuck_rows": int(stuck_publish) + int(stuck_videos),
        }

    def _orphans(self) -> list[Path]:
        partials = [p for p in self.data_dir.rglob("*") if ".partial" in p.name]
        work = [p for p in Path(tempfile.gettempdir()).glob("shorts-render-*") if not _owner_alive(p)]
        return partials + work

    def _leftover_processes(self) -> list[int]:
        mine = str(self.data_dir)
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if mine in cmdline and int(entry.name) != os.getpid():
                found.append(int(entry.name))
        return found


def _last_step(log: Path) -> str:
    """The step a run was executing when it was killed, from its log ("start-up" before the first)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "start-up"
    marker = 'Started execution of step "'
    at = text.rfind(marker)
    return text[at + len(marker) :].split('"', 1)[0] if at >= 0 else "start-up"


def _owner_alive(folder: Path) -> bool:
    """Work folders are named after their owner's pid (…-<pid>-…); unknown names count as alive."""
    for part in folder.name.split("-"):
        if part.isdigit():
            try:
                os.kill(int(part), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
    return True
