"""Stock footage from Pexels and Pixabay (``VIDEO_GEN_PROVIDER=pexels`` | ``pixabay``), one found video per
scene.

A scene is searched by its keywords (else the content words of its prompt): all of them together
first, then each alone. Of the videos found, the first not used by the channel within its recent
window (``window_days``) and not already used by the video is taken, in its best rendition: portrait
first, then one whose short side reaches ``min_short_side`` (the smallest such), else the largest.
It is downloaded to ``scene_NN.mp4`` atomically and must read through as a video. Each use is
recorded in the durable state store (namespace ``stock_clips``) with its date, so the channel's
later videos pass it over; each clip's ``credit`` holds the provider, clip id, page URL, author and
licence for the credit line. A retried video keeps the clip it found before.

Both APIs' limits are kept: search answers are cached for a day in the state store (Pixabay's terms
require it), the rate-limit headers are read on every answer, and a provider that says its allowance
is spent is not asked again until it resets: the adapter waits when that is at most ``max_wait_s``
away, else the scene fails with ``RateLimited`` (a ``NoMatch``: a chain asks its next provider).
An empty search is a ``NoMatch`` naming the keywords. A rejected key is a hard error; the key is
redacted from every error and, for Pixabay, which takes it in the query string, from HTTP logs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore, load_record, save_record
from shorts_assets.core.types import Clip, Script
from shorts_assets.providers.clips.chain import NoMatch, check_scene, generate_scenes, scene_path
from shorts_assets.providers.clips.terms import scene_terms
from shorts_assets.providers.media import atomic_output, verify_complete
from shorts_assets.providers.net.clients import api_http_client
from shorts_assets.providers.net.http import REDACTED, HttpClient, RetryPolicy, Verdict, default_classify

logger = logging.getLogger(__name__)

PEXELS_BASE_URL = "https://api.pexels.com"
PIXABAY_BASE_URL = "https://pixabay.com/api"

NAMESPACE = "stock_clips"  # "<channel>:<provider>:<clip id>" -> last use; "<channel>:<video>:<scene>" -> choice
SEARCH_CACHE = "stock_search"
LIMITS = "stock_limits"

STOCK_RETRY = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=30.0, timeout=httpx.Timeout(120.0, connect=10.0))

_KEY_QUERY = re.compile(r"([?&]key=)[^&\s\"']+")


class _KeyQueryFilter(logging.Filter):
    """Redacts a ``key=`` query parameter (Pixabay's API key) from httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _KEY_QUERY.sub(r"\1" + REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("httpx").addFilter(_KeyQueryFilter())


class RateLimited(NoMatch):
    """The provider's request allowance is spent for now; nothing was sent."""


@dataclass(frozen=True)
class Rendition:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Found:
    """One video a search found."""

    clip_id: str
    page_url: str
    author: str
    author_url: str
    renditions: tuple[Rendition, ...]


def _rank(rendition: Rendition, min_short_side: int) -> tuple[bool, bool, int]:
    big = min(rendition.width, rendition.height) >= min_short_side
    area = rendition.width * rendition.height
    return (rendition.height <= rendition.width, not big, area if big else -area)


def best_rendition(renditions: Sequence[Rendition], min_short_side: int = 1080) -> Rendition | None:
    """Portrait first; then the smallest whose short side reaches ``min_short_side``, else the largest."""
    usable = [r for r in renditions if r.url and r.width > 0 and r.height > 0]
    return min(usable, key=lambda r: _rank(r, min_short_side)) if usable else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class StockClips(Closing):
    """What Pexels and Pixabay share (see the module docstring); subclasses search and read limits."""

    name = "stock"
    licence = ""
    per_page = 30
    PER_PAGE: tuple[int, int] = (1, 80)  # what the API accepts

    def __init__(
        self,
        *,
        api_key: str,
        channel: str,
        state: StateStore,
        base_url: str,
        window_days: int = 30,
        min_short_side: int = 1080,
        max_pages: int = 2,
        per_page: int | None = None,
        max_wait_s: float = 60.0,
        cache_hours: float = 24.0,
        clock: Callable[[], datetime] = utc_now,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ProviderError(f"{self.name}: no API key")
        if window_days < 0:
            raise ValueError(f"{self.name}: window_days must not be negative, got {window_days}")
        if per_page is not None:
            low, high = self.PER_PAGE
            if not low <= per_page <= high:
                raise ValueError(f"{self.name}: per_page must be {low} to {high}, got {per_page}")
            self.per_page = per_page
        self.channel = channel
        self.state = state
        self.base_url = base_url.rstrip("/")
        self.window_days = window_days
        self.min_short_side = min_short_side
        self.max_pages = max(1, max_pages)
        self.max_wait_s = max_wait_s
        self.cache_hours = cache_hours
        self.clock = clock
        self.sleep = sleep
        self.api_key = api_key
        self.http: HttpClient = api_http_client(
            self.name, api_key, http_client=http_client, transport=transport, retry=retry or STOCK_RETRY, sleep=sleep
        )
        # Limits are the key's, whichever channel uses it; the key itself is never stored.
        self._limits_key = f"{self.name}:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # --- what each API does differently ---------------------------------------------------------------

    def _request(self, query: str, page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The search's URL, parameters and headers."""
        raise NotImplementedError

    def _parse(self, payload: Any, page: int, what: str) -> tuple[list[Found], bool]:
        """The videos of one answer, and whether there is a next page."""
        raise NotImplementedError

    def _note_limits(self, response: httpx.Response) -> None:
        """Read the rate-limit headers of an answer."""

    def _after_429(self, response: httpx.Response) -> tuple[float, str]:
        """How long to stay away after a 429, and why."""
        raise NotImplementedError

    # --- rate limits ------------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock().timestamp()

    def _blocked_until(self) -> tuple[float, str]:
        record = load_record(self.state, LIMITS, self._limits_key, "until")
        if record is None:
            return 0.0, ""
        return float(record["until"]), str(record.get("why", ""))

    def _block(self, until: float, why: str) -> None:
        save_record(self.state, LIMITS, self._limits_key, {"until": until, "why": why})

    def _keep_to_limits(self, what: str) -> None:
        """Wait out a spent allowance when it resets soon enough; else refuse before sending."""
        until, why = self._blocked_until()
        wait = until - self._now()
        if wait <= 0:
            return
        if wait > self.max_wait_s:
            resets = datetime.fromtimestamp(until, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise RateLimited(f"{what}: {self.name} is not asked again until {resets}: {why}")
        logger.warning("%s: %s: waiting %.1f s for the rate limit to reset (%s)", what, self.name, wait, why)
        self.sleep(wait)
        self.state.delete(LIMITS, self._limits_key)

    def _classify(self, response: httpx.Response) -> Verdict:
        if response.status_code == 429:
            return Verdict.FAIL  # handled here, from the provider's own headers
        return default_classify(response)

    def _get(
        self, url: str, what: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        for _ in range(3):
            self._keep_to_limits(what)
            response = self.http.request(
                "GET", url, what=what, params=params, headers=headers, classify=self._classify, accept=(429,)
            )
            if response.status_code != 429:
                self._note_limits(response)
                return response
            wait, why = self._after_429(response)
            self._block(self._now() + wait, why)
        raise RateLimited(f"{what}: {self.name} kept answering 429 Too Many Requests after waiting as it asked")

    # --- searching --------------------------------------------------------------------------------------

    def _search(self, query: str, page: int, what: str) -> tuple[list[Found], bool]:
        """One page of results, from the day's cache when it holds them."""
        normalised = " ".join(query.lower().split())
        digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:24]  # keys stay short, queries may not
        cache_key = f"{self.name}:{digest}:{page}:{self.per_page}"
        cached = load_record(self.state, SEARCH_CACHE, cache_key, "at")
        now = self._now()
        if cached is not None and now - float(cached["at"]) < self.cache_hours * 3600:
            return self._parse(cached.get("payload"), page, what)
        url, params, headers = self._request(query, page)
        response = self._get(url, f"{what}: searching {self.name} for {query!r}", params, headers)
        payload = self.http.json(response, f"{what}: searching {self.name} for {query!r}")
        found = self._parse(payload, page, what)
        save_record(self.state, SEARCH_CACHE, cache_key, {"at": now, "payload": payload})
        return found

    # --- the channel's record of used clips ---------------------------------------------------------

    def _use_key(self, clip_id: str) -> str:
        return f"{self.channel}:{self.name}:{clip_id}"

    def _choice_key(self, video_id: str, index: int) -> str:
        return f"{self.channel}:{video_id}:{index}"

    def used_recently(self, clip_id: str, video_id: str) -> bool:
        """Whether another video of the channel used this clip within the window."""
        record = load_record(self.state, NAMESPACE, self._use_key(clip_id), "date")
        if record is None or record.get("video_id") == video_id:
            return False
        try:
            used_on = datetime.fromisoformat(str(record["date"])).date()
        except ValueError:
            return False
        return (self.clock().astimezone(timezone.utc).date() - used_on).days < self.window_days

    def _remember(self, script: Script, index: int, clip: Clip, terms: tuple[str, ...]) -> None:
        day = self.clock().astimezone(timezone.utc).date().isoformat()
        clip_id = clip.credit["clip_id"]
        save_record(
            self.state, NAMESPACE, self._use_key(clip_id), {"date": day, "video_id": script.video_id, "scene": index}
        )
        save_record(
            self.state,
            NAMESPACE,
            self._choice_key(script.video_id, index),
            {"clip_id": clip_id, "terms": list(terms), "credit": dict(clip.credit)},
        )

    def _resumed(self, script: Script, index: int, path: Path, terms: tuple[str, ...]) -> Clip | None:
        """The clip an earlier attempt of this video found for this scene, if it is still in place."""
        record = load_record(self.state, NAMESPACE, self._choice_key(script.video_id, index), "clip_id")
        if record is None or record.get("terms") != list(terms) or not path.is_file():
            return None
        credit = record.get("credit")
        if not isinstance(credit, dict) or credit.get("provider") != self.name:
            return None
        try:
            info = verify_complete(path, f"the clip at {path}")
        except ProviderError:
            return None
        if not info.has_video or not info.width or not info.height:
            return None
        return Clip(path, info.duration_s, info.width, info.height, {str(k): str(v) for k, v in credit.items()})

    # --- the seam -------------------------------------------------------------------------------------

    def generate(self, script: Script, out_dir: Path) -> list[Clip]:
        return generate_scenes(self, script, out_dir)

    def scene_clip(self, script: Script, index: int, out_dir: Path, earlier: Sequence[Clip] = ()) -> Clip:
        check_scene(script, index)
        what = f"video {script.video_id}, scene {index}"
        terms = scene_terms(script.scenes[index - 1])
        if not terms:
            raise NoMatch(f"{what}: the scene has no keywords and no words in its prompt to search {self.name} by")
        path = scene_path(out_dir, index, ".mp4")
        with self._lock:
            resumed = self._resumed(script, index, path, terms)
            if resumed is not None:
                return resumed
            taken = {c.credit.get("clip_id") for c in earlier if c.credit.get("provider") == self.name}
            queries = list(dict.fromkeys([" ".join(terms), *terms]))
            found = passed = 0
            for query in queries:
                for page in range(1, self.max_pages + 1):
                    videos, more = self._search(query, page, what)
                    found += len(videos)
                    for video in videos:
                        rendition = best_rendition(video.renditions, self.min_short_side)
                        if rendition is None:
                            continue
                        if video.clip_id in taken or self.used_recently(video.clip_id, script.video_id):
                            passed += 1
                            continue
                        clip = self._download(what, path, video, rendition)
                        self._remember(script, index, clip, terms)
                        return clip
                    if not more:
                        break
        keywords = ", ".join(terms)
        if not found:
            raise NoMatch(f"{what}: {self.name} found no video for the keywords {keywords}")
        raise NoMatch(
            f"{what}: none of the {found} videos {self.name} found for the keywords {keywords} can be used: "
            f"{passed} of them were used by channel {self.channel!r} in the last {self.window_days} days or by this "
            "video, the others have no downloadable rendition"
        )

    def _download(self, what: str, path: Path, video: Found, rendition: Rendition) -> Clip:
        """The rendition at ``path``, whole and readable, or nothing there at all."""
        doing = f"{what}: downloading {self.name} video {video.clip_id}"
        with atomic_output(path) as temp:
            response = self.http.request("GET", rendition.url, what=doing)  # the file URL needs no key
            temp.write_bytes(response.content)
            try:
                info = verify_complete(temp, doing)
            except ProviderError as exc:
                raise ProviderError(
                    self.http.redact(f"{doing}: the file is not a whole video ({rendition.url}): {exc}")
                ) from None
            if not info.has_video or not info.width or not info.height:
                raise ProviderError(self.http.redact(f"{doing}: the file holds no video ({rendition.url})"))
        credit = {
            "provider": self.name,
            "clip_id": video.clip_id,
            "source_url": video.page_url,
            "author": video.author,
            "author_url": video.author_url,
            "licence": self.licence,
        }
        logger.info("%s: %s video %s by %s (%s)", what, self.name, video.clip_id, video.author, video.page_url)
        return Clip(path, info.duration_s, info.width, info.height, credit)


class PexelsClips(StockClips):
    """Pexels video search (``GET /videos/search``, the raw key in ``Authorization``)."""

    name = "pexels"
    licence = "Pexels License (free to use; credit appreciated: Video by <author> on Pexels)"
    ORIENTATIONS = ("portrait", "landscape", "square")
    # Pexels sends no Retry-After on a 429, and its hourly and monthly limits look alike there.
    BACKOFF_AFTER_429_S = 3600.0

    def __init__(self, *, base_url: str = PEXELS_BASE_URL, orientation: str = "portrait", locale: str = "", **kwargs):
        if orientation not in self.ORIENTATIONS:
            raise ValueError(f"pexels: orientation {orientation!r} is not one of {', '.join(self.ORIENTATIONS)}")
        self.orientation = orientation
        self.locale = locale
        super().__init__(base_url=base_url, **kwargs)

    def _request(self, query: str, page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        params: dict[str, Any] = {
            "query": query,
            "orientation": self.orientation,
            "page": page,
            "per_page": self.per_page,
        }
        if self.locale:
            params["locale"] = self.locale
        return f"{self.base_url}/videos/search", params, {"Authorization": self.api_key}

    def _parse(self, payload: Any, page: int, what: str) -> tuple[list[Found], bool]:
        videos = payload.get("videos") if isinstance(payload, dict) else None
        if not isinstance(videos, list):
            raise self.http.error(f"{what}: the search answer holds no videos list")
        found = []
        for video in videos:
            if not isinstance(video, dict) or video.get("id") is None:
                continue
            user = video.get("user") if isinstance(video.get("user"), dict) else {}
            renditions = tuple(
                Rendition(str(f.get("link") or ""), _int(f.get("width")), _int(f.get("height")))
                for f in video.get("video_files") or []
                if isinstance(f, dict) and f.get("quality") != "hls" and f.get("file_type", "video/mp4") == "video/mp4"
            )
            found.append(
                Found(
                    str(video["id"]),
                    str(video.get("url") or ""),
                    str(user.get("name") or ""),
                    str(user.get("url") or ""),
                    renditions,
                )
            )
        return found, bool(payload.get("next_page"))

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
            limit = response.headers.get("x-ratelimit-limit", "?")
            self._block(float(reset), f"its allowance of {limit} requests is used up until it resets")

    def _after_429(self, response: httpx.Response) -> tuple[float, str]:
        return self.BACKOFF_AFTER_429_S, "it answered 429 Too Many Requests (200 requests an hour, or the month's)"


class PixabayClips(StockClips):
    """Pixabay video search (``GET /api/videos/``, the key as the ``key`` parameter)."""

    name = "pixabay"
    licence = "Pixabay Content License (free to use; attribution not required)"
    per_page = 20
    PER_PAGE = (3, 200)
    VIDEO_TYPES = ("all", "film", "animation")
    QUERY_CHARS = 100
    RENDITIONS = ("large", "medium", "small", "tiny")

    def __init__(self, *, base_url: str = PIXABAY_BASE_URL, video_type: str = "film", lang: str = "en", **kwargs):
        if video_type not in self.VIDEO_TYPES:
            raise ValueError(f"pixabay: video_type {video_type!r} is not one of {', '.join(self.VIDEO_TYPES)}")
        self.video_type = video_type
        self.lang = lang
        super().__init__(base_url=base_url, **kwargs)

    def _request(self, query: str, page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        params = {
            "key": self.api_key,
            "q": query[: self.QUERY_CHARS],
            "lang": self.lang,
            "video_type": self.video_type,
            "safesearch": "true",
            "page": page,
            "per_page": self.per_page,
        }
        return f"{self.base_url}/videos/", params, {}

    def _parse(self, payload: Any, page: int, what: str) -> tuple[list[Found], bool]:
        hits = payload.get("hits") if isinstance(payload, dict) else None
        if not isinstance(hits, list):
            raise self.http.error(f"{what}: the search answer holds no hits list")
        found = []
        for hit in hits:
            if not isinstance(hit, dict) or hit.get("id") is None:
                continue
            files = hit.get("videos") if isinstance(hit.get("videos"), dict) else {}
            renditions = tuple(
                Rendition(str(files[n].get("url") or ""), _int(files[n].get("width")), _int(files[n].get("height")))
                for n in self.RENDITIONS
                if isinstance(files.get(n), dict)
            )
            user, user_id = str(hit.get("user") or ""), hit.get("user_id")
            author_url = f"https://pixabay.com/users/{user}-{user_id}/" if user and user_id is not None else ""
            found.append(Found(str(hit["id"]), str(hit.get("pageURL") or ""), user, author_url, renditions))
        # Pixabay cannot filter by orientation: videos with a portrait rendition first, else in its order.
        found.sort(key=lambda f: not any(r.url and r.height > r.width for r in f.renditions))
        total = _int(payload.get("totalHits"))
        return found, page * self.per_page < total

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and remaining.strip() == "0":
            wait = float(reset) if reset and reset.strip().isdigit() else 60.0
            self._block(self._now() + wait, "its 100 requests a minute are used up")

    def _after_429(self, response: httpx.Response) -> tuple[float, str]:
        reset = response.headers.get("x-ratelimit-reset")
        wait = float(reset) if reset and reset.strip().isdigit() else 60.0
        return wait, "it answered 429: API rate limit exceeded (100 requests a minute)"


def credit_line(clips: Sequence[Clip]) -> str:
    """A credit line for a video's description: each stock clip's author, provider and page, once."""
    parts = []
    for clip in clips:
        credit = clip.credit
        if credit.get("provider") in (PexelsClips.name, PixabayClips.name) and credit.get("author"):
            parts.append(f"Video by {credit['author']} on {credit['provider'].capitalize()} ({credit['source_url']})")
    return "; ".join(dict.fromkeys(parts))
