"""shorts-engine: a closed-loop engine for short-form video.

Two wings: the engine (core, providers, learning, db, loop), plain Python with no Dagster import, and
the Dagster wing (defs), the only code that imports dagster."""
