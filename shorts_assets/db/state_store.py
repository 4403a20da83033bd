"""The platform adapters' durable state, kept in the application database (a StateStore).

Upload session URIs, remote ids, rotated refresh tokens and quota survive the process, so a run
that dies mid-upload resumes instead of posting again.

Credentials (the namespaces in ``CREDENTIAL_NAMESPACES``) are sealed with SHORTS_SECRET_KEY before
they are written, so a dump of the database holds no live credential. Without a key they are kept in
this store's memory only and never written: the offline loop has none, and the settings refuse a real
publisher without a key, because a rotated refresh token must outlive the process.
"""

from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.schema import provider_state, quota_usage
from shorts_assets.db.secrets import VARIABLE, SecretKeys, is_sealed, missing_key
from shorts_assets.db.store import Store, utcnow
from shorts_assets.providers.net.http import StoredToken
from shorts_assets.providers.platforms.tiktok import REFRESH_NS as TIKTOK_REFRESH_TOKENS
from shorts_assets.providers.platforms.youtube import SESSION_NS as YOUTUBE_UPLOAD_SESSIONS

CREDENTIAL_NAMESPACES = frozenset(
    {
        StoredToken.NAMESPACE,  # access tokens, Instagram's 60-day token among them
        TIKTOK_REFRESH_TOKENS,  # TikTok rotates the refresh token on every use
        YOUTUBE_UPLOAD_SESSIONS,  # a resumable session URI lets its holder upload into the session
    }
)


class DatabaseStateStore:
    def __init__(self, store: Store, secrets: SecretKeys | None = None):
        self.engine = store.engine
        self._secrets = secrets
        self._lock = threading.Lock()
        self._unsealed: dict[tuple[str, str], str] = {}  # credentials held without a key

    def get(self, namespace: str, key: str) -> str | None:
        if namespace in CREDENTIAL_NAMESPACES and self._secrets is None:
            with self._lock:
                if (namespace, key) in self._unsealed:
                    return self._unsealed[(namespace, key)]
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(provider_state.c.value).where(
                    provider_state.c.namespace == namespace, provider_state.c.key == key
                )
            ).scalar_one_or_none()
        if stored is None or namespace not in CREDENTIAL_NAMESPACES:
            return stored
        where = f"provider_state {namespace} {key!r}"
        if self._secrets is None:
            if is_sealed(stored):
                raise missing_key(where)
            return stored  # written in plaintext before credentials were sealed
        return self._secrets.open(stored, where)

    def put(self, namespace: str, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"state values are strings, got {type(value).__name__}")
        if namespace in CREDENTIAL_NAMESPACES:
            if self._secrets is None:
                with self._lock:
                    self._unsealed[(namespace, key)] = value
                return
            value = self._secrets.seal(value)
        where = (provider_state.c.namespace == namespace, provider_state.c.key == key)
        with self.engine.begin() as conn:
            updated = conn.execute(provider_state.update().where(*where).values(value=value, updated_at=utcnow()))
            if not updated.rowcount:
                conn.execute(
                    provider_state.insert().values(namespace=namespace, key=key, value=value, updated_at=utcnow())
                )

    def put_new(self, namespace: str, key: str, value: str) -> bool:
        """One INSERT: of several processes claiming one key, the primary key lets exactly one in."""
        if namespace in CREDENTIAL_NAMESPACES:
            raise ValueError(f"{namespace} holds credentials, which are never claimed")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    provider_state.insert().values(namespace=namespace, key=key, value=value, updated_at=utcnow())
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._unsealed.pop((namespace, key), None)
        with self.engine.begin() as conn:
            conn.execute(
                provider_state.delete().where(provider_state.c.namespace == namespace, provider_state.c.key == key)
            )

    def rotate(self) -> int:
        """Re-seal every stored credential with the first key (plaintext ones too); return how many.

        One transaction: a value no key opens stops the rotation with nothing changed.
        """
        if self._secrets is None:
            raise ConfigError(f"{VARIABLE} is not set: there is no key to seal the stored credentials with")
        columns = (provider_state.c.namespace, provider_state.c.key, provider_state.c.value)
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(*columns).where(provider_state.c.namespace.in_(sorted(CREDENTIAL_NAMESPACES)))
            ).all()
            for namespace, key, stored in rows:
                resealed = self._secrets.reseal(stored, f"provider_state {namespace} {key!r}")
                conn.execute(
                    provider_state.update()
                    .where(provider_state.c.namespace == namespace, provider_state.c.key == key)
                    .values(value=resealed, updated_at=utcnow())
                )
        return len(rows)

    def add_quota(self, api: str, day: date, units: int) -> int:
        """Add units to what `api` used on `day` and return the new total, in one transaction."""
        where = (quota_usage.c.api == api, quota_usage.c.day == day)
        with self.engine.begin() as conn:
            updated = conn.execute(quota_usage.update().where(*where).values(units=quota_usage.c.units + units))
            if not updated.rowcount:
                conn.execute(quota_usage.insert().values(api=api, day=day, units=units))
            return int(conn.execute(sa.select(quota_usage.c.units).where(*where)).scalar_one())

    def quota_used(self, api: str, day: date) -> int:
        with self.engine.connect() as conn:
            used = conn.execute(
                sa.select(quota_usage.c.units).where(quota_usage.c.api == api, quota_usage.c.day == day)
            ).scalar_one_or_none()
        return int(used or 0)
