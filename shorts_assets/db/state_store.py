"""The platform adapters' durable state, kept in the application database (a StateStore).

Upload session URIs, remote ids, rotated refresh tokens and quota survive the process, so a run
that dies mid-upload resumes instead of posting again.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from shorts_assets.db.schema import provider_state, quota_usage
from shorts_assets.db.store import Store, utcnow


class DatabaseStateStore:
    def __init__(self, store: Store):
        self.engine = store.engine

    def get(self, namespace: str, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(provider_state.c.value).where(
                    provider_state.c.namespace == namespace, provider_state.c.key == key
                )
            ).scalar_one_or_none()

    def put(self, namespace: str, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"state values are strings, got {type(value).__name__}")
        where = (provider_state.c.namespace == namespace, provider_state.c.key == key)
        with self.engine.begin() as conn:
            updated = conn.execute(provider_state.update().where(*where).values(value=value, updated_at=utcnow()))
            if not updated.rowcount:
                conn.execute(
                    provider_state.insert().values(namespace=namespace, key=key, value=value, updated_at=utcnow())
                )

    def delete(self, namespace: str, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                provider_state.delete().where(provider_state.c.namespace == namespace, provider_state.c.key == key)
            )

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
