"""The user's own media library (``VIDEO_GEN_PROVIDER=library``): clips and images in a folder, matched
to scenes by their tags.

A file's tags are the words of its name (``octopus_coral-reef.mp4`` is tagged octopus, coral, reef)
and, when a sidecar ``<file>.json`` holds ``{"tags": [...], "author": ..., "licence": ...}``, the
sidecar's tags too; its author and licence go into the clip's credit. A scene is matched by its
keywords (else the content words of its prompt): the file sharing the most words with them wins;
ties go to video over still, then to the file's path in sorting order, so the choice is the same on
every run. A file is used at most once per video. The chosen file is copied to ``scene_NN.<ext>``
atomically; images come back as stills, which the renderer animates with a slow zoom.

A missing folder is a hard error (the configuration is wrong). A folder with no usable file, no
file sharing a word with the scene, or only unreadable matches is a ``NoMatch`` naming the folder
and the files and why: on its own it fails the scene with that message, in a chain the next
provider serves the scene. Sub-folders are searched; hidden files and sidecars are not media.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Clip, Script
from shorts_assets.providers.clips.chain import NoMatch, check_scene, generate_scenes, scene_path
from shorts_assets.providers.clips.terms import scene_terms, term_words, words
from shorts_assets.providers.media import atomic_output, probe

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})  # what the renderer takes as stills
DEFAULT_LICENCE = "the channel's own media"


@dataclass(frozen=True)
class LibraryFile:
    path: Path
    relative: str  # its path inside the library, the clip id
    tags: frozenset[str]
    still: bool
    author: str
    licence: str


def _sidecar(path: Path) -> tuple[list[str], str, str]:
    """The tags, author and licence of ``<file>.json``; ValueError naming it when it is malformed."""
    sidecar = path.with_name(path.name + ".json")
    if not sidecar.is_file():
        return [], "", ""
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"its sidecar {sidecar.name} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"its sidecar {sidecar.name} is not a JSON object")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"its sidecar {sidecar.name} has tags that are not a list of strings")
    author, licence = data.get("author", ""), data.get("licence", data.get("license", ""))
    if not isinstance(author, str) or not isinstance(licence, str):
        raise ValueError(f"its sidecar {sidecar.name} has an author or licence that is not a string")
    return tags, author, licence


class MediaLibrary(Closing):
    """A ClipGenerator and scene source over a folder of the user's clips and images."""

    name = "library"

    def __init__(self, folder: str | Path) -> None:
        if not str(folder).strip():
            raise ProviderError("VIDEO_GEN_PROVIDER=library needs the folder of the media library")
        self.folder = Path(folder).expanduser()

    def scan(self) -> tuple[list[LibraryFile], list[str]]:
        """The library's media files with their tags, and why each other candidate was left out."""
        if not self.folder.is_dir():
            raise ProviderError(f"the media library {self.folder} is not a folder (no such folder, or a file)")
        found, skipped = [], []
        for path in sorted(self.folder.rglob("*")):
            relative = path.relative_to(self.folder).as_posix()
            suffix = path.suffix.lower()
            if any(part.startswith(".") for part in path.relative_to(self.folder).parts) or not path.is_file():
                continue
            if suffix not in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
                continue
            try:
                extra, author, licence = _sidecar(path)
            except ValueError as exc:
                skipped.append(f"{relative}: {exc}")
                continue
            tags = frozenset(words(path.stem)) | term_words(tuple(extra))
            found.append(
                LibraryFile(path, relative, tags, suffix in IMAGE_SUFFIXES, author, licence or DEFAULT_LICENCE)
            )
        return found, skipped

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        return generate_scenes(self, script, out_dir)

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        check_scene(script, index)
        what = f"video {script.video_id}, scene {index}"
        scene = script.scenes[index - 1]
        terms = scene_terms(scene)
        wanted = term_words(terms)
        files, skipped = self.scan()
        if not files:
            reasons = f": {'; '.join(skipped)}" if skipped else ""
            raise NoMatch(
                f"{what}: the media library {self.folder} holds no usable clip or image "
                f"({', '.join(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))}){reasons}"
            )
        taken = {c.credit.get("clip_id") for c in earlier if c.credit.get("provider") == self.name}
        ranked = sorted(
            (f for f in files if f.relative not in taken and f.tags & wanted),
            key=lambda f: (-len(f.tags & wanted), f.still, f.relative),
        )
        unreadable = []
        for candidate in ranked:
            try:
                info = probe(candidate.path)
            except ProviderError as exc:
                logger.warning("%s: skipping %s of the media library: %s", what, candidate.relative, exc)
                unreadable.append(f"{candidate.relative}: {exc}")
                continue
            if not info.has_video or not info.width or not info.height:
                unreadable.append(f"{candidate.relative}: no picture in it")
                continue
            return self._copy(what, index, out_dir, candidate, info.duration_s, info.width, info.height, scene)
        keywords = ", ".join(terms) or "(no keywords)"
        if unreadable:
            raise NoMatch(
                f"{what}: every file of the media library {self.folder} matching {keywords} is unreadable: "
                + "; ".join(unreadable)
            )
        used = f" ({len(taken)} used by earlier scenes)" if taken else ""
        raise NoMatch(f"{what}: no file of the media library {self.folder} is tagged with any of {keywords}{used}")

    def _copy(self, what, index, out_dir, chosen: LibraryFile, seconds, width, height, scene) -> Clip:
        target = scene_path(out_dir, index, chosen.path.suffix)
        try:
            with atomic_output(target) as temp:
                shutil.copyfile(chosen.path, temp)
        except OSError as exc:
            raise ProviderError(f"{what}: copying {chosen.path} of the media library to {target}: {exc}") from None
        credit = {
            "provider": self.name,
            "clip_id": chosen.relative,
            "source_url": chosen.path.resolve().as_uri(),
            "author": chosen.author,
            "licence": chosen.licence,
        }
        duration = scene.duration_s if chosen.still else seconds
        return Clip(target, duration, width, height, credit)
