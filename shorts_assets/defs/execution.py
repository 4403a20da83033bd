"""Where a run's steps execute, chosen by SHORTS_EXECUTOR: in the run's own process (the default), in
subprocesses of it, in Celery workers (dagster-celery) that may be other processes on other machines,
or on Kubernetes, one Job per step (dagster-k8s, the `k8s` extra).

The broker, the result backend and the queue come from the environment the code location was loaded
with; the executor takes no run config beside retries, so a run cannot point its steps at another
broker. Before a run submits its first step the broker and the backend are reached once, so a broker
that is down fails the run at once with a message naming the service and the variable, instead of
leaving it waiting on a queue no one reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import dagster as dg

from shorts_assets.core.errors import ConfigError

EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "shorts"
# Steps in this pool render on the worker's own cores; they go to a queue of their own, which each
# machine serves with one render at a time (see deploy/README.md).
RENDER_QUEUE_SUFFIX = "_render"
BROKER_CHECK_TIMEOUT_S = 5.0
# A worker holds only the step it is running: an early-acknowledged step waiting behind a long render
# would sit in a busy worker while another stands idle. A step whose worker died unacknowledged goes
# back on the queue for another worker; rerunning it is safe, as a retry is (see retries.py).
WORKER_CONFIG = {"task_acks_late": True, "task_reject_on_worker_lost": True, "worker_prefetch_multiplier": 1}


@dataclass(frozen=True)
class ExecutionSettings:
    executor: str
    broker_url: str
    backend_url: str
    queue: str
    max_concurrent: int

    @property
    def render_queue(self) -> str:
        return f"{self.queue}{RENDER_QUEUE_SUFFIX}"


def _redis_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"{name} must be a redis:// or rediss:// URL with a host, e.g. {DEFAULT_BROKER}")
    return value


def load_execution_settings(env: Mapping[str, str] | None = None) -> ExecutionSettings:
    """Read and validate SHORTS_EXECUTOR, SHORTS_CELERY_BROKER_URL, SHORTS_CELERY_BACKEND_URL,
    SHORTS_CELERY_QUEUE and SHORTS_MAX_CONCURRENT_STEPS."""
    env = os.environ if env is None else env
    executor = env.get("SHORTS_EXECUTOR", "").strip() or "in_process"
    if executor not in EXECUTORS:
        raise ConfigError(f"SHORTS_EXECUTOR={executor!r} is not one of {', '.join(EXECUTORS)}")
    broker = _redis_url(env, "SHORTS_CELERY_BROKER_URL", DEFAULT_BROKER)
    backend = _redis_url(env, "SHORTS_CELERY_BACKEND_URL", broker)
    queue = env.get("SHORTS_CELERY_QUEUE", "").strip() or DEFAULT_QUEUE
    if not queue.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"SHORTS_CELERY_QUEUE={queue!r} may hold only letters, digits, '-' and '_'")
    raw = env.get("SHORTS_MAX_CONCURRENT_STEPS", "").strip() or "2"
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise ConfigError(f"SHORTS_MAX_CONCURRENT_STEPS={raw!r} must be a whole number from 1 to 64")
    return ExecutionSettings(executor, broker, backend, queue, int(raw))


def redacted(url: str) -> str:
    """The URL without its password, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class BrokerUnreachable(Exception):
    """The Celery broker or result backend could not be reached; the message names the variable."""


def check_celery_services(app, settings: ExecutionSettings) -> None:
    """Reach the broker and the result backend once, or raise BrokerUnreachable naming the variable."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CHECK_TIMEOUT_S)
    except Exception as exc:
        raise BrokerUnreachable(
            f"the Celery broker (Redis) at {redacted(settings.broker_url)} is unreachable ({type(exc).__name__}); "
            "start it or point SHORTS_CELERY_BROKER_URL at it"
        ) from None
    try:
        app.backend.client.ping()
    except Exception as exc:
        raise BrokerUnreachable(
            f"the Celery result backend (Redis) at {redacted(settings.backend_url)} is unreachable "
            f"({type(exc).__name__}); start it or point SHORTS_CELERY_BACKEND_URL at it"
        ) from None


def _celery_executor_def(settings: ExecutionSettings) -> dg.ExecutorDefinition:
    # dagster-celery is imported only when it is the chosen executor: the default needs no broker.
    from dagster._core.execution.retries import RetryMode, get_retries_config
    from dagster_celery.core_execution_loop import core_celery_execution_loop
    from dagster_celery.executor import CeleryExecutor, _submit_task
    from dagster_celery.make_app import make_app

    def submit(app, plan_context, step, queue, priority, known_state):
        if step.pool == "render":
            queue = settings.render_queue
        return _submit_task(app, plan_context, step, queue, priority, known_state)

    class CheckedCeleryExecutor(CeleryExecutor):
        def execute(self, plan_context, execution_plan):
            check_celery_services(make_app(self.app_args()), settings)
            return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=submit)

    @dg.executor(
        name="celery",
        config_schema={"retries": get_retries_config()},
        requirements=dg.multiple_process_executor_requirements(),
    )
    def shorts_celery_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
        return CheckedCeleryExecutor(
            retries=RetryMode.from_config(init_context.executor_config["retries"]),
            broker=settings.broker_url,
            backend=settings.backend_url,
            config_source={"task_default_queue": settings.queue, **WORKER_CONFIG},
        )

    return shorts_celery_executor


def build_executor(settings: ExecutionSettings | None = None) -> dg.ExecutorDefinition:
    """The executor SHORTS_EXECUTOR names, configured from the environment."""
    settings = settings or load_execution_settings()
    if settings.executor == "celery":
        return _celery_executor_def(settings)
    if settings.executor == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError:
            raise ConfigError(
                "SHORTS_EXECUTOR=k8s needs dagster-k8s: install the project with its k8s extra, pip install '.[k8s]'"
            ) from None
        # Configured here, so that run config cannot change the image, the namespace or the env of a step.
        return k8s_job_executor.configured({}, name="k8s")
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": settings.max_concurrent})
    return dg.in_process_executor
