"""The package's two wings stay apart: only the Dagster wing imports dagster, providers know neither
settings nor the Dagster wing, and no seam reaches into another (the contracts in pyproject.toml)."""

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shorts_assets"
DAGSTER_IMPORT = re.compile(r"^\s*(import dagster\b|from dagster\b)", re.MULTILINE)


def test_only_the_dagster_wing_imports_dagster():
    importing = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if DAGSTER_IMPORT.search(path.read_text(encoding="utf-8"))
    )
    outside = [p for p in importing if not p.startswith("shorts_assets/defs/") and p != "shorts_assets/definitions.py"]
    assert importing, "the Dagster wing imports dagster"
    assert outside == []


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
