"""Re-seal the stored credentials with the first key of SHORTS_SECRET_KEY.

Rotating a key: set SHORTS_SECRET_KEY=<new key>,<old key>, run ``python -m shorts_assets.db.rotate``
with the code location's environment, then drop the old key. Credentials written in plaintext before
sealing existed are sealed by the same command.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.settings import load_settings


def rotate(env: Mapping[str, str] | None = None) -> int:
    """Re-seal every stored credential of the configured database; return how many there were."""
    settings = load_settings(env)
    return DatabaseStateStore(Store(settings.database_url), settings.secret_keys).rotate()


def main() -> int:
    try:
        count = rotate()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"re-sealed {count} stored credential{'s' if count != 1 else ''} with the first key of SHORTS_SECRET_KEY")
    return 0


if __name__ == "__main__":
    sys.exit(main())
