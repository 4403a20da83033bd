"""Entry point for `dagster ... -f definitions.py`: the shorts-engine code location."""

from shorts_assets.definitions import defs

__all__ = ["defs"]
