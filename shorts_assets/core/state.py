"""Durable state the platform adapters keep between calls and across process restarts.

Adapters write what they must not forget the moment they learn it: upload session URIs, remote ids,
access tokens and their expiry, rotated refresh tokens, publish-in-progress markers, a revoked-grant
marker and API quota used per day. ``StateStore`` is the seam; ``MemoryStateStore`` keeps it in a
dict for tests and single-process use.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any, Protocol


class StateStore(Protocol):
    def get(self, namespace: str, key: str) -> str | None: ...

    def put(self, namespace: str, key: str, value: str) -> None: ...

    def put_new(self, namespace: str, key: str, value: str) -> bool:
        """Store ``value`` only if nothing is stored under ``key``, atomically across processes;
        True if this call stored it (a claim), False if a value was there already."""

    def delete(self, namespace: str, key: str) -> None: ...

    def add_quota(self, api: str, day: date, units: int) -> int:
        """Add ``units`` to the quota ``api`` used on ``day``; return the new total."""

    def quota_used(self, api: str, day: date) -> int: ...


def load_record(state: StateStore, namespace: str, key: str, required: str) -> dict[str, Any] | None:
    """The JSON object kept under ``key``, or None when it is missing, unreadable or lacks ``required``."""
    raw = state.get(namespace, key)
    if not raw:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get(required) else None


def save_record(state: StateStore, namespace: str, key: str, record: dict[str, Any]) -> None:
    state.put(namespace, key, json.dumps(record))


class MemoryStateStore:
    """A thread-safe, in-memory ``StateStore``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], str] = {}
        self._quota: dict[tuple[str, date], int] = {}

    def get(self, namespace: str, key: str) -> str | None:
        with self._lock:
            return self._values.get((namespace, key))

    def put(self, namespace: str, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"state values are strings, got {type(value).__name__}")
        with self._lock:
            self._values[(namespace, key)] = value

    def put_new(self, namespace: str, key: str, value: str) -> bool:
        with self._lock:
            if (namespace, key) in self._values:
                return False
            self._values[(namespace, key)] = value
            return True

    def delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._values.pop((namespace, key), None)

    def add_quota(self, api: str, day: date, units: int) -> int:
        with self._lock:
            total = self._quota.get((api, day), 0) + int(units)
            self._quota[(api, day)] = total
            return total

    def quota_used(self, api: str, day: date) -> int:
        with self._lock:
            return self._quota.get((api, day), 0)

    def namespace(self, namespace: str) -> dict[str, str]:
        """Every key and value held under ``namespace`` (for inspection)."""
        with self._lock:
            return {k: v for (ns, k), v in self._values.items() if ns == namespace}
