"""One published cohort for the learn assets' tests: a day's single video made with the draft profile,
posted to the simulated platforms, with metrics and comments read back once."""

from datetime import date

import dagster as dg
import pytest

from shorts_assets.defs.location import loop_assets
from shorts_assets.defs.resources import RendererResource
from shorts_assets_tests.conftest import loop_resources

COHORT_DAY = date(2026, 11, 18)


@pytest.fixture(scope="session")
def published_cohort(tmp_path_factory):
    """The loop up to metrics and comments for one partition; the run's result and its database."""
    root = tmp_path_factory.mktemp("cohort")
    url = f"sqlite:///{root / 'shorts.db'}"
    resources = loop_resources(root / "data", url, videos_per_day=1)
    resources["renderer"] = RendererResource(profile="draft")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            loop_assets,
            selection=dg.AssetSelection.all() - dg.AssetSelection.assets("strategy"),
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": COHORT_DAY.isoformat()}),
            resources=resources,
            instance=instance,
        )
        assert result.success
        yield {"result": result, "url": url}


def metadata_of(result: dg.ExecuteInProcessResult, asset: str):
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return event.materialization.metadata
