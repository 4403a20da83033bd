"""Where events go and how they are signed and retried, read from the environment once.

``SHORTS_WEBHOOK_URLS`` (comma-separated) receive every event; a channel's ``webhook_urls`` receive
its own events as well. A URL may carry a format prefix, ``slack+https://…`` or ``discord+https://…``;
an unprefixed one gets ``SHORTS_WEBHOOK_FORMAT`` (``json`` by default). Every request is signed with
``SHORTS_WEBHOOK_SECRET``, which must be set whenever any URL is. A URL is never repeated in an error
or stored: only its scheme and host (``target``) and a digest (``id``) are, because a chat webhook's
URL is its credential.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.notify.formats import FORMATS

URLS_VARIABLE = "SHORTS_WEBHOOK_URLS"
SECRET_VARIABLE = "SHORTS_WEBHOOK_SECRET"
FORMAT_VARIABLE = "SHORTS_WEBHOOK_FORMAT"
TIMEOUT_VARIABLE = "SHORTS_WEBHOOK_TIMEOUT_S"
GIVE_UP_VARIABLE = "SHORTS_WEBHOOK_GIVE_UP_HOURS"
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Destination:
    url: str = field(repr=False)  # may hold a token (Slack, Discord): never logged, stored or raised
    format: str

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.format}+{self.url}".encode()).hexdigest()[:32]

    @property
    def target(self) -> str:
        """What people may see of the URL: the format, the scheme and the host."""
        parts = urlsplit(self.url)
        return f"{self.format} {parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


@dataclass(frozen=True)
class WebhookConfig:
    destinations: tuple[Destination, ...] = ()  # every event
    channel_destinations: Mapping[str, tuple[Destination, ...]] = field(default_factory=dict)
    secret: str = field(default="", repr=False)
    timeout_s: float = 5.0
    give_up_after: timedelta = timedelta(hours=72)

    def for_channel(self, channel: str | None) -> tuple[Destination, ...]:
        """The destinations of an event of `channel` (the global ones, then the channel's own), once each."""
        chosen = {d.id: d for d in (*self.destinations, *self.channel_destinations.get(channel or "", ()))}
        return tuple(chosen.values())

    def by_id(self) -> dict[str, Destination]:
        everything = [*self.destinations, *(d for ds in self.channel_destinations.values() for d in ds)]
        return {d.id: d for d in everything}

    @property
    def enabled(self) -> bool:
        return bool(self.by_id())


def _redacted(raw: str) -> str:
    """Enough of a bad URL to find it, none of its credentials, path or query (where tokens live)."""
    parts = re.split(r"[/?#]", raw.split("://", 1)[-1], maxsplit=1)
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    host = parts[0].rsplit("@", 1)[-1]  # never a user name or password
    return f"{scheme + '://' if scheme else ''}{host[:60]}{'/…' if len(parts) > 1 else ''}"


def parse_destination(raw: str, where: str, default_format: str) -> Destination:
    value = raw.strip()
    fmt = default_format
    prefix, plus, rest = value.partition("+")
    if plus and prefix in FORMATS and rest.startswith(("http://", "https://")):
        fmt, value = prefix, rest
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or not port_ok
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or re.search(r"\s", value)
    ):
        raise ConfigError(
            f"{where}: {_redacted(value)!r} is not an http(s) URL (optionally prefixed slack+ or discord+)"
        )
    return Destination(value, fmt)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be a number from {low:g} to {high:g}")
    return value


def load_config(env: Mapping[str, str], channels: Iterable[ChannelConfig] = ()) -> WebhookConfig:
    """Read and validate the webhook variables and the channels' webhook_urls; ConfigError names the bad one."""
    default_format = env.get(FORMAT_VARIABLE, "").strip() or "json"
    if default_format not in FORMATS:
        raise ConfigError(f"{FORMAT_VARIABLE}={default_format!r} is not one of: {', '.join(FORMATS)}")
    everywhere = tuple(
        parse_destination(raw, URLS_VARIABLE, default_format)
        for raw in env.get(URLS_VARIABLE, "").split(",")
        if raw.strip()
    )
    per_channel = {
        channel.name: tuple(
            parse_destination(raw, f"channel {channel.name}: webhook_urls", default_format)
            for raw in channel.webhook_urls
        )
        for channel in channels
        if channel.webhook_urls
    }
    secret = env.get(SECRET_VARIABLE, "").strip()
    if (everywhere or per_channel) and not secret:
        named = URLS_VARIABLE if everywhere else f"the webhook_urls of channel {next(iter(per_channel))}"
        raise ConfigError(
            f"{named} set without {SECRET_VARIABLE}: every webhook is signed with it "
            f"(any random string of {MIN_SECRET_LENGTH} or more characters, shared with the receiver)"
        )
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{SECRET_VARIABLE} must be at least {MIN_SECRET_LENGTH} characters long")
    return WebhookConfig(
        destinations=everywhere,
        channel_destinations=per_channel,
        secret=secret,
        timeout_s=_number(env, TIMEOUT_VARIABLE, 5.0, 0.1, 120.0),
        give_up_after=timedelta(hours=_number(env, GIVE_UP_VARIABLE, 72.0, 0.01, 24.0 * 90)),
    )
