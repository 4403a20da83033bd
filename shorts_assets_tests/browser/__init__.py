"""What the browser test of the Dagster UI stands on: the system's Chromium, `dagster dev` and the UI's pages."""
