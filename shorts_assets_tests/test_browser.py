"""The Dagster UI, seen in a real browser: the system's Chromium, driven by Playwright, against
`dagster dev` on a temporary instance into which `dagster job execute` has run one batch of the loop.

Specified: the asset graph shows the loop's groups; the `renders` page of that partition shows the
short's thumbnail, and the browser actually decoded it; the `strategy` page shows its plot, decoded
too; and a backfill of two dates, launched from the UI's Materialize dialog, is run by the daemon to
completion, every asset of the loop materialised for both dates.

Each step's screenshot is kept under $SHORTS_TEST_ARTEFACTS (default `test-artefacts/browser/` at
the top of the repository), with `dagster dev`'s output as `dagster-dev.log`. Without Chromium the
test is skipped with the reason, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from shorts_assets_tests.browser.backfills import read_backfill, wait_for_backfill
from shorts_assets_tests.browser.chromium import LAUNCH_ARGS, require_chromium
from shorts_assets_tests.browser.dagster_dev import ROOT, DagsterDev, run_loop, temporary_instance
from shorts_assets_tests.browser.ui import (
    STEP_TIMEOUT_MS,
    Screenshots,
    inline_images,
    launch_backfill,
    open_markdown_entry,
    open_partition,
    skip_welcome_dialog,
    wait_for_loaded_image,
)

pytestmark = pytest.mark.slow

CHANNEL = "demo"
TODAY = datetime.now(timezone.utc).date()
# The batch the CLI makes; then the backfill's two dates, yesterday and today, so that the strategies
# the backfill must bring up to date (those whose trailing window holds a backfilled date) are
# only these two: a later date has no partition yet.
SEED_DAY = (TODAY - timedelta(days=2)).isoformat()
BACKFILL_DAYS = ((TODAY - timedelta(days=1)).isoformat(), TODAY.isoformat())
START_DATE = (TODAY - timedelta(days=6)).isoformat()
LOOP_GROUPS = {"create", "publish", "learn"}


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def artefacts() -> Path:
    folder = Path(os.environ.get("SHORTS_TEST_ARTEFACTS") or ROOT / "test-artefacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def shots(artefacts: Path) -> Screenshots:
    screenshots = Screenshots(artefacts)
    screenshots.clear()
    return screenshots


@pytest.fixture(scope="module")
def dagster_ui(chromium: str, artefacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    """`dagster dev` on a fresh instance holding one run of the loop for the demo channel's SEED_DAY."""
    instance = temporary_instance(
        tmp_path_factory.mktemp("browser"),
        channels=[{"name": CHANNEL, "videos_per_day": 1, "audience_seed": 5}],
        start_date=START_DATE,
        RENDER_PROFILE="draft",
    )
    result = run_loop(instance, CHANNEL, SEED_DAY)
    assert result.returncode == 0, result.stderr[-3000:]
    with DagsterDev(instance, artefacts / "dagster-dev.log") as dev:
        yield dev


@pytest.fixture(scope="module")
def browser(chromium: str):
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, dagster_ui: DagsterDev):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = context.new_page()
    if dagster_ui.graphql("query { shouldShowNux }")["shouldShowNux"]:
        skip_welcome_dialog(opened, dagster_ui.url)
    yield opened
    context.close()


def test_the_asset_graph_shows_the_loops_groups(page, dagster_ui, shots):
    page.goto(f"{dagster_ui.url}/asset-groups")
    # The global graph draws each group, collapsed, as a box named after it.
    group_nodes = page.locator("svg foreignObject.group")
    group_nodes.first.wait_for()
    expect(group_nodes.get_by_text("fetching statuses")).to_have_count(0)
    shown = {name for name in LOOP_GROUPS if group_nodes.get_by_text(name, exact=True).count()}
    shots.save(page, "01-asset-graph")
    assert shown == LOOP_GROUPS, f"the graph's group boxes read {group_nodes.all_text_contents()}"


def test_the_renders_partition_page_shows_the_shorts_thumbnail_loaded(page, dagster_ui, shots):
    open_partition(page, dagster_ui.url, "renders", CHANNEL, SEED_DAY)
    previews = open_markdown_entry(page, "previews")
    thumbnail = inline_images(previews, alt="thumbnail").first
    image = wait_for_loaded_image(page, thumbnail)
    shots.save(page, "02-renders-thumbnail")
    assert image.natural_width > 0, f"the thumbnail did not load: {image}"
    # A vertical short's thumbnail is taller than it is wide.
    assert image.natural_height > image.natural_width, image


def test_the_strategy_page_shows_its_plot_loaded(page, dagster_ui, shots):
    open_partition(page, dagster_ui.url, "strategy", CHANNEL, SEED_DAY)
    plot = inline_images(open_markdown_entry(page, "plot")).first
    image = wait_for_loaded_image(page, plot)
    shots.save(page, "03-strategy-plot")
    assert image.natural_width > 0, f"the strategy plot did not load: {image}"


def test_a_backfill_of_two_dates_launched_from_the_ui_completes(page, dagster_ui, shots):
    backfill_id = launch_backfill(page, dagster_ui.url, CHANNEL, *BACKFILL_DAYS, shots)
    expected = sorted(f"{CHANNEL}|{day}" for day in BACKFILL_DAYS)
    launched = read_backfill(dagster_ui, backfill_id)
    assert launched.is_asset_backfill
    assert launched.root_partitions == expected

    backfill = wait_for_backfill(dagster_ui, backfill_id)
    page.goto(f"{dagster_ui.url}/runs/b/{backfill_id}")
    # The page is drawn once it lists the backfill's partitions.
    for key in expected:
        page.get_by_text(key, exact=True).first.wait_for()
    shots.save(page, "06-backfill-finished")

    assert backfill.status == "COMPLETED_SUCCESS", (
        f"backfill {backfill_id} ended {backfill.status} ({backfill.error}); runs {backfill.run_summary()}"
    )
    assert backfill.runs and all(r["status"] == "SUCCESS" for r in backfill.runs), backfill.run_summary()
    assert backfill.assets["renders"].targeted == len(BACKFILL_DAYS), backfill.assets["renders"]
    assert {"scripts", "metrics", "strategy"} <= set(backfill.assets)
    for progress in backfill.assets.values():
        assert progress.materialized == progress.targeted and progress.failed == 0, progress
    made = {p.parent.parent.name for p in dagster_ui.instance.data_dir.glob(f"media/{CHANNEL}/*/*/short.mp4")}
    assert made >= set(BACKFILL_DAYS), f"shorts were made for {sorted(made)}"
    # And the page says so beside its "Status" label.
    status = page.get_by_text("Status", exact=True).first.locator("xpath=..")
    expect(status).to_have_text(re.compile(r"Status\s*Succeeded"))
