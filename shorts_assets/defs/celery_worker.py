"""The Celery app a worker serves: `celery -A shorts_assets.defs.celery_worker worker`.

It reads the same SHORTS_CELERY_* variables as the executor, so a worker and the runs that send it
steps agree on the broker, the backend and the queues without a config file holding the broker's URL.
A worker listens on the step queue and the render queue unless `-Q` names one of them. Each step it
receives loads the code location (`shorts_assets.definitions`) in the worker, with the worker's
environment: give every worker the code location's variables (the databases, SHORTS_DATA_DIR on the
shared store, the providers and their keys) and DAGSTER_HOME with the instance's dagster.yaml.
"""

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task
from kombu import Exchange, Queue

from shorts_assets.defs.execution import WORKER_CONFIG, load_execution_settings

settings = load_execution_settings()
app = make_app(
    CeleryExecutor.for_cli(
        broker=settings.broker_url,
        backend=settings.backend_url,
        config_source={"task_default_queue": settings.queue, **WORKER_CONFIG},
    ).app_args()
)
# Each queue bound to an exchange of its own name (steps are sent to a queue by name, not an exchange).
app.conf.task_queues = [
    Queue(name, Exchange(name), routing_key=name) for name in (settings.queue, settings.render_queue)
]
execute_plan = create_task(app)
