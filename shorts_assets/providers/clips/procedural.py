"""The offline clip generator: one moving, procedurally drawn MP4 per scene, made by FFmpeg's lavfi sources.

Each `Scene.visual` names a recipe in `VISUALS`. Clips come out at the size and rate of the shorts
they are for (the render profile's: 1080x1920 for final, 540x960 for draft; 30 fps, no audio), so the
renderer uses them as they are, and encoded as cheaply as x264 allows while staying faithful
(ultrafast, CRF 17: measured against lossless, which is cheaper only on smooth pictures and several
times larger on detailed ones). A clip of another size is never reused. Everything is
deterministic given the script: the random seeds derive from the video id and the scene index.
A clip is checked to hold every frame drawn before it is moved into place; one already in place is
kept only when it reads through to its end.

The pictures are built to be cheap to draw and to encode, like natural footage and unlike noise:
smooth fields computed once at a quarter of the size and scaled up, sharp detail drawn once, and
motion as whole layers gliding by whole pixels (a still, tiled twice and cropped at a moving
offset), over parts of the frame that stay still. Only `fractal` and `cells` change every frame.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from types import MappingProxyType

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Clip, Script
from shorts_assets.providers.media import atomic_output, run_ffmpeg, verify_complete

CLIP_WIDTH = 1080
CLIP_HEIGHT = 1920
CLIP_FPS = 30
# The renderer decodes every frame: high quality, and the cheapest stream to decode.
CLIP_PRESET = "ultrafast"
CLIP_CRF = 17

# A vertical field that repeats exactly every H rows (only whole cycles of Y/H), in 0..1.
_NEBULA = "clip(0.5+0.3*sin(2*PI*2*Y/H+2.5*sin(2*PI*0.6*X/W+{phase}))+0.25*sin(2*PI*(3*Y/H+0.8*X/W)+1.7*{phase}),0,1)"

# Sparse stars: bright 2x2 ones and faint single pixels, from a hash of the position.
_STARS = (
    "st(0,mod(abs(sin(floor(X/2)*12.9898+floor(Y/2)*78.233+{phase})*43758.5453),1));"
    "st(1,mod(abs(sin(X*39.346+Y*11.135+{phase})*24634.6345),1));"
    "if(gt(ld(0),0.9988),140+115*(ld(0)-0.9988)/0.0012,"
    "if(gt(ld(1),0.998),60+110*(ld(1)-0.998)/0.002,0))"
)
# A low sun's glow in the evening sky, 0..1.
_GLOW = "st(0,exp(-(pow(X-0.68*W,2)+pow(2.2*(Y-H),2))/(0.05*W*W)))"
# Swell lines, 5 to the band's height: ld(0) the body, ld(1) a sharper crest highlight.
_SWELL = (
    "st(0,0.5+0.5*sin(2*PI*(5*Y/H+0.3*sin(2*PI*1.5*X/W+{phase})+0.1*sin(2*PI*3*X/W+2*{phase}))));st(1,pow(ld(0),5))"
)
# A mountain ridge's opacity (255 below its outline), in a band of height H at the bottom.
_RIDGE = (
    "255*clip((Y-H*(0.42+0.16*sin(2*PI*1.3*X/W+{phase})+0.07*sin(2*PI*3.7*X/W+2*{phase})+0.02*sin(2*PI*11*X/W)))/2,0,1)"
)


def _puff(cx: float, cy: float, height: float, width: float) -> str:
    """A soft blob centred at (cx, cy) in fractions of the frame, repeating across its width."""
    sharpness = 2 / (2 * math.pi * width) ** 2
    return f"exp(-{sharpness:.2f}*(1-cos(2*PI*(X/W-{cx}-{{phase}}/100)))-pow((Y/H-{cy})/{height},2))"


# Two flat-bottomed clouds of four puffs each.
_CLOUDS = "+".join(
    _puff(*puff)
    for puff in (
        (0.20, 0.130, 0.022, 0.06),
        (0.27, 0.115, 0.035, 0.06),
        (0.34, 0.125, 0.028, 0.055),
        (0.27, 0.138, 0.016, 0.12),
        (0.68, 0.240, 0.018, 0.045),
        (0.74, 0.228, 0.026, 0.05),
        (0.80, 0.240, 0.018, 0.04),
        (0.74, 0.246, 0.012, 0.09),
    )
)
# The meadow: ld(0) far ridge and ld(1) near hills (rows), ld(2) cloud cover 0..1 (repeats across
# W); ld(3) and ld(4) how far below each outline a pixel is, 0..1 over one pixel (anti-aliasing).
_MEADOW = (
    "st(0,H*0.40+9*sin(2*PI*2*X/W+{phase})+4*sin(2*PI*5*X/W));"
    "st(1,H*0.47+11*sin(2*PI*1.5*X/W+2*{phase}));"
    f"st(2,clip(1.3*({_CLOUDS}),0,1));"
    "st(3,clip(Y-ld(0)+0.5,0,1));st(4,clip(Y-ld(1)+0.5,0,1))"
)
# Sky (with clouds) above the far ridge, the ridge, then grass darkening towards the bottom.
_MEADOW_RGB = "({sky}*(1-ld(2))+{cloud}*ld(2))*(1-ld(3))+({ridge}*(1-ld(4))+{grass}*ld(4))*ld(3)"
_MEADOW_CHANNELS = {
    "r": {
        "sky": "(105+Y*0.5)",
        "cloud": "250",
        "ridge": "(70+0.3*(Y-ld(0)))",
        "grass": "(60+8*sin(X*1.3+2*sin(X/9))-0.05*(Y-ld(1)))",
    },
    "g": {
        "sky": "(165+Y*0.35)",
        "cloud": "250",
        "ridge": "(125+0.3*(Y-ld(0)))",
        "grass": "(165+14*sin(X*1.3+2*sin(X/9))-0.25*(Y-ld(1)))",
    },
    "b": {
        "sky": "245",
        "cloud": "252",
        "ridge": "(95+0.2*(Y-ld(0)))",
        "grass": "(45+5*sin(X*1.3+2*sin(X/9))-0.05*(Y-ld(1)))",
    },
}


def _geq_rgb(prelude: str, channels: dict[str, str]) -> str:
    """A gbrp `geq` whose three expressions share `prelude` (stores into ld())."""
    return "geq=" + ":".join(f"{name}='{prelude};{value}'" for name, value in channels.items())


# Recipes are lavfi filtergraphs, str.format-ted with: w, h (clip size); lw, lh (the quarter-size
# canvas for smooth fields); bw, bh and bigw, bigh (a 5/4-size canvas, low and full resolution,
# to pan over); cw, ch (eighth size); sky_h, sea_h (the top third and the rest, in multiples of 16
# rows) and lsky_h, lsea_h (their quarters); ground_h (the bottom 30%, even); step (an even number
# of pixels a layer glides per frame); r (frame rate); seed (0..2**32-1) and phase (0..100, an
# offset for expressions).
# Stills are drawn once (`trim=end_frame=1`) and repeated with `loop`. Each graph ends in one
# unlabelled yuv420p output of w x h.
VISUALS: MappingProxyType[str, str] = MappingProxyType(
    {
        # Stars and a violet nebula drifting down behind a dark mountain ridge.
        "starfield": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gbrp,"
            + _geq_rgb(f"st(0,{_NEBULA})", {"r": "28+125*ld(0)*ld(0)", "g": "18+50*pow(ld(0),3)", "b": "68+125*ld(0)"})
            + ",scale={w}x{h}:flags=bicubic,format=yuv420p[nebula];"
            "nullsrc=s={w}x{h}:r={r},trim=end_frame=1,format=gray,"
            f"geq=lum='{_STARS}',format=yuv420p[stars];"
            # A navy floor keeps the sky from reading as a black frame to blackdetect.
            "[nebula][stars]blend=c0_mode=lighten:c1_mode=normal:c2_mode=normal,split[a][b];"
            "[a][b]vstack,loop=loop=-1:size=1,crop={w}:{h}:0:'mod(-{step}*n,{h})'[sky];"
            "color=c=0x120d22:s={w}x{ground_h}:r={r},trim=end_frame=1,format=yuva420p[rock];"
            "nullsrc=s={w}x{ground_h}:r={r},trim=end_frame=1,format=gray,"
            f"geq=lum='{_RIDGE}',format=gray[outline];"
            "[rock][outline]alphamerge,loop=loop=-1:size=1[ridge];"
            "[sky][ridge]overlay=x=0:y=H-h:format=yuv420"
        ),
        # Deep-blue swell with bright crests rolling in under a hazy evening sky.
        "waves": (
            "nullsrc=s={lw}x{lsky_h}:r={r},trim=end_frame=1,format=gbrp,"
            + _geq_rgb(
                _GLOW,
                {
                    "r": "min(255,40+185*pow(Y/H,2)+70*ld(0))",
                    "g": "min(255,70+110*pow(Y/H,1.5)+50*ld(0))",
                    "b": "140+25*Y/H+10*ld(0)",
                },
            )
            + ",scale={w}x{sky_h}:flags=bicubic,format=yuv420p,loop=loop=-1:size=1[air];"
            "nullsrc=s={lw}x{lsea_h}:r={r},trim=end_frame=1,format=gbrp,"
            + _geq_rgb(
                _SWELL, {"r": "10+25*ld(0)+150*ld(1)", "g": "40+75*ld(0)+115*ld(1)", "b": "90+95*ld(0)+65*ld(1)"}
            )
            + ",scale={w}x{sea_h}:flags=bicubic,format=yuv420p,split[a][b];"
            "[a][b]vstack,loop=loop=-1:size=1,crop={w}:{sea_h}:0:'mod(-{step}*n,{sea_h})'[sea];"
            "[air][sea]vstack"
        ),
        # Aged, ruled paper, darker towards its edges, panned slowly.
        "parchment": (
            "perlin=s={bw}x{bh}:r={r}:octaves=4:persistence=0.65:xscale=5:yscale=5:"
            "random_mode=seed:seed={seed},trim=end_frame=1,"
            "geq=lum='clip(lum(X,Y)*0.8+40-28*lt(mod(Y+{phase},18),1.2),0,255)',"
            "lutrgb=r='140+val*0.45':g='105+val*0.42':b='55+val*0.35',"
            "format=yuv420p,scale={bigw}x{bigh}:flags=bicubic,vignette=angle=PI/4.5,"
            "loop=loop=-1:size=1,"
            "crop=w={w}:h={h}:x='(iw-ow)*(0.5+0.5*sin(t*0.3+{phase}))':"
            "y='(ih-oh)*(0.5+0.5*cos(t*0.23+{phase}))'"
        ),
        # Big and small bubbles rising through teal liquid at different speeds.
        "bubbles": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='st(0,floor(X/32));st(1,5+mod(ld(0)*7+{seed},6));"
            "st(2,hypot(mod(X,32)-16,mod(Y+ld(0)*17,48)-24));"
            "if(lt(ld(2),ld(1)),if(gt(ld(2),ld(1)-1.8),150,45),0)',"
            "scale={w}x{h}:flags=bicubic,format=yuv420p,split[b1][b2];"
            "[b1][b2]vstack,loop=loop=-1:size=1,crop={w}:{h}:0:'mod(2*{step}*n,{h})'[big];"
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,"
            "geq=lum='st(0,floor(X/16));st(1,3+mod(ld(0)*5+{seed},3));"
            "st(2,hypot(mod(X,16)-8,mod(Y+ld(0)*11,20)-10));"
            "if(lt(ld(2),ld(1)),if(gt(ld(2),ld(1)-1.2),110,30),0)',"
            "scale={w}x{h}:flags=bicubic,format=yuv420p,split[s1][s2];"
            "[s1][s2]vstack,loop=loop=-1:size=1,crop={w}:{h}:0:'mod({step}*n,{h})'[small];"
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gray,geq=lum='40+70*Y/H',"
            "lutrgb=r='val*0.55':g='val*0.95':b='min(255,val*1.1)',"
            "format=yuv420p,scale={w}x{h}:flags=bicubic,loop=loop=-1:size=1[liquid];"
            "[big][small]blend=all_mode=lighten[both];"
            "[liquid][both]blend=c0_mode=addition:c1_mode=normal:c2_mode=normal"
        ),
        # Clouds drifting across a blue sky over still, rolling green hills.
        "meadow": (
            "nullsrc=s={lw}x{lh}:r={r},trim=end_frame=1,format=gbrp,"
            + _geq_rgb(_MEADOW, {name: _MEADOW_RGB.format(**parts) for name, parts in _MEADOW_CHANNELS.items()})
            + ",scale={w}x{h}:flags=bicubic,format=yuv420p,split[top][ground];"
            "[top]crop={w}:{sky_h}:0:0,split[s1][s2];"
            "[s1][s2]hstack,loop=loop=-1:size=1,crop={w}:{sky_h}:'mod({step}*n,{w})':0[sky];"
            "[ground]crop={w}:{h}-{sky_h}:0:{sky_h},loop=loop=-1:size=1[land];"
            "[sky][land]vstack"
        ),
        # A soft three-colour gradient, panned slowly: a backdrop for titles.
        "title_card": (
            "gradients=s={lw}x{lh}:r={r}:n=3:c0=0x1b1464:c1=0xc2185b:c2=0xff9800:"
            "seed={seed},trim=end_frame=1,format=yuv420p,scale={bigw}x{bigh}:flags=bicubic,"
            "loop=loop=-1:size=1,"
            "crop=w={w}:h={h}:x='(iw-ow)*(0.5+0.5*sin(t*0.25+{phase}))':"
            "y='(ih-oh)*(0.5+0.5*cos(t*0.2+{phase}))'"
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


def visual_graph(
    visual: str, seed: int, *, width: int = CLIP_WIDTH, height: int = CLIP_HEIGHT, fps: int = CLIP_FPS
) -> str:
    """The lavfi filtergraph that draws `visual`; ProviderError if there is no such recipe."""
    recipe = VISUALS.get(visual)
    if recipe is None:
        raise ProviderError(f"unknown visual {visual!r}; known: {', '.join(sorted(VISUALS))}")
    low_w, low_h = width // 4, height // 4
    sky_h = max(16, height * 34 // 100 // 16 * 16)
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
        sky_h=sky_h,
        sea_h=height - sky_h,
        lsky_h=sky_h // 4,
        lsea_h=(height - sky_h) // 4,
        ground_h=height * 30 // 100 // 2 * 2,
        step=max(2, round(max(width, height) / 960)) // 2 * 2,
        r=fps,
        seed=seed,
        phase=f"{(seed % 10_000) / 100:.2f}",
    )


def _frames(duration_s: float, fps: int) -> int:
    return max(1, round(duration_s * fps))


class ProceduralClips(Closing):
    """ClipGenerator that draws each scene's visual with FFmpeg, offline, at `width` x `height`."""

    name = "stub"

    def __init__(self, width: int = CLIP_WIDTH, height: int = CLIP_HEIGHT, fps: int = CLIP_FPS):
        if width < 64 or height < 64 or width % 4 or height % 4:
            raise ProviderError(
                f"procedural clips: size {width}x{height}; each side must be a multiple of 4, at least 64"
            )
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
                raise ProviderError(f"video {script.video_id}, scene {index}: duration {scene.duration_s} s")
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
            info = verify_complete(path, f"the clip at {path}", expected_frames=frames)
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
        graph = visual_graph(
            scene.visual, _seed(script.video_id, index), width=self.width, height=self.height, fps=self.fps
        )
        with atomic_output(path) as temp_path:
            run_ffmpeg(
                [
                    "-f",
                    "lavfi",
                    "-i",
                    graph,
                    "-frames:v",
                    str(frames),
                    "-an",
                    "-c:v",
                    "libx264",
                    "-preset",
                    CLIP_PRESET,
                    "-crf",
                    str(CLIP_CRF),
                    "-pix_fmt",
                    "yuv420p",
                    "-r",
                    str(self.fps),
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    f"file:{temp_path.resolve()}",
                ],
                f"video {script.video_id}: drawing scene {index} ({scene.visual}) into {path}",
            )
            info = verify_complete(
                temp_path,
                f"video {script.video_id}: scene {index} ({scene.visual}) drawn into {path}",
                expected_frames=frames,
            )
        return Clip(
            path=path, duration_s=info.duration_s, width=info.width or self.width, height=info.height or self.height
        )
