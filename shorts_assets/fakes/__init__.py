"""Fake servers that speak the external APIs' real protocols on real sockets and inject their failures: for tests, benchmarks and offline trials."""
