"""The Dagster wing: resources, partitions, assets, checks, jobs, schedules and sensors. The only code that imports dagster."""
