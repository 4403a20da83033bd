# One image for every service of the deployment: webserver, daemon, code server and Celery workers
# (see deploy/README.md). ffmpeg and the offline speech come from Python wheels, as on a laptop.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/shorts-engine

# The package first, so that a change to the deployment files does not reinstall it.
COPY pyproject.toml README.md LICENSE ./
COPY shorts_assets ./shorts_assets
RUN pip install .

COPY definitions.py workspace.yaml ./
COPY deploy ./deploy

# The instance (PostgreSQL storage, run queue, pools) and the shared data volume.
ENV DAGSTER_HOME=/opt/dagster/home \
    SHORTS_DATA_DIR=/data \
    SHORTS_DAGSTER_STORAGE_DIR=/data/dagster
RUN mkdir -p "$DAGSTER_HOME" /data \
    && cp deploy/celery/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && useradd --create-home --uid 10001 shorts \
    && chown -R shorts "$DAGSTER_HOME" /data
USER shorts

EXPOSE 3000 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "shorts_assets.definitions"]
