"""Adapters to the outside world, one folder per seam, chosen by name through the registry. No Dagster, no settings."""
