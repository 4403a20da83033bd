"""Where a channel's credentials come from: its own variable if it has one, else the default account's."""

from __future__ import annotations

from collections.abc import Mapping


def channel_variable(name: str, channel: str) -> str:
    """The per-channel form of a credential variable: YOUTUBE_REFRESH_TOKEN_COOKING for channel cooking."""
    return f"{name}_{channel.upper().replace('-', '_')}"


def credential(env: Mapping[str, str], name: str, channel: str) -> str | None:
    """A channel's own credential if it has one, else the default account's."""
    return env.get(channel_variable(name, channel)) or env.get(name) or None
