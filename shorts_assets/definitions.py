"""The code location: every asset, job, schedule, sensor and resource of the loop.

Built when Dagster loads the location, not when a module is imported: a bad variable stops the
location from loading with an error that names it.
"""

import dagster as dg

from shorts_assets.defs.location import build_definitions
from shorts_assets.settings import current_settings


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(current_settings())
