"""Music beds for the renderer: a generated one by default, or a track from a folder of licensed music.

The default bed is synthesised by FFmpeg's `aevalsrc` source from a seeded chord progression (soft
sine pads, a bass note and a gentle pulse), so it is generated at render time and carries no
licence obligations. A music folder may hold audio files, each usable only with a sidecar
`<name>.license.txt` next to it (`calm.mp3` needs `calm.license.txt`); files without one are skipped
and logged.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus"})
BED_SAMPLE_RATE = 24_000
BEAT_S = 0.5
CHORD_S = 2.0

# Progressions as semitone offsets of each chord's root from the key's tonic (major key).
_PROGRESSIONS = ((0, 7, 9, 5), (0, 5, 7, 5), (9, 5, 0, 7), (0, 9, 5, 7))
# Semitone offsets of a triad over its root: major, or minor on the sixth degree.
_MAJOR = (0, 4, 7)
_MINOR = (0, 3, 7)
_TONICS_HZ = (196.00, 220.00, 246.94, 261.63, 293.66)


@dataclass(frozen=True)
class MusicTrack:
    """A licensed track from a music folder."""

    path: Path
    license_path: Path


def _seed(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


def _hz(tonic: float, semitones: int) -> float:
    return tonic * 2 ** (semitones / 12)


def generated_bed_expr(key: str) -> str:
    """An `aevalsrc` expression for a looping chord bed chosen by `key` (peak amplitude below 0.5)."""
    seed = _seed(key)
    tonic = _TONICS_HZ[seed % len(_TONICS_HZ)]
    progression = _PROGRESSIONS[(seed // 7) % len(_PROGRESSIONS)]
    chords = []
    for root in progression:
        triad = _MINOR if root == 9 else _MAJOR
        notes = [_hz(tonic, root + step) for step in triad]
        tones = "+".join(f"sin({2 * math.pi * f:.4f}*t)" for f in notes)
        bass = f"0.8*sin({2 * math.pi * _hz(tonic, root - 12):.4f}*t)"
        chords.append(f"{tones}+{bass}")
    # Nested if() evaluates only the sounding chord's oscillators, not every chord's.
    step = f"mod(floor(t/{CHORD_S:g}),{len(progression)})"
    playing = chords[-1]
    for index in range(len(chords) - 2, -1, -1):
        playing = f"if(eq({step},{index}),{chords[index]},{playing})"
    pulse = f"(0.55+0.45*exp(-5*mod(t,{BEAT_S:g})))"
    swell = f"(1-0.5*exp(-6*mod(t,{CHORD_S:g})))"
    return f"0.09*({playing})*{pulse}*{swell}"


def generated_bed_source(key: str, duration_s: float) -> str:
    """A lavfi source description that plays the generated bed for `duration_s`."""
    return f"aevalsrc=exprs='{generated_bed_expr(key)}':s={BED_SAMPLE_RATE}:d={duration_s:.3f}"


def licensed_tracks(music_dir: Path) -> list[MusicTrack]:
    """The folder's audio files that have a licence sidecar, in name order; the others are logged."""
    music_dir = Path(music_dir)
    if not music_dir.is_dir():
        log.warning("music folder %s does not exist; using the generated music bed", music_dir)
        return []
    tracks = []
    for path in sorted(music_dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        license_path = path.with_name(f"{path.stem}.license.txt")
        if not license_path.is_file() or not license_path.read_text(errors="replace").strip():
            log.warning("skipping music %s: no licence file %s next to it", path, license_path.name)
            continue
        tracks.append(MusicTrack(path=path, license_path=license_path))
    return tracks


def pick_track(music_dir: Path | None, key: str) -> MusicTrack | None:
    """A licensed track for `key` (stable for the same folder and key), or None for the generated bed."""
    if music_dir is None:
        return None
    tracks = licensed_tracks(Path(music_dir))
    if not tracks:
        log.warning("no licensed music in %s; using the generated music bed", music_dir)
        return None
    return tracks[_seed(key) % len(tracks)]
