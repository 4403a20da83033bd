"""Time the renderer against one hand-written ffmpeg command that makes the same short.

The composition is fixed: three 10-second procedural clips (starfield, waves, meadow), real espeak
narration padded to 29.4 s (30 s with the renderer's tail), word-highlighted captions, the generated
music bed ducked under the narration, cross-fades, loudness normalisation and a thumbnail. Both
sides produce the same contract (1080x1920@30 H.264 High yuv420p, AAC 48 kHz stereo, faststart,
JPEG thumbnail) with the same encoder settings; they run alternately, several times, in one process.
The raw command is written for these inputs: it fits no clip that already has the output size,
blends only the overlapping frames of each cross-fade, and filters the audio in a graph of its own.
The renderer makes the picture in one ffmpeg run while others mix the sound, measure its loudness
and encode it normalised with that measurement, then joins the two by stream copy; the single raw
command normalises in one pass (less exactly). Peak RSS is the largest resident set of any process
the renderer ran (each render runs in a forked child, so clip drawing and the raw command are not
counted); the raw command's own peak is printed beside it.

The encoder sets a floor no renderer of this output can go below: after the timed runs, the
renderer's finished frames are decoded once to a raw file and encoded again with the profile's
x264 settings and nothing else (no decoding, filtering or sound). Its median is `x264_floor_s`,
and `max_realtime_x` is the speed a renderer would reach on this machine if everything but
encoding cost nothing.

    .venv/bin/python benchmarks/render_bench.py --repeat 3 --profile final
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import statistics
import subprocess
import tempfile
import time
import traceback
from pathlib import Path

NARRATION = (
    "Did you know that the ocean holds more history than all the museums of the world combined? "
    "Deep under the waves, ships from every century rest in the dark, and most of them have never "
    "been seen by anyone. Scientists think there are three million wrecks down there. Some carried "
    "gold, some carried spices, and some carried nothing but the people who sailed them. Every year "
    "new sonar maps reveal a few more. Follow for more strange facts about the sea."
)
SCENES = (("starfield", 10.0), ("waves", 10.0), ("meadow", 10.0))
SHORT_S = 30.0


def _escape_filter_path(path: Path) -> str:
    """A path as a filter option value inside a filtergraph (two levels of escaping)."""
    value = str(path.resolve())
    for char in ("\\", ":", "'"):
        value = value.replace(char, "\\" + char)
    for char in ("\\", "'", "[", "]", ",", ";"):
        value = value.replace(char, "\\" + char)
    return value


def encoder_args(profile) -> list[str]:  # type: ignore[no-untyped-def]
    """The renderer's video encoder options for `profile`, as command-line arguments."""
    from shorts_assets.providers.render.ffmpeg import video_encoder_options

    return [arg for name, value in video_encoder_options(profile).items() for arg in (f"-{name}", str(value))]


def video_frames(path: Path) -> int:
    """Video packets in `path`, counted without decoding."""
    from shorts_assets.providers.media import ffmpeg_exe

    listing = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(1 for line in listing.splitlines() if line and not line.startswith("#"))


def in_child(work):  # type: ignore[no-untyped-def]
    """(work(), its seconds, the largest RSS in MB of the processes it ran), from a forked child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        status = 0
        try:
            started = time.perf_counter()
            result = work()
            elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump((result, elapsed, peak), pipe)
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status or not payload:
        raise SystemExit("the render failed")
    return pickle.loads(payload)


def timed_command(command: list[str]) -> tuple[float, float]:
    """Run `command`; return its seconds and its peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"ffmpeg exited with status {process.returncode}: {command}")
    return elapsed, usage.ru_maxrss / 1024


def raw_command(
    renderer, clips, voice_path: Path, ass_path: Path, total_s: float, video_id: str, out: Path, thumb: Path
) -> list[str]:
    """The hand-written equivalent of the renderer's run, as one ffmpeg command line."""
    from shorts_assets.providers.media import ffmpeg_exe, fonts_dir
    from shorts_assets.providers.render.ffmpeg import DUCKING, LOUDNORM, MUSIC_GAIN, SAMPLE_RATE, THUMBNAIL_AT_S
    from shorts_assets.providers.render.layout import segment_frames, transition_frames
    from shorts_assets.providers.render.music import generated_bed_source

    p = renderer.profile
    total_frames = round(total_s * p.fps)
    counts = segment_frames([d for _, d in SCENES], total_frames)
    overlap = transition_frames(counts, round(renderer.transition_s * p.fps))
    frames = [c + (overlap if i < len(counts) - 1 else 0) for i, c in enumerate(counts)]
    last = len(frames) - 1
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    for clip, count in zip(clips, frames):
        threads = ["-threads", "1"] if clip.width * clip.height <= p.width * p.height else []
        args += [*threads, "-t", f"{count / p.fps + 0.25:.3f}", "-i", str(clip.path)]
    args += ["-i", str(voice_path), "-f", "lavfi", "-i", generated_bed_source(video_id, total_s)]
    graph, pieces = [], []
    for index, (clip, count) in enumerate(zip(clips, frames)):
        fit = ""
        if (clip.width, clip.height) != (p.width, p.height):
            fit = (
                f"crop=min(iw\\,ih*{p.width}/{p.height}):min(ih\\,iw*{p.height}/{p.width}),"
                f"scale={p.width}:{p.height}:force_original_aspect_ratio=increase:"
                f"flags={p.scaler},crop={p.width}:{p.height},"
            )
        # Each clip but the last runs into the next one's cross-fade: hold its last frame.
        short_s = count / p.fps - SCENES[index][1]
        hold = f"tpad=stop_mode=clone:stop_duration={max(short_s, 0) + 2 / p.fps:.3f}," if short_s > -2 / p.fps else ""
        parts = (["head"] if index else []) + ["body"] + (["tail"] if index < last else [])
        graph.append(
            f"[{index}:v]{fit}format=yuv420p,fps={p.fps},{hold}setsar=1,trim=end_frame={count},"
            f"setpts=PTS-STARTPTS,split={len(parts)}" + "".join(f"[{n}{index}]" for n in parts)
        )
        body = (overlap if index else 0, count - overlap if index < last else count)
        bounds = {"head": (0, overlap), "body": body, "tail": (count - overlap, count)}
        for name in parts:
            start, end = bounds[name]
            graph.append(
                f"[{name}{index}]trim=start_frame={start}:end_frame={end},setpts=PTS-STARTPTS[{name[0]}{index}]"
            )
        if index:
            graph.append(
                f"[t{index - 1}][h{index}]xfade=transition=fade:"
                f"duration={overlap / p.fps:.6f}:offset=0,format=yuv420p[x{index}]"
            )
            pieces.append(f"[x{index}]")
        pieces.append(f"[b{index}]")
    thumb_frame = round(THUMBNAIL_AT_S * p.fps)
    graph.append(
        f"{''.join(pieces)}concat=n={len(pieces)}:v=1:a=0,settb=1/{p.fps},"
        f"ass=filename={_escape_filter_path(ass_path)}:fontsdir={_escape_filter_path(fonts_dir())},"
        f"split[main][still]"
    )
    graph.append(f"[main]trim=end_frame={total_frames}[vout]")
    graph.append(
        f"[still]trim=start_frame={thumb_frame}:end_frame={thumb_frame + 1},scale=out_range=full,format=yuvj420p[thumb]"
    )
    voice_in, bed_in = len(frames), len(frames) + 1
    total = f"{total_s:.6f}"
    ducking = ":".join(f"{k}={v}" for k, v in DUCKING.items())
    loudnorm = ":".join(f"{k}={v}" for k, v in LOUDNORM.items())
    sound = [
        f"[{voice_in}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"apad=whole_dur={total},atrim=end={total},asplit[speech][key]",
        f"[{bed_in}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"apad=whole_dur={total},atrim=end={total},volume={MUSIC_GAIN},afade=t=in:d=0.4,"
        f"afade=t=out:st={max(0.0, total_s - 1.0):.3f}:d=1.0[bed]",
        f"[bed][key]sidechaincompress={ducking}[ducked]",
        f"[speech][ducked]amix=inputs=2:duration=first:normalize=0,loudnorm={loudnorm},"
        f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"atrim=end={total}[aout]",
    ]
    # Two graphs: each runs in its own thread.
    args += ["-filter_complex", ";".join(graph), "-filter_complex", ";".join(sound)]
    args += [
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        *encoder_args(p),
        "-r",
        str(p.fps),
        "-c:a",
        "aac",
        "-aac_coder",
        "fast",
        "-b:a",
        p.audio_bitrate,
        "-ar",
        str(SAMPLE_RATE),
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]
    args += ["-map", "[thumb]", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", str(thumb)]
    return args


def encoder_floor(renderer, video: Path, work: Path, repeat: int) -> float:
    """Median seconds x264 takes to encode `video`'s frames, decoded beforehand, alone."""
    from shorts_assets.providers.media import ffmpeg_exe

    p = renderer.profile
    frames = work / "frames.yuv"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-i",
            str(video),
            "-an",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            str(frames),
        ],
        check=True,
    )
    encode = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-nostdin",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{p.width}x{p.height}",
        "-r",
        str(p.fps),
        "-i",
        str(frames),
        *encoder_args(p),
        "-f",
        "null",
        "-",
    ]
    try:
        return statistics.median(timed_command(encode)[0] for _ in range(repeat))
    finally:
        frames.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", default="final")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()

    from shorts_assets.core.types import Scene, Script, Voiceover
    from shorts_assets.providers.clips.procedural import ProceduralClips
    from shorts_assets.providers.media import probe, run_ffmpeg
    from shorts_assets.providers.render.ffmpeg import TAIL_S, FfmpegRenderer, write_ass
    from shorts_assets.providers.render.quality import check_render
    from shorts_assets.providers.voices.espeak import EspeakVoice

    root = Path(tempfile.mkdtemp(prefix="render-bench-"))
    script = Script(
        video_id="bench-20260101-01",
        title="Wrecks",
        hook="Did you know?",
        narration=NARRATION,
        description="",
        scenes=tuple(Scene(prompt=v, duration_s=d, visual=v) for v, d in SCENES),
        tags=(),
        arms={"caption_style": "bold_yellow"},
    )
    clips = ProceduralClips().generate(script, root / "clips")
    spoken = EspeakVoice().synthesize(NARRATION, "en-us", root / "spoken.wav")
    voice_s = SHORT_S - TAIL_S
    if spoken.duration_s > voice_s:
        raise SystemExit(f"the narration lasts {spoken.duration_s:.1f} s, over {voice_s} s")
    voice_path = root / "voice.wav"
    run_ffmpeg(
        ["-i", f"file:{spoken.audio_path}", "-af", f"apad=whole_dur={voice_s}", f"file:{voice_path}"],
        "padding the narration",
    )
    voiceover = Voiceover(
        audio_path=voice_path,
        duration_s=voice_s,
        sample_rate=spoken.sample_rate,
        voice=spoken.voice,
        words=spoken.words,
    )

    renderer = FfmpegRenderer(profile=args.profile)
    total_s = round(SHORT_S * renderer.profile.fps) / renderer.profile.fps
    ass_path = root / "raw.ass"
    write_ass(ass_path, voiceover.words, "bold_yellow", total_s)
    raw = raw_command(
        renderer, clips, voice_path, ass_path, total_s, script.video_id, root / "raw.mp4", root / "raw.jpg"
    )

    renderer_s, raw_s, renderer_peaks, raw_peaks = [], [], [], []
    for attempt in range(args.repeat):
        result, seconds, peak = in_child(lambda: renderer.render(clips, voiceover, script, root / "short.mp4"))
        renderer_s.append(seconds)
        renderer_peaks.append(peak)
        seconds, peak = timed_command(raw)
        raw_s.append(seconds)
        raw_peaks.append(peak)
        print(f"run {attempt + 1}: renderer {renderer_s[-1]:.2f} s, raw ffmpeg {raw_s[-1]:.2f} s", flush=True)

    for path in (result.video_path, root / "raw.mp4"):
        count = video_frames(path)
        if count != round(total_s * renderer.profile.fps):
            raise SystemExit(f"{path} has {count} frames, not {round(total_s * renderer.profile.fps)}")
    ours, theirs = probe(result.video_path), probe(root / "raw.mp4")
    for name, info in (("renderer", ours), ("raw ffmpeg", theirs)):
        print(
            f"{name}: {info.width}x{info.height}@{info.fps} {info.video_codec} "
            f"{info.video_profile} {info.pix_fmt} {info.audio_codec} {info.sample_rate} Hz "
            f"{info.audio_channels} ch {info.duration_s:.2f} s"
        )
    for name, path in (("renderer", result.video_path), ("raw ffmpeg", root / "raw.mp4")):
        failed = [
            f"{check}: {detail}"
            for check, passed, detail in check_render(
                path, width=renderer.profile.width, height=renderer.profile.height
            )
            if not passed
        ]
        print(f"{name} checks: {'; '.join(failed) or 'all passed'}")
    floor_s = encoder_floor(renderer, result.video_path, root, args.repeat)
    if not args.keep:
        for path in sorted(root.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        root.rmdir()
    else:
        print(f"kept {root}")
    renderer_median, raw_median = statistics.median(renderer_s), statistics.median(raw_s)
    peak_mb = max(renderer_peaks)
    print(
        f"raw ffmpeg peak RSS {max(raw_peaks):.0f} MB; load average "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print(
        f"RESULT renderer_s={renderer_median:.2f} raw_ffmpeg_s={raw_median:.2f} "
        f"ratio={renderer_median / raw_median:.3f} realtime_x={SHORT_S / renderer_median:.2f} "
        f"peak_rss_mb={peak_mb:.0f} x264_floor_s={floor_s:.2f} "
        f"max_realtime_x={SHORT_S / floor_s:.2f}"
    )


if __name__ == "__main__":
    main()
