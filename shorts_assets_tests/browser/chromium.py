"""The system's Chromium, which Playwright drives instead of a browser it would download.

Without it the browser test is skipped with the reason, except under `CI=true`, where the missing
browser is a failure: CI installs Chromium, so the test must run there.
"""

from __future__ import annotations

import os
import shutil

import pytest

# The names Debian's and Ubuntu's packages give the browser.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
LAUNCH_ARGS = [
    # The test often runs as root in a container, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    # A container's /dev/shm is small; Chromium's renderer crashes when it fills up.
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    """The path of the system's Chromium, or None when it is not installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The system's Chromium; skips the test without it, and fails it under CI=true."""
    path = find_chromium()
    if path is None:
        reason = (
            "Chromium is not installed (no `chromium` or `chromium-browser` on PATH); "
            "install it from the system's packages: apt-get install chromium"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    return path
