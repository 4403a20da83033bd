"""How close the loop runs to the encoder's floor.

Part `a`: one batch of videos (3 by default), `final` profile, through the shipped `shorts_loop_job`
in this one process, with the offline providers, in a temporary data root (its own SQLite database
and Dagster instance). The wall time runs from before the definitions are imported (the fixed cost
of a run: imports, definitions, resources) to the end of the run. Afterwards, in the same process,
each finished short's x264 floor is measured as `render_bench.py` measures it: its frames decoded
beforehand to a raw file, then encoded with the profile's settings and nothing else. The ratio of
the wall time to the sum of the floors is `loop_over_floor`; each step's share is printed beside it.

    .venv/bin/python benchmarks/loop_bench.py --part a

Part `b`: a backfill on 1 and then 2 Celery workers, its overhead beside the work (`cluster_bench.py`).

    .venv/bin/python benchmarks/loop_bench.py --part b --channels 2 --dates 2
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))
sys.path.insert(0, str(BENCHMARKS))

# What the offline loop needs set; everything else is unset so that no real provider is reached.
OFFLINE = {
    "SCRIPT_PROVIDER": "template",
    "VIDEO_GEN_PROVIDER": "stub",
    "TTS_PROVIDER": "espeak",
    "RENDERER_PROVIDER": "ffmpeg",
}
CLEARED = ("DATABASE_URL", "SHORTS_CHANNELS", "PUBLISHER_YOUTUBE", "PUBLISHER_TIKTOK", "PUBLISHER_INSTAGRAM")


def offline_environment(root: Path, videos: int, profile: str) -> None:
    """Point the loop at a fresh data root under `root` with one channel of `videos` per day."""
    channels = root / "channels.json"
    channels.write_text(json.dumps({"channels": [{"name": "demo", "videos_per_day": videos}]}))
    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ.update(
        OFFLINE,
        SHORTS_DATA_DIR=str(root / "data"),
        SHORTS_CHANNELS_FILE=str(channels),
        RENDER_PROFILE=profile,
    )


def part_a(args: argparse.Namespace) -> str:
    """One batch, final profile, in this process: its wall time over the sum of its renders' x264 floors."""
    root = Path(tempfile.mkdtemp(prefix="loop-bench-"))
    offline_environment(root, args.videos, "final")
    day = date.fromisoformat(args.date)

    started, cpu_started = time.perf_counter(), cpu_s()
    import dagster as dg

    from shorts_assets.definitions import defs

    job = defs().resolve_job_def("shorts_loop_job")
    loaded_s = time.perf_counter() - started
    (root / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance, CpuSampler() as cpu:
        result = job.execute_in_process(
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}), instance=instance
        )
        wall_s, loop_cpu_s = time.perf_counter() - started, cpu_s() - cpu_started
        if not result.success:
            raise SystemExit(f"{day}: the loop failed")
        stats = [s for s in instance.get_run_step_stats(result.run_id) if s.end_time and s.start_time]
        steps = {s.step_key: s.end_time - s.start_time for s in stats}
        step_cpu = {s.step_key: cpu.between(s.start_time, s.end_time) for s in stats}

    from shorts_assets.db.store import Store
    from shorts_assets.loop.stages import RENDER_STAGE
    from shorts_assets.providers.render.ffmpeg import PROFILES
    from shorts_assets.settings import load_settings

    rows = Store(load_settings().database_url).batch("demo", day)
    renders = [r.outputs[RENDER_STAGE] for r in rows if RENDER_STAGE in r.outputs]
    if len(renders) != args.videos:
        raise SystemExit(f"{len(renders)} of {args.videos} videos were rendered")
    measured = [encoder_floor(PROFILES["final"], Path(r["video_path"]), root, args.repeat) for r in renders]
    floors, floor_cpus = [wall for wall, _ in measured], [cpu for _, cpu in measured]
    video_s = sum(r["duration_s"] for r in renders)

    for key, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"step {key}: {seconds:.2f} s, CPU {step_cpu[key]:.1f} s")
    step_s = sum(steps.values())
    print(f"definitions load {loaded_s:.2f} s; outside any step {wall_s - loaded_s - step_s:.2f} s")
    print(f"x264 floors: {', '.join(f'{f:.2f}' for f in floors)} s for {video_s:.1f} s of video")
    print(f"CPU: the loop {loop_cpu_s:.1f} s, its floors {sum(floor_cpus):.1f} s (this process and its children)")
    print("load average " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    if not args.keep:
        _remove(root)
    else:
        print(f"kept {root}")
    floor_s = sum(floors)
    render_s = steps.get("renders", 0.0)
    return (
        f"RESULT part=a videos={args.videos} video_s={video_s:.1f} wall_s={wall_s:.2f} floors_s={floor_s:.2f} "
        f"loop_over_floor={wall_s / floor_s:.3f} load_s={loaded_s:.2f} clips_s={steps.get('clips', 0.0):.2f} "
        f"renders_s={render_s:.2f} render_over_floor={render_s / floor_s:.3f} "
        f"render_check_s={sum(v for k, v in steps.items() if 'render_quality' in k):.2f} "
        f"cpu_over_floor={loop_cpu_s / sum(floor_cpus):.3f}"
    )


class CpuSampler:
    """CPU seconds of this process and its children sampled against the clock, to share among steps.

    A child's CPU counts when it is reaped, so a step's share includes the processes it waited for.
    """

    def __init__(self, every_s: float = 0.1) -> None:
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), cpu_s()))
            self._stop.wait(self.every_s)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), cpu_s()))

    def at(self, when: float) -> float:
        times = [t for t, _ in self.samples]
        index = min(bisect.bisect_left(times, when), len(self.samples) - 1)
        return self.samples[index][1]

    def between(self, start: float, end: float) -> float:
        return self.at(end) - self.at(start)


def cpu_s() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def encoder_floor(profile, video: Path, work: Path, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """x264 alone re-encoding `video`'s frames with `profile`'s settings, as `render_bench.py` measures it:
    the frames decoded beforehand to a raw file, then encoded and thrown away. The median wall seconds
    and CPU seconds of `repeat` encodes."""
    from render_bench import encoder_args

    from shorts_assets.providers.media import ffmpeg_exe

    frames = work / "frames.yuv"
    decode = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(video), "-an", "-pix_fmt", "yuv420p"]
    subprocess.run([*decode, "-f", "rawvideo", str(frames)], check=True)
    encode = [ffmpeg_exe(), "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    encode += ["-s", f"{profile.width}x{profile.height}", "-r", str(profile.fps), "-i", str(frames)]
    encode += [*encoder_args(profile), "-f", "null", "-"]
    walls, cpus = [], []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            process = subprocess.Popen(encode, stdin=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.perf_counter() - started)
            cpus.append(usage.ru_utime + usage.ru_stime)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(f"the floor's encode of {video} failed")
    finally:
        frames.unlink(missing_ok=True)
    return statistics.median(walls), statistics.median(cpus)


def _remove(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    root.rmdir()


# Each part is a mode of its own, run alone: `--part a`.
def part_b(args: argparse.Namespace) -> str:
    from cluster_bench import part_b as backfill_on_workers  # beside this file; it needs Redis and PostgreSQL

    return backfill_on_workers(args)


PARTS: dict[str, Callable[[argparse.Namespace], str]] = {"a": part_a, "b": part_b}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), default="a")
    parser.add_argument("--videos", type=int, default=3, help="part a: videos in the batch")
    parser.add_argument("--date", default=(date.today() - timedelta(days=1)).isoformat(), help="part a: the batch")
    parser.add_argument("--repeat", type=int, default=1, help="part a: timed encodes per floor (median)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--channels", type=int, default=2, help="part b: channels of the backfill")
    parser.add_argument("--dates", type=int, default=2, help="part b: dates of the backfill")
    parser.add_argument("--videos-per-day", type=int, default=2, help="part b: videos per batch")
    parser.add_argument("--timeout", type=float, default=1800, help="part b: how long the backfill may take")
    args = parser.parse_args()
    print(PARTS[args.part](args))


if __name__ == "__main__":
    main()
