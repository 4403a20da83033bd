"""Builds the real platform adapters for a channel from the environment, and one audience over them.

Credentials are read from the environment when an adapter is built, never stored in configuration:
a channel's own variables (YOUTUBE_REFRESH_TOKEN_COOKING) win over the default account's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Mapping, Sequence

from shorts_assets.providers.http import PartialResultError
from shorts_assets.providers.interfaces import Audience, Comment, MetricSnapshot, ProviderError, Publication
from shorts_assets.providers.state import StateStore
from shorts_assets.settings import credential


def _secret(env: Mapping[str, str], name: str, channel: str) -> str:
    value = credential(env, name, channel)
    if not value:
        raise ProviderError(f"{name} is not set for channel {channel}")
    return value


def _urls(base_urls: Mapping[str, str], **variables: str) -> dict[str, str]:
    """Constructor keyword -> URL, for the variables that are set."""
    return {keyword: base_urls[variable] for keyword, variable in variables.items() if variable in base_urls}


def build_adapter(
    platform: str, channel: str, env: Mapping[str, str], state: StateStore, base_urls: Mapping[str, str]
) -> Audience:
    """The real adapter of one platform for one channel's account (publisher, analytics and comments)."""
    if platform == "youtube":
        from shorts_assets.providers.youtube import YouTubeAdapter

        return YouTubeAdapter(
            client_id=_secret(env, "YOUTUBE_CLIENT_ID", channel),
            client_secret=_secret(env, "YOUTUBE_CLIENT_SECRET", channel),
            refresh_token=_secret(env, "YOUTUBE_REFRESH_TOKEN", channel),
            state=state,
            account=channel,
            **_urls(
                base_urls,
                api_base_url="YOUTUBE_API_BASE_URL",
                upload_base_url="YOUTUBE_UPLOAD_BASE_URL",
                analytics_base_url="YOUTUBE_ANALYTICS_BASE_URL",
                token_url="GOOGLE_OAUTH_TOKEN_URL",
            ),
        )
    if platform == "tiktok":
        from shorts_assets.providers.tiktok import TikTokAdapter

        return TikTokAdapter(
            client_key=_secret(env, "TIKTOK_CLIENT_KEY", channel),
            client_secret=_secret(env, "TIKTOK_CLIENT_SECRET", channel),
            refresh_token=_secret(env, "TIKTOK_REFRESH_TOKEN", channel),
            state=state,
            account=channel,
            **_urls(base_urls, api_base_url="TIKTOK_API_BASE_URL"),
        )
    if platform == "instagram":
        from shorts_assets.providers.instagram import InstagramAdapter

        return InstagramAdapter(
            user_id=_secret(env, "INSTAGRAM_USER_ID", channel),
            access_token=_secret(env, "INSTAGRAM_ACCESS_TOKEN", channel),
            state=state,
            account=channel,
            **_urls(
                base_urls,
                graph_base_url="INSTAGRAM_GRAPH_BASE_URL",
                rupload_base_url="INSTAGRAM_RUPLOAD_BASE_URL",
                token_refresh_url="INSTAGRAM_TOKEN_REFRESH_URL",
            ),
        )
    raise ProviderError(f"unknown platform {platform!r}")


class PlatformAudience:
    """Analytics and comments from several platforms' adapters, each asked about its own posts."""

    def __init__(self, adapters: Mapping[str, Audience]):
        self.adapters = dict(adapters)

    def _adapter(self, platform: str) -> Audience:
        if platform not in self.adapters:
            raise ProviderError(f"no {platform} account is configured for reading metrics")
        return self.adapters[platform]

    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]:
        grouped: dict[str, list[Publication]] = defaultdict(list)
        for publication in publications:
            grouped[publication.platform].append(publication)
        snapshots: list[MetricSnapshot] = []
        errors = []
        for platform, group in grouped.items():
            try:
                snapshots += self._adapter(platform).fetch_metrics(group, now)
            except PartialResultError as exc:
                snapshots += exc.snapshots
                errors.append(str(exc))
            except ProviderError as exc:
                errors.append(str(exc))
        if errors:
            raise PartialResultError("; ".join(errors), snapshots)
        return snapshots

    def supports_comments(self, platform: str) -> bool:
        return platform in self.adapters and self.adapters[platform].supports_comments(platform)

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]:
        return self._adapter(publication.platform).fetch_comments(publication, now)
