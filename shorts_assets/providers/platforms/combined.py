"""One audience over several real platforms' adapters: each asked about its own posts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from shorts_assets.core.errors import PartialResultError, ProviderError
from shorts_assets.core.protocols import Audience, Closing
from shorts_assets.core.types import Comment, MetricSnapshot, Publication


class PlatformAudience(Closing):
    """Analytics and comments from several platforms' adapters, each asked about its own posts."""

    name = "platforms"

    def __init__(self, adapters: Mapping[str, Audience]):
        self.adapters = dict(adapters)

    def close(self) -> None:
        for adapter in self.adapters.values():
            adapter.close()

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
