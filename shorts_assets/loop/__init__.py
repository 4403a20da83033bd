"""The loop's stage services, called by the Dagster assets and by the benchmarks alike: batches, scripting, publishing, learning."""
