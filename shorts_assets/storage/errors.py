"""The one error of the media store: it cannot be used as configured (naming the variable, never a secret)."""

from __future__ import annotations

from shorts_assets.core.errors import ProviderError


class MediaStoreError(ProviderError):
    """The media store is unreachable, not writable, refuses the credentials or is misconfigured.

    The message names the variable or service to fix (SHORTS_MEDIA_ROOT, SHORTS_MEDIA_S3_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and never carries a credential.
    """
