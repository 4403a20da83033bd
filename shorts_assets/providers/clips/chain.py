"""A chain of clip providers (``VIDEO_GEN_PROVIDER=library,pexels,stub``): each scene is served by the
first member that can serve it.

A member says it cannot serve a scene by raising ``NoMatch`` (nothing in the library is tagged for
it, the stock search found nothing unused, the provider is rate-limited for now, the image model
refused the prompt); the chain then asks the next member. Any other error is hard and fails the
video at once: a rejected or revoked key, a spent budget, a missing library folder, a download that
breaks. Those are problems a person has to fix, and quietly serving the scene from a cheaper
provider would hide them. A scene no member can serve fails the video with every member's reason.

Members that serve one scene at a time implement ``SceneSource.scene_clip``; any other
``ClipGenerator`` (the procedural and generated ones) is asked for a one-scene script and its file
is moved to ``scene_NN``. Each clip's ``credit`` names the member that served it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import ClipGenerator, Closing
from shorts_assets.core.types import Clip, Script


class NoMatch(ProviderError):
    """This provider cannot serve this scene; the next provider in a chain may."""


@runtime_checkable
class SceneSource(Protocol):
    """A clip provider that serves one scene at a time."""

    name: str

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        """The clip of scene ``index`` (1-based) at ``out_dir/scene_NN.<ext>``; ``earlier`` holds the
        clips already chosen for the video's earlier scenes (not to be used again). Raises ``NoMatch``
        when this provider has nothing for the scene."""

    def close(self) -> None: ...


def scene_path(out_dir: Path, index: int, suffix: str) -> Path:
    return Path(out_dir) / f"scene_{index:02d}{suffix.lower()}"


def check_scene(script: Script, index: int) -> None:
    if not 1 <= index <= len(script.scenes):
        raise ProviderError(f"video {script.video_id}: there is no scene {index} (it has {len(script.scenes)})")
    if script.scenes[index - 1].duration_s <= 0:
        raise ProviderError(f"video {script.video_id}, scene {index}: duration {script.scenes[index - 1].duration_s} s")


def with_provider(clip: Clip, name: str) -> Clip:
    """The clip, its credit naming ``name`` as its provider unless it names one already."""
    if clip.credit.get("provider"):
        return clip
    return dataclasses.replace(clip, credit={**clip.credit, "provider": name})


class WholeScript(Closing):
    """A ``SceneSource`` over a ClipGenerator that only generates whole scripts.

    Scene ``index`` is generated as a one-scene script whose video id is ``<video id>-sNN``, so a
    generator that keeps durable records per video and scene (the generated-video jobs) keeps one per
    scene and resumes it, and one that seeds by video (the procedural one) draws each scene its own.
    """

    def __init__(self, generator: ClipGenerator) -> None:
        self.generator = generator
        self.name = generator.name

    def close(self) -> None:
        self.generator.__exit__(None, None, None)

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        check_scene(script, index)
        one = dataclasses.replace(
            script, video_id=f"{script.video_id}-s{index:02d}", scenes=(script.scenes[index - 1],)
        )
        work = Path(out_dir) / f".{self.name}-scene_{index:02d}"
        try:
            made = self.generator.generate(one, work)
            if len(made) != 1:
                raise ProviderError(
                    f"video {script.video_id}, scene {index}: {self.name} made {len(made)} clips for one scene"
                )
            target = scene_path(out_dir, index, made[0].path.suffix)
            os.replace(made[0].path, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return with_provider(dataclasses.replace(made[0], path=target), self.name)


def as_scene_source(member: object) -> SceneSource:
    if isinstance(member, SceneSource):
        return member
    if not hasattr(member, "generate"):
        raise TypeError(f"{member!r} is neither a scene source nor a clip generator")
    return WholeScript(member)  # type: ignore[arg-type]


class ProviderChain(Closing):
    """A ClipGenerator that asks its members in order, scene by scene (see the module docstring)."""

    def __init__(self, members: Sequence[object]) -> None:
        if not members:
            raise ProviderError("a clip provider chain needs at least one provider")
        self.members = [as_scene_source(m) for m in members]
        self.name = ",".join(m.name for m in self.members)

    def close(self) -> None:
        errors = []
        for member in self.members:
            try:
                member.close()
            except Exception as exc:  # close every member, then report the first failure
                errors.append(exc)
        if errors:
            raise errors[0]

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        check_scene(script, index)
        reasons = []
        for member in self.members:
            try:
                return with_provider(member.scene_clip(script, index, out_dir, earlier), member.name)
            except NoMatch as exc:
                reasons.append(f"{member.name}: {exc}")
        raise ProviderError(
            f"video {script.video_id}, scene {index}: no provider of {self.name} could serve it: " + " | ".join(reasons)
        )

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        return generate_scenes(self, script, out_dir)


def generate_scenes(source: SceneSource, script: Script, out_dir: Path) -> list[Clip]:
    """``ClipGenerator.generate`` for a scene source alone: every scene in order, none used twice."""
    if not script.scenes:
        raise ProviderError(f"video {script.video_id}: the script has no scenes")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []
    for index in range(1, len(script.scenes) + 1):
        clips.append(source.scene_clip(script, index, out_dir, tuple(clips)))
    return clips
