"""The errors every wing raises and catches: configuration, provider, budget and batch failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shorts_assets.core.types import MetricSnapshot


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


class ProviderError(Exception):
    """One video's work failed at a provider; the message names the input. Siblings carry on."""


class NeedsManual(ProviderError):
    """Retrying cannot help until a person acts (a revoked login, an upload the platform rejected)."""


class BudgetExhausted(ProviderError):
    """A daily quota, publishing cap or spam limit is used up; retrying now cannot succeed."""


class AuthRevoked(NeedsManual):
    """The account's grant was revoked or expired; someone has to log in again."""


class OutcomeUnknown(ProviderError):
    """A call that may have changed remote state lost its answer; read the state before re-sending."""


class PartialResultError(ProviderError):
    """Some batches were read before a failure; ``snapshots`` holds what was read."""

    def __init__(self, message: str, snapshots: list[MetricSnapshot]) -> None:
        super().__init__(message)
        self.snapshots = snapshots


class BatchFailed(Exception):
    """A whole batch failed at a stage (every video, or nothing could start); not one bad video."""

    def __init__(self, message: str, metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.metadata = dict(metadata or {})
