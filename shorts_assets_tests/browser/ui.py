"""What a person does in the Dagster UI, done through Playwright: open a partition's page, show a
markdown entry of its metadata and look at its images, launch a backfill from the Materialize
dialog, and keep a screenshot of each step.

Elements are found by what a person reads on the page (button names, placeholders, headings), so a
restyled UI still passes and a changed workflow fails with the step that broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

# The UI can be slow to answer on a busy two-core machine while runs render.
STEP_TIMEOUT_MS = 60_000


def skip_welcome_dialog(page: Page, base_url: str) -> None:
    """Open the UI and skip the "Join the Dagster community" dialog a fresh instance shows once."""
    page.goto(base_url)
    dialog = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    dialog.get_by_role("button", name="Skip").click(timeout=STEP_TIMEOUT_MS)
    expect(dialog).to_be_hidden(timeout=STEP_TIMEOUT_MS)


@dataclass
class Screenshots:
    """Screenshots of a test's steps, saved as numbered PNG files (`01-asset-graph.png`) in a folder."""

    folder: Path

    def clear(self) -> None:
        """Remove the screenshots of an earlier run, so the folder shows only this one's."""
        for old in self.folder.glob("[0-9][0-9]-*.png"):
            old.unlink()

    def save(self, page: Page, name: str) -> Path:
        """The page as it is now, as `<name>.png`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        # Animations run to their end first, so a dialog fading in or out is not caught half-drawn.
        page.screenshot(path=str(path), animations="disabled")
        return path


def open_partition(page: Page, base_url: str, asset: str, channel: str, day: str) -> None:
    """The asset's Partitions tab, with the channel's date picked from the date list as a person would."""
    page.goto(f"{base_url}/assets/{quote(asset)}?view=partitions")
    page.get_by_placeholder("Filter by channel").fill(channel)
    page.get_by_placeholder("Filter by date").fill(day)
    page.get_by_text(day, exact=True).first.click()
    expect(page.get_by_text(f"{channel}|{day}", exact=True).first).to_be_visible(timeout=STEP_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(re.escape(quote(f"{channel}|{day}", safe=""))), timeout=STEP_TIMEOUT_MS)


@dataclass(frozen=True)
class LoadedImage:
    """An image as the browser decoded it."""

    alt: str
    natural_width: int
    natural_height: int


def wait_for_loaded_image(page: Page, image: Locator) -> LoadedImage:
    """The image once the browser has finished with it; natural size 0 means it failed to decode."""
    image.scroll_into_view_if_needed(timeout=STEP_TIMEOUT_MS)
    handle = image.element_handle(timeout=STEP_TIMEOUT_MS)
    page.wait_for_function("img => img.complete", arg=handle, timeout=STEP_TIMEOUT_MS)
    alt, width, height = handle.evaluate("img => [img.alt, img.naturalWidth, img.naturalHeight]")
    return LoadedImage(alt=alt, natural_width=width, natural_height=height)


def open_markdown_entry(page: Page, key: str) -> Locator:
    """Click "[Show Markdown]" in the metadata row named `key`; returns the dialog that renders it."""
    row = page.locator("tr").filter(has=page.get_by_text(key, exact=True)).filter(has_text="[Show Markdown]")
    row.first.get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has_text=key)
    expect(dialog).to_be_visible(timeout=STEP_TIMEOUT_MS)
    return dialog


def inline_images(scope: Locator, alt: str = "") -> Locator:
    """Images in `scope` whose source is a `data:` URL (inlined markdown images), optionally only those
    whose alt text contains `alt`."""
    selector = 'img[src^="data:image/"]'
    return scope.locator(f'{selector}[alt*="{alt}" i]' if alt else selector)


def launch_backfill(page: Page, base_url: str, channel: str, first_day: str, last_day: str, shots: Screenshots) -> str:
    """From the global asset graph: Materialize all…, the channel, a range of dates, Launch backfill.

    Returns the id of the backfill the UI says it created.
    """
    page.goto(f"{base_url}/asset-groups")
    page.get_by_role("button", name="Materialize all…").click(timeout=STEP_TIMEOUT_MS)
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog).to_be_visible(timeout=STEP_TIMEOUT_MS)
    # The channel dimension is a static list: open it and tick the channel.
    dialog.get_by_text("Select a partition or create one").first.click()
    page.get_by_role("menuitem").filter(has_text=re.compile(rf"^\s*{re.escape(channel)}")).click()
    page.keyboard.press("Escape")
    # The date dimension takes ranges in the UI's own syntax.
    dates = dialog.get_by_placeholder(re.compile(r"^ex: "))
    dates.fill(f"[{first_day}...{last_day}]")
    dates.press("Enter")
    expect(dialog.get_by_text("2 partitions", exact=True)).to_be_visible(timeout=STEP_TIMEOUT_MS)
    shots.save(page, "04-backfill-dialog")
    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"Created backfill \w+"))
    expect(toast).to_be_visible(timeout=STEP_TIMEOUT_MS)
    shots.save(page, "05-backfill-launched")
    found = re.search(r"Created backfill (\w+)", toast.inner_text())
    assert found, f"the toast does not name the backfill: {toast.inner_text()!r}"
    return found.group(1)
