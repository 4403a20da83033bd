"""The offline clip generator: one moving, procedurally drawn MP4 per scene, made by FFmpeg's lavfi sources.

Each `Scene.visual` names a recipe in `VISUALS`. Clips are deliberately landscape (1280x720, 25 fps,
no audio) so the renderer's cover-crop to 9:16 and its frame-rate conversion are always exercised.
Everything is deterministic given the script: the random seeds derive from the video id and the
scene index. Heavy per-pixel work happens at a quarter of the size and is scaled up, which keeps
a 25-second video's clips to several seconds on two cores, far below the render itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType

from shorts_assets.providers.interfaces import Clip, ProviderError, Script
from shorts_assets.providers.media import atomic_output, probe, run_ffmpeg

CLIP_WIDTH = 1280
CLIP_HEIGHT = 720
CLIP_FPS = 25

# Recipes are lavfi filtergraphs, str.format-ted with: w, h (clip size); lw, lh (the quarter-size
# working canvas for per-pixel work); bw, bh and bigw, bigh (a 5/4-size canvas, low and full
# resolution, for panning); cw, ch (eighth size); dx, dy, dy2 (scroll speeds of one or two working
# pixels per frame); sway (the meadow's displacement map); r (frame rate); seed (0..2**32-1) and
# phase (0..100, an offset for expressions). Static layers are drawn once and repeated with `loop`.
# Each graph ends in one unlabelled yuv420p output of w x h.
VISUALS: MappingProxyType[str, str] = MappingProxyType(
    {
        # Stars drifting past a slowly churning violet nebula.
        "starfield": (
            "nullsrc=s={w}x{h}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='st(0,mod(abs(sin(X*12.9898+Y*78.233+{phase})*43758.5453),1));"
            "if(gt(ld(0),0.9982),80+175*(ld(0)-0.9982)/0.0018,0)',"
            "loop=loop=-1:size=1,scroll=h={dx}:v={dy},format=yuv420p[stars];"
            "perlin=s={lw}x{lh}:r={r}:octaves=2:persistence=0.55:xscale=1.5:yscale=1.5:tscale=0.08:"
            "random_mode=seed:seed={seed},"
            # A navy floor keeps the sky from reading as a black frame to blackdetect.
            "lutrgb=r='35+max(0,val-110)*0.9':g='25+max(0,val-140)*0.4':b='75+max(0,val-90)*1.1',"
            "format=yuv420p,scale={w}x{h}[nebula];"
            "[nebula][stars]blend=c0_mode=lighten:c1_mode=normal:c2_mode=normal"
        ),
        # Swell rolling towards the viewer under perlin chop, in deep blue.
        "waves": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='128+90*sin(2*PI*(6*Y/H+0.35*sin(2*PI*2*X/W+{phase})))',"
            "loop=loop=-1:size=1,scroll=h={dx}:v=-{dy}[swell];"
            "perlin=s={lw}x{lh}:r={r}:octaves=2:persistence=0.5:xscale=2:yscale=7:tscale=0.5:"
            "random_mode=seed:seed={seed},format=gray[chop];"
            "[swell][chop]blend=all_mode=average,"
            "lutrgb=r='val*0.12':g='25+val*0.55':b='70+val*0.72',"
            "format=yuv420p,scale={w}x{h}"
        ),
        # Aged, ruled paper panned slowly under a vignette.
        "parchment": (
            "perlin=s={bw}x{bh}:r={r}:octaves=4:persistence=0.65:xscale=5:yscale=5:"
            "random_mode=seed:seed={seed},trim=end_frame=1,"
            "geq=lum='clip(lum(X,Y)*0.8+40-28*lt(mod(Y+{phase},18),1.2),0,255)',"
            "lutrgb=r='140+val*0.45':g='105+val*0.42':b='55+val*0.35',"
            "format=yuv420p,scale={bigw}x{bigh},loop=loop=-1:size=1,"
            "crop=w={w}:h={h}:x='(iw-ow)*(0.5+0.5*sin(t*0.3+{phase}))':"
            "y='(ih-oh)*(0.5+0.5*cos(t*0.23+{phase}))',"
            "vignette=angle=PI/4.5"
        ),
        # Big and small bubbles rising through teal liquid at different speeds.
        "bubbles": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='st(0,floor(X/32));st(1,5+mod(ld(0)*7+{seed},6));"
            "st(2,hypot(mod(X,32)-16,mod(Y+ld(0)*17,45)-22));"
            "if(lt(ld(2),ld(1)),if(gt(ld(2),ld(1)-1.8),150,45),0)',"
            "loop=loop=-1:size=1,scroll=v={dy2}[big];"
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='st(0,floor(X/16));st(1,3+mod(ld(0)*5+{seed},3));"
            "st(2,hypot(mod(X,16)-8,mod(Y+ld(0)*11,20)-10));"
            "if(lt(ld(2),ld(1)),if(gt(ld(2),ld(1)-1.2),110,30),0)',"
            "loop=loop=-1:size=1,scroll=v={dy}[small];"
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='40+70*Y/H',loop=loop=-1:size=1[liquid];"
            "[big][small]blend=all_mode=lighten[both];"
            "[liquid][both]blend=all_mode=addition,"
            "lutrgb=r='val*0.55':g='val*0.95':b='min(255,val*1.1)',"
            "format=yuv420p,scale={w}x{h}"
        ),
        # Blue sky over rolling hills of grass swaying in the wind.
        "meadow": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gbrp,"
            "geq="
            "r='if(lt(Y,H*0.42+7*sin(X/23+{phase})),120+Y*0.6,45+30*sin(X*1.1+sin(X/7)))':"
            "g='if(lt(Y,H*0.42+7*sin(X/23+{phase})),180+Y*0.4,120+55*sin(X*1.1+sin(X/7))+Y*0.2)':"
            "b='if(lt(Y,H*0.42+7*sin(X/23+{phase})),245,35+10*sin(X*1.1+sin(X/7)))',"
            "loop=loop=-1:size=1[field];"
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gbrp,"
            "geq=r='{sway}':g='{sway}':b='{sway}',"
            "loop=loop=-1:size=1,scroll=h={dx}[sway];"
            "color=c=0x808080:s={lw}x{lh}:r={r},format=gbrp[still];"
            "[field][sway][still]displace=edge=smear,"
            "format=yuv420p,scale={w}x{h}"
        ),
        # A soft rotating colour gradient with a slow hue cycle: a backdrop for titles.
        "title_card": (
            "gradients=s={lw}x{lh}:r={r}:n=3:c0=0x1b1464:c1=0xc2185b:c2=0xff9800:"
            "speed=0.015:seed={seed},"
            "hue=h='8*t+{phase}',format=yuv420p,scale={w}x{h}"
        ),
        # A slow zoom into the Mandelbrot set.
        "fractal": (
            "mandelbrot=s={lw}x{lh}:r={r}:maxiter=96:start_scale=2.4:end_scale=0.3:end_pts=300:"
            "start_x=-0.743643887037151:start_y=0.131825904205330:"
            "inner=mincol:outer=normalized_iteration_count,"
            "format=yuv420p,scale={w}x{h}"
        ),
        # Game-of-life cells leaving coloured mould behind.
        "cells": (
            "life=s={cw}x{ch}:r={r}:ratio=0.25:seed={seed}:mold=10:"
            "life_color=0xf5f5dc:death_color=0x0b3d2e:mold_color=0x2e8b57,"
            "format=yuv420p,scale={w}x{h}:flags=neighbor"
        ),
    }
)


def _seed(video_id: str, index: int) -> int:
    digest = hashlib.sha256(f"{video_id}\x00{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def visual_graph(visual: str, seed: int, *, width: int = CLIP_WIDTH, height: int = CLIP_HEIGHT,
                 fps: int = CLIP_FPS) -> str:
    """The lavfi filtergraph that draws `visual`; ProviderError if there is no such recipe."""
    recipe = VISUALS.get(visual)
    if recipe is None:
        raise ProviderError(f"unknown visual {visual!r}; known: {', '.join(sorted(VISUALS))}")
    low_w, low_h = width // 4, height // 4
    return recipe.format(
        w=width,
        h=height,
        lw=low_w,
        lh=low_h,
        bw=low_w * 5 // 4,
        bh=low_h * 5 // 4,
        bigw=width * 5 // 4 // 2 * 2,
        bigh=height * 5 // 4 // 2 * 2,
        cw=width // 8,
        ch=height // 8,
        dx=f"{1 / low_w:.8f}",
        dy=f"{1 / low_h:.8f}",
        dy2=f"{2 / low_h:.8f}",
        sway="128+4*sin(2*PI*2*X/W)*clip((Y-H*0.45)/H*2,0,1)",
        r=fps,
        seed=seed,
        phase=f"{(seed % 10_000) / 100:.2f}",
    )


def _frames(duration_s: float, fps: int) -> int:
    return max(1, round(duration_s * fps))


class ProceduralClips:
    """ClipGenerator that draws each scene's visual with FFmpeg, offline."""

    def __init__(self, width: int = CLIP_WIDTH, height: int = CLIP_HEIGHT, fps: int = CLIP_FPS):
        self.width = width
        self.height = height
        self.fps = fps

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        if not script.scenes:
            raise ProviderError(f"video {script.video_id}: the script has no scenes to draw")
        for index, scene in enumerate(script.scenes, start=1):
            if scene.visual not in VISUALS:
                raise ProviderError(
                    f"video {script.video_id}, scene {index}: unknown visual {scene.visual!r}; "
                    f"known: {', '.join(sorted(VISUALS))}"
                )
            if scene.duration_s <= 0:
                raise ProviderError(
                    f"video {script.video_id}, scene {index}: duration {scene.duration_s} s"
                )
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        clips = []
        for index, scene in enumerate(script.scenes, start=1):
            path = out_dir / f"scene_{index:02d}.mp4"
            frames = _frames(scene.duration_s, self.fps)
            clip = self._existing(path, frames) or self._draw(script, index, path, frames)
            clips.append(clip)
        return clips

    def _existing(self, path: Path, frames: int) -> Clip | None:
        """The clip already at `path` if it is a complete, matching earlier result."""
        if not path.is_file():
            return None
        try:
            info = probe(path)
        except ProviderError:
            return None
        expected_s = frames / self.fps
        if (
            not info.has_video
            or (info.width, info.height) != (self.width, self.height)
            or abs(info.duration_s - expected_s) > 1.5 / self.fps
        ):
            return None
        return Clip(path=path, duration_s=info.duration_s, width=self.width, height=self.height)

    def _draw(self, script: Script, index: int, path: Path, frames: int) -> Clip:
        scene = script.scenes[index - 1]
        graph = visual_graph(scene.visual, _seed(script.video_id, index),
                             width=self.width, height=self.height, fps=self.fps)
        with atomic_output(path) as temp_path:
            run_ffmpeg(
                [
                    "-f", "lavfi", "-i", graph,
                    "-frames:v", str(frames),
                    "-an",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23",
                    "-pix_fmt", "yuv420p",
                    "-r", str(self.fps),
                    "-movflags", "+faststart",
                    "-f", "mp4",
                    f"file:{temp_path.resolve()}",
                ],
                f"video {script.video_id}: drawing scene {index} ({scene.visual}) into {path}",
            )
            info = probe(temp_path)
        return Clip(path=path, duration_s=info.duration_s, width=info.width or self.width,
                    height=info.height or self.height)
