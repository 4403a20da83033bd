"""Where steps execute: SHORTS_EXECUTOR picks the executor, the Celery one reads its broker from the
environment only, and a broker that is down fails a run at once, naming the service and the variable."""

import socket

import dagster as dg
import pytest
from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app

from shorts_assets.core.errors import ConfigError
from shorts_assets.defs.execution import (
    BrokerUnreachable,
    build_executor,
    check_celery_services,
    load_execution_settings,
    redacted,
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_default_runs_steps_in_the_runs_own_process():
    settings = load_execution_settings({})
    assert settings.executor == "in_process"
    assert build_executor(settings) is dg.in_process_executor


def test_the_celery_executor_takes_broker_backend_and_queue_from_the_environment():
    settings = load_execution_settings(
        {
            "SHORTS_EXECUTOR": "celery",
            "SHORTS_CELERY_BROKER_URL": "redis://broker.internal:6379/3",
            "SHORTS_CELERY_QUEUE": "agency",
        }
    )
    assert (settings.broker_url, settings.backend_url) == ("redis://broker.internal:6379/3",) * 2
    assert (settings.queue, settings.render_queue) == ("agency", "agency_render")
    executor_def = build_executor(settings)
    assert executor_def.name == "celery"
    # Run config can choose retries, never the broker: a run cannot send its steps elsewhere.
    assert set(executor_def.config_schema.config_type.fields) == {"retries"}


def test_multiprocess_runs_a_bounded_number_of_steps_at_once():
    executor_def = build_executor(load_execution_settings({"SHORTS_EXECUTOR": "multiprocess"}))
    assert executor_def.name == "multiprocess"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHORTS_EXECUTOR": "kubernetes"}, "SHORTS_EXECUTOR"),
        ({"SHORTS_CELERY_BROKER_URL": "amqp://guest@localhost//"}, "SHORTS_CELERY_BROKER_URL"),
        ({"SHORTS_CELERY_BACKEND_URL": "redis://"}, "SHORTS_CELERY_BACKEND_URL"),
        ({"SHORTS_CELERY_QUEUE": "a queue"}, "SHORTS_CELERY_QUEUE"),
        ({"SHORTS_MAX_CONCURRENT_STEPS": "0"}, "SHORTS_MAX_CONCURRENT_STEPS"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_execution_settings(env)


def test_a_password_never_reaches_a_message():
    assert redacted("redis://:s3cret@redis.internal:6380/1") == "redis://:***@redis.internal:6380/1"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_a_broker_that_is_down_is_reported_by_service_and_variable():
    url = f"redis://:s3cret@127.0.0.1:{closed_port()}/0"
    settings = load_execution_settings({"SHORTS_EXECUTOR": "celery", "SHORTS_CELERY_BROKER_URL": url})
    app = make_app(CeleryExecutor.for_cli(broker=settings.broker_url, backend=settings.backend_url).app_args())
    with pytest.raises(BrokerUnreachable) as raised:
        check_celery_services(app, settings)
    message = str(raised.value)
    assert "Celery broker (Redis)" in message and "SHORTS_CELERY_BROKER_URL" in message
    assert "s3cret" not in message


def test_a_backend_that_is_down_is_reported_by_its_own_variable():
    settings = load_execution_settings(
        {
            "SHORTS_EXECUTOR": "celery",
            "SHORTS_CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "SHORTS_CELERY_BACKEND_URL": f"redis://127.0.0.1:{closed_port()}/0",
        }
    )
    app = make_app(CeleryExecutor.for_cli(broker=settings.broker_url, backend=settings.backend_url).app_args())
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:
        pytest.fail("this test needs the Redis server at 127.0.0.1:6379")
    with pytest.raises(BrokerUnreachable, match="SHORTS_CELERY_BACKEND_URL"):
        check_celery_services(app, settings)


def test_kubernetes_runs_each_step_as_a_job_or_names_the_missing_extra():
    settings = load_execution_settings({"SHORTS_EXECUTOR": "k8s"})
    try:
        import dagster_k8s  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"SHORTS_EXECUTOR=k8s needs dagster-k8s.*\.\[k8s\]"):
            build_executor(settings)
        return
    executor_def = build_executor(settings)
    assert executor_def.name == "k8s"
    assert not executor_def.config_schema.config_type.fields, "run config cannot change a step's Job"


def test_a_worker_serves_the_step_and_render_queues_holding_only_the_step_it_runs():
    from shorts_assets.defs import celery_worker

    settings = celery_worker.settings
    assert [q.name for q in celery_worker.app.conf.task_queues] == [settings.queue, settings.render_queue]
    assert all(q.exchange.name == q.name == q.routing_key for q in celery_worker.app.conf.task_queues)
    assert celery_worker.app.conf.task_acks_late and celery_worker.app.conf.worker_prefetch_multiplier == 1
    assert "execute_plan" in celery_worker.app.tasks
